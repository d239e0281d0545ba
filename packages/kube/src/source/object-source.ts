// The one way controllers read objects, whatever they come from: the Kubernetes API (watch
// caches) or a directory of YAML files (local mode). Same snapshots, same controllers.
import type { KubeObject, ResourceKind } from '../resources/index.js';
import type { ObjectSnapshot } from '../store/index.js';

export interface WatchKindOptions {
  /** Ends the iteration. */
  signal?: AbortSignal;
}

export interface ObjectSource {
  /**
   * Snapshots of every object of `kind`: the first once the source has read them all, then the
   * newest after each change. A slow reader skips intermediate states (latest-value semantics).
   */
  watch<T extends KubeObject = KubeObject>(
    kind: ResourceKind,
    options?: WatchKindOptions,
  ): AsyncIterable<ObjectSnapshot<T>>;
  /** The current snapshot of `kind`, once the source has read them all. */
  snapshot<T extends KubeObject = KubeObject>(
    kind: ResourceKind,
    options?: WatchKindOptions,
  ): Promise<ObjectSnapshot<T>>;
  /** Stops watching; open iterations end. */
  close(): Promise<void>;
}

/** First element of an async iterable (or undefined if it ends first). */
export async function firstOf<T>(iterable: AsyncIterable<T>): Promise<T | undefined> {
  for await (const value of iterable) return value;
  return undefined;
}
