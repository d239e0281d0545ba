// The local control plane's ObjectSource: what the manifest directory holds, plus objects the
// control plane itself maintains — Pods registered by `tsmesh run` and the EndpointSlices the
// local endpoints controller derives. Controllers read it exactly as they read the API server.
import { setMaxListeners } from 'node:events';
import {
  kindKey,
  ObjectStore,
  objectKey,
  type DirectoryObjectSource,
  type KubeObject,
  type ObjectSnapshot,
  type ObjectSource,
  type ResourceKind,
  type WatchKindOptions,
} from '@tsmesh/kube';
import { firstOf } from '@tsmesh/kube';

interface KindState {
  readonly store: ObjectStore;
  directory: ObjectSnapshot | undefined;
  overlay: ReadonlyMap<string, KubeObject>;
}

export class LocalObjectSource implements ObjectSource {
  readonly #directory: DirectoryObjectSource;
  readonly #kinds = new Map<string, KindState>();
  readonly #controller = new AbortController();
  readonly #pumps: Promise<void>[] = [];
  #resourceVersion = 0;

  constructor(directory: DirectoryObjectSource) {
    this.#directory = directory;
    // One listener per watched kind.
    setMaxListeners(0, this.#controller.signal);
  }

  get directory(): DirectoryObjectSource {
    return this.#directory;
  }

  #state(kind: ResourceKind): KindState {
    const key = kindKey(kind);
    let state = this.#kinds.get(key);
    if (!state) {
      state = { store: new ObjectStore(kind), directory: undefined, overlay: new Map() };
      this.#kinds.set(key, state);
      const current = state;
      const signal = this.#controller.signal;
      this.#pumps.push(
        (async () => {
          try {
            for await (const snapshot of this.#directory.watch(kind, { signal })) {
              current.directory = snapshot;
              this.#publish(current);
            }
          } catch {
            // The directory source is closed; so is this one.
          }
        })(),
      );
    }
    return state;
  }

  #publish(state: KindState): void {
    if (!state.directory?.synced) return;
    const merged = new Map<string, KubeObject>();
    for (const object of state.directory.list()) merged.set(objectKey(object), object);
    // Objects the control plane maintains win over a file defining the same name.
    for (const [key, object] of state.overlay) merged.set(key, object);
    state.store.replaceAll(merged.values());
    state.store.publish();
  }

  /**
   * Replaces the control-plane-maintained objects of a kind. An object keeps its resourceVersion
   * while its content stays the same, as in a cluster.
   */
  setObjects(kind: ResourceKind, objects: readonly KubeObject[]): void {
    const state = this.#state(kind);
    const next = new Map<string, KubeObject>();
    let changed = objects.length !== state.overlay.size;
    for (const object of objects) {
      const key = objectKey(object);
      const before = state.overlay.get(key);
      const bare = stripVersion(object);
      if (before && JSON.stringify(stripVersion(before)) === JSON.stringify(bare)) {
        next.set(key, before);
        continue;
      }
      changed = true;
      next.set(key, {
        ...bare,
        metadata: {
          ...bare.metadata,
          resourceVersion: `local-${++this.#resourceVersion}`,
          creationTimestamp:
            before?.metadata?.creationTimestamp ??
            bare.metadata?.creationTimestamp ??
            new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
        },
      });
    }
    if (!changed) return;
    state.overlay = next;
    this.#publish(state);
  }

  watch<T extends KubeObject = KubeObject>(
    kind: ResourceKind,
    options: WatchKindOptions = {},
  ): AsyncIterable<ObjectSnapshot<T>> {
    return (this.#state(kind).store as unknown as ObjectStore<T>).subscribe(options.signal);
  }

  async snapshot<T extends KubeObject = KubeObject>(
    kind: ResourceKind,
    options: WatchKindOptions = {},
  ): Promise<ObjectSnapshot<T>> {
    const store = this.#state(kind).store as unknown as ObjectStore<T>;
    return (await firstOf(store.subscribe(options.signal))) ?? store.snapshot();
  }

  async close(): Promise<void> {
    this.#controller.abort();
    for (const state of this.#kinds.values()) state.store.close();
    await this.#directory.close();
    await Promise.all(this.#pumps);
  }
}

function stripVersion(object: KubeObject): KubeObject {
  const { resourceVersion: _rv, creationTimestamp: _ct, ...metadata } = object.metadata ?? {};
  return { ...object, metadata };
}
