// An in-memory set of objects of one kind, indexed by namespace and name, that publishes immutable
// snapshots. Writers (a watch cache, the YAML-directory source) apply changes and then `publish()`;
// readers take `snapshot()` or iterate `subscribe()`, which coalesces to the newest snapshot.
// Snapshots are built lazily, once per published version, and shared by all readers.
import { LatestValue } from '../async/index.js';
import { objectKey, type KubeObject, type ResourceKind } from '../resources/index.js';

/** An immutable view of the objects of one kind at one moment. */
export interface ObjectSnapshot<T extends KubeObject = KubeObject> extends Iterable<T> {
  readonly kind: ResourceKind;
  /** Increases with every published change of the store. */
  readonly version: number;
  /** The API resourceVersion the snapshot reflects (Kubernetes sources only). */
  readonly resourceVersion: string | undefined;
  /** False until the first complete list (or first full read of the files). */
  readonly synced: boolean;
  readonly size: number;
  /** One object; `namespace` undefined or '' for cluster-scoped kinds. */
  get(namespace: string | undefined, name: string): T | undefined;
  /** All objects, or those of one namespace, ordered by namespace then name. */
  list(namespace?: string): readonly T[];
  /** The namespaces that have objects. */
  namespaces(): readonly string[];
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value as Record<string, unknown>)) deepFreeze(child);
  }
  return value;
}

class FrozenSnapshot<T extends KubeObject> implements ObjectSnapshot<T> {
  readonly #byNamespace: ReadonlyMap<string, ReadonlyMap<string, T>>;
  #all: readonly T[] | undefined;

  constructor(
    readonly kind: ResourceKind,
    readonly version: number,
    readonly resourceVersion: string | undefined,
    readonly synced: boolean,
    byNamespace: Map<string, Map<string, T>>,
    readonly size: number,
  ) {
    const copy = new Map<string, ReadonlyMap<string, T>>();
    for (const [ns, objects] of [...byNamespace].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      copy.set(ns, new Map([...objects].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
    }
    this.#byNamespace = copy;
    Object.freeze(this);
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.#byNamespace.get(namespace ?? '')?.get(name);
  }

  list(namespace?: string): readonly T[] {
    if (namespace !== undefined)
      return Object.freeze([...(this.#byNamespace.get(namespace)?.values() ?? [])]);
    if (!this.#all) {
      const all: T[] = [];
      for (const objects of this.#byNamespace.values()) all.push(...objects.values());
      // Cached on first use: a frozen instance can still hold a private lazily-set field.
      this.#all = Object.freeze(all);
    }
    return this.#all;
  }

  namespaces(): readonly string[] {
    return Object.freeze([...this.#byNamespace.keys()]);
  }

  [Symbol.iterator](): Iterator<T> {
    return this.list()[Symbol.iterator]();
  }
}

export interface ObjectStoreOptions {
  /** Deep-freeze stored objects so readers cannot change what other readers see. Default true. */
  freeze?: boolean;
}

export class ObjectStore<T extends KubeObject = KubeObject> {
  readonly kind: ResourceKind;
  readonly #byNamespace = new Map<string, Map<string, T>>();
  readonly #freeze: boolean;
  readonly #published = new LatestValue<number>();
  #size = 0;
  #version = 0;
  #resourceVersion: string | undefined;
  #synced = false;
  #snapshot: FrozenSnapshot<T> | undefined;

  constructor(kind: ResourceKind, options: ObjectStoreOptions = {}) {
    this.kind = kind;
    this.#freeze = options.freeze ?? true;
  }

  get size(): number {
    return this.#size;
  }

  get synced(): boolean {
    return this.#synced;
  }

  get resourceVersion(): string | undefined {
    return this.#resourceVersion;
  }

  set resourceVersion(value: string | undefined) {
    this.#resourceVersion = value;
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.#byNamespace.get(namespace ?? '')?.get(name);
  }

  /** Adds or replaces an object (by namespace/name). */
  upsert(object: T): void {
    const namespace = object.metadata?.namespace ?? '';
    const name = object.metadata?.name ?? '';
    let objects = this.#byNamespace.get(namespace);
    if (!objects) this.#byNamespace.set(namespace, (objects = new Map()));
    if (!objects.has(name)) this.#size++;
    objects.set(name, this.#freeze ? deepFreeze(object) : object);
  }

  /** Removes an object; true if it was there. */
  remove(namespace: string | undefined, name: string): boolean {
    const ns = namespace ?? '';
    const objects = this.#byNamespace.get(ns);
    if (!objects?.delete(name)) return false;
    if (objects.size === 0) this.#byNamespace.delete(ns);
    this.#size--;
    return true;
  }

  /** Replaces everything (after a list) and marks the store synced. */
  replaceAll(objects: Iterable<T>, resourceVersion?: string): void {
    this.#byNamespace.clear();
    this.#size = 0;
    for (const object of objects) this.upsert(object);
    this.#resourceVersion = resourceVersion;
    this.#synced = true;
  }

  /** Marks the store synced without changing it (e.g. an empty directory was read). */
  markSynced(): void {
    this.#synced = true;
  }

  /** Makes the changes so far visible to snapshot readers and wakes subscribers. */
  publish(): void {
    this.#version++;
    this.#snapshot = undefined;
    this.#published.set(this.#version);
  }

  /** The objects as of the last `publish()`. */
  snapshot(): ObjectSnapshot<T> {
    if (!this.#snapshot || this.#snapshot.version !== this.#version) {
      this.#snapshot = new FrozenSnapshot(
        this.kind,
        this.#version,
        this.#resourceVersion,
        this.#synced,
        this.#byNamespace,
        this.#size,
      );
    }
    return this.#snapshot;
  }

  /** The current snapshot (once anything was published), then the newest after each change. */
  async *subscribe(signal?: AbortSignal): AsyncGenerator<ObjectSnapshot<T>> {
    for await (const _version of this.#published.subscribe(signal)) yield this.snapshot();
  }

  /** Ends all subscriptions. */
  close(): void {
    this.#published.close();
  }

  /** Keys (`namespace/name`) of all objects, for diffing. */
  keys(): string[] {
    const out: string[] = [];
    for (const objects of this.#byNamespace.values())
      for (const object of objects.values()) out.push(objectKey(object));
    return out;
  }
}

export interface SnapshotDiff<T extends KubeObject = KubeObject> {
  added: T[];
  updated: { before: T; after: T }[];
  removed: T[];
}

function sameObject(a: KubeObject, b: KubeObject): boolean {
  if (a === b) return true;
  const ra = a.metadata?.resourceVersion;
  const rb = b.metadata?.resourceVersion;
  if (ra !== undefined && rb !== undefined) return ra === rb;
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * What changed between two snapshots of one kind (`before` undefined: everything was added).
 * Objects count as unchanged when they are the same object or have the same resourceVersion.
 */
export function diffSnapshots<T extends KubeObject>(
  before: ObjectSnapshot<T> | undefined,
  after: ObjectSnapshot<T>,
): SnapshotDiff<T> {
  const diff: SnapshotDiff<T> = { added: [], updated: [], removed: [] };
  for (const object of after.list()) {
    const previous = before?.get(object.metadata?.namespace, object.metadata?.name ?? '');
    if (!previous) diff.added.push(object);
    else if (!sameObject(previous, object)) diff.updated.push({ before: previous, after: object });
  }
  for (const object of before?.list() ?? []) {
    if (!after.get(object.metadata?.namespace, object.metadata?.name ?? '')) diff.removed.push(object);
  }
  return diff;
}
