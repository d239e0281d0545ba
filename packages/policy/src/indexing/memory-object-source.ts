// An ObjectSource held in memory: objects are put and deleted by code (tests, benchmarks, and a
// local control plane that registers workloads itself). Same latest-value snapshots as the others.
import {
  kindKey,
  ObjectStore,
  type KubeObject,
  type ObjectSnapshot,
  type ObjectSource,
  type ResourceKind,
  type WatchKindOptions,
} from '@tsmesh/kube';

export class MemoryObjectSource implements ObjectSource {
  readonly #stores = new Map<string, ObjectStore>();
  #closed = false;

  #store(kind: ResourceKind): ObjectStore {
    const key = kindKey(kind);
    let store = this.#stores.get(key);
    if (!store) {
      store = new ObjectStore(kind);
      store.markSynced();
      store.publish();
      if (this.#closed) store.close();
      this.#stores.set(key, store);
    }
    return store;
  }

  /** Adds or replaces objects of `kind` and publishes one new snapshot. */
  put(kind: ResourceKind, ...objects: KubeObject[]): void {
    const store = this.#store(kind);
    for (const object of objects) store.upsert(structuredClone(object));
    store.publish();
  }

  /** Removes an object; publishes a new snapshot when it existed. */
  delete(kind: ResourceKind, namespace: string | undefined, name: string): boolean {
    const store = this.#store(kind);
    const removed = store.remove(namespace, name);
    if (removed) store.publish();
    return removed;
  }

  watch<T extends KubeObject = KubeObject>(
    kind: ResourceKind,
    options: WatchKindOptions = {},
  ): AsyncIterable<ObjectSnapshot<T>> {
    return this.#store(kind).subscribe(options.signal) as AsyncIterable<ObjectSnapshot<T>>;
  }

  async snapshot<T extends KubeObject = KubeObject>(kind: ResourceKind): Promise<ObjectSnapshot<T>> {
    return this.#store(kind).snapshot() as ObjectSnapshot<T>;
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const store of this.#stores.values()) store.close();
  }
}

export function createMemoryObjectSource(): MemoryObjectSource {
  return new MemoryObjectSource();
}
