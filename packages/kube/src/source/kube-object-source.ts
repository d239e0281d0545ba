// ObjectSource over the Kubernetes API: one WatchCache per kind, started on first use and shared
// by every reader of that kind, stopped when the source closes.
import { setMaxListeners } from 'node:events';
import { MeshError, MeshErrorCode } from '@tsmesh/core';
import type { Registry } from 'prom-client';
import { linkedAbortController } from '../async/index.js';
import type { BackoffOptions } from '../backoff/index.js';
import type { KubeApiClient } from '../client/index.js';
import type { Logger } from '../logging/index.js';
import { kindKey, type KubeObject, type ResourceKind } from '../resources/index.js';
import type { ObjectSnapshot } from '../store/index.js';
import { WatchCache } from '../watch/index.js';
import { firstOf, type ObjectSource, type WatchKindOptions } from './object-source.js';

export interface KubeObjectSourceOptions {
  client: KubeApiClient;
  /** Stops every watch when it fires (as does `close()`). */
  signal?: AbortSignal;
  /** Watch only this namespace (default: all). */
  namespace?: string;
  backoff?: BackoffOptions;
  logger?: Logger;
  registry?: Registry;
  watchTimeoutSeconds?: number;
}

export class KubeObjectSource implements ObjectSource {
  readonly #options: KubeObjectSourceOptions;
  readonly #caches = new Map<string, WatchCache>();
  readonly #controller: AbortController & { dispose(): void };
  readonly #running: Promise<void>[] = [];

  constructor(options: KubeObjectSourceOptions) {
    this.#options = options;
    this.#controller = linkedAbortController(options.signal);
    // Every cache's list and watch requests listen on this one signal: a controller watching more
    // than ten kinds (destination, policy) is no leak, and Node would log one at start.
    setMaxListeners(0, this.#controller.signal);
  }

  /** The cache behind a kind (created and started on first use). */
  cache<T extends KubeObject = KubeObject>(kind: ResourceKind): WatchCache<T> {
    if (this.#controller.signal.aborted)
      throw new MeshError(MeshErrorCode.Aborted, 'the object source is closed');
    const key = kindKey(kind);
    let cache = this.#caches.get(key);
    if (!cache) {
      const o = this.#options;
      cache = new WatchCache({
        client: o.client,
        kind,
        namespace: kind.namespaced ? o.namespace : undefined,
        backoff: o.backoff,
        logger: o.logger,
        registry: o.registry,
        watchTimeoutSeconds: o.watchTimeoutSeconds,
      });
      this.#caches.set(key, cache);
      this.#running.push(cache.start(this.#controller.signal));
    }
    return cache as unknown as WatchCache<T>;
  }

  watch<T extends KubeObject = KubeObject>(
    kind: ResourceKind,
    options: WatchKindOptions = {},
  ): AsyncIterable<ObjectSnapshot<T>> {
    return this.cache<T>(kind).subscribe(options.signal);
  }

  async snapshot<T extends KubeObject = KubeObject>(
    kind: ResourceKind,
    options: WatchKindOptions = {},
  ): Promise<ObjectSnapshot<T>> {
    const cache = this.cache<T>(kind);
    await cache.waitForSync(options.signal);
    return (await firstOf(cache.subscribe(options.signal))) ?? cache.snapshot();
  }

  async close(): Promise<void> {
    this.#controller.abort(new MeshError(MeshErrorCode.Aborted, 'object source closed'));
    this.#controller.dispose();
    await Promise.all(this.#running);
  }
}

export function createKubeObjectSource(options: KubeObjectSourceOptions): KubeObjectSource {
  return new KubeObjectSource(options);
}
