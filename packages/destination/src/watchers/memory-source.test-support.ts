// An in-memory ObjectSource for unit tests: put objects, and watchers see new snapshots.
import {
  kindKey,
  ObjectStore,
  type KubeObject,
  type ObjectSnapshot,
  type ObjectSource,
  type ResourceKind,
} from '@tsmesh/kube';

export class MemorySource implements ObjectSource {
  readonly #stores = new Map<string, ObjectStore>();

  store(kind: ResourceKind): ObjectStore {
    let store = this.#stores.get(kindKey(kind));
    if (!store) {
      store = new ObjectStore(kind, { freeze: true });
      store.markSynced();
      store.publish();
      this.#stores.set(kindKey(kind), store);
    }
    return store;
  }

  put(kind: ResourceKind, ...objects: KubeObject[]): void {
    const store = this.store(kind);
    for (const o of objects) store.upsert(structuredClone(o));
    store.publish();
  }

  remove(kind: ResourceKind, namespace: string | undefined, name: string): void {
    const store = this.store(kind);
    store.remove(namespace, name);
    store.publish();
  }

  watch<T extends KubeObject = KubeObject>(kind: ResourceKind, options: { signal?: AbortSignal } = {}) {
    return this.store(kind).subscribe(options.signal) as AsyncIterable<ObjectSnapshot<T>>;
  }

  async snapshot<T extends KubeObject = KubeObject>(kind: ResourceKind) {
    return this.store(kind).snapshot() as ObjectSnapshot<T>;
  }

  async close(): Promise<void> {
    for (const store of this.#stores.values()) store.close();
  }
}
