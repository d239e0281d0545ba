// The local control plane's ObjectSource: what the manifest directory holds, plus objects the
// control plane itself maintains — Pods registered by `tsmesh run` and the EndpointSlices the
// local endpoints controller derives — and the objects compact `kind: Workload` documents expand
// into (workload-form.ts). Controllers read it exactly as they read the API server.
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
import { firstOf, type ManifestError } from '@tsmesh/kube';
import { expandWorkloads, WorkloadKind } from './workload-form.js';

interface KindState {
  readonly store: ObjectStore;
  directory: ObjectSnapshot | undefined;
  /** Objects expanded from Workload documents (a file's own object of the same name wins). */
  expanded: ReadonlyMap<string, KubeObject>;
  overlay: ReadonlyMap<string, KubeObject>;
}

export interface LocalObjectSourceOptions {
  /** Each problem of a Workload document, once per change of the Workloads. */
  readonly onWorkloadError?: (error: ManifestError) => void;
}

export class LocalObjectSource implements ObjectSource {
  readonly #directory: DirectoryObjectSource;
  readonly #kinds = new Map<string, KindState>();
  readonly #controller = new AbortController();
  readonly #pumps: Promise<void>[] = [];
  #resourceVersion = 0;
  #workloadErrors: ManifestError[] = [];
  readonly #options: LocalObjectSourceOptions;

  constructor(directory: DirectoryObjectSource, options: LocalObjectSourceOptions = {}) {
    this.#directory = directory;
    this.#options = options;
    // One listener per watched kind.
    setMaxListeners(0, this.#controller.signal);
    this.#pumps.push(this.#expandWorkloads());
  }

  /** Problems of the Workload documents now in the directory (file, document, field). */
  workloadErrors(): readonly ManifestError[] {
    return this.#workloadErrors;
  }

  async #expandWorkloads(): Promise<void> {
    const signal = this.#controller.signal;
    let reported = new Set<string>();
    try {
      for await (const snapshot of this.#directory.watch(WorkloadKind, { signal })) {
        if (!snapshot.synced) continue;
        const { objects, errors } = expandWorkloads(snapshot.list(), this.#directory.dir);
        this.#workloadErrors = errors;
        const now = new Set(errors.map((e) => `${e.describe()} ${e.field}`));
        for (const e of errors)
          if (!reported.has(`${e.describe()} ${e.field}`)) this.#options.onWorkloadError?.(e);
        reported = now;
        const byKind = new Map<string, { kind: ResourceKind; objects: Map<string, KubeObject> }>();
        for (const { kind, object } of objects) {
          const key = kindKey(kind);
          if (!byKind.has(key)) byKind.set(key, { kind, objects: new Map() });
          byKind.get(key)!.objects.set(objectKey(object), object);
        }
        // Kinds that had expansions before and have none now are emptied too.
        for (const [key, state] of this.#kinds)
          if (!byKind.has(key) && state.expanded.size > 0) {
            state.expanded = new Map();
            this.#publish(state);
          }
        for (const { kind, objects: expanded } of byKind.values()) {
          const state = this.#state(kind);
          const { next, changed } = this.#versioned(state.expanded, expanded.values());
          if (!changed) continue;
          state.expanded = next;
          this.#publish(state);
        }
      }
    } catch {
      // The directory source is closed; so is this one.
    }
  }

  get directory(): DirectoryObjectSource {
    return this.#directory;
  }

  #state(kind: ResourceKind): KindState {
    const key = kindKey(kind);
    let state = this.#kinds.get(key);
    if (!state) {
      state = { store: new ObjectStore(kind), directory: undefined, expanded: new Map(), overlay: new Map() };
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
    for (const [key, object] of state.expanded) merged.set(key, object);
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
    const { next, changed } = this.#versioned(state.overlay, objects);
    if (!changed) return;
    state.overlay = next;
    this.#publish(state);
  }

  /** Objects with server-set fields; one keeps its resourceVersion while its content is unchanged. */
  #versioned(
    before: ReadonlyMap<string, KubeObject>,
    objects: Iterable<KubeObject>,
  ): { next: Map<string, KubeObject>; changed: boolean } {
    const next = new Map<string, KubeObject>();
    let changed = false;
    for (const object of objects) {
      const key = objectKey(object);
      const previous = before.get(key);
      const bare = stripVersion(object);
      if (previous && JSON.stringify(stripVersion(previous)) === JSON.stringify(bare)) {
        next.set(key, previous);
        continue;
      }
      changed = true;
      next.set(key, {
        ...bare,
        metadata: {
          ...bare.metadata,
          resourceVersion: `local-${++this.#resourceVersion}`,
          creationTimestamp:
            previous?.metadata?.creationTimestamp ??
            bare.metadata?.creationTimestamp ??
            new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
        },
      });
    }
    return { next, changed: changed || next.size !== before.size };
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
