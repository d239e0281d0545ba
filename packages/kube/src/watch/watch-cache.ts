// A typed cache of one kind kept current with list + watch, as client-go's reflector does:
// list, then watch from the list's resourceVersion with bookmarks; when the server ends the
// stream, watch again from the last version seen; on 410 Gone (that version is too old), list
// again; on other failures, wait (backoff) and retry. Ends when its AbortSignal fires.
import { MeshError, MeshErrorCode } from '@tsmesh/core';
import type { Registry } from 'prom-client';
import { sleep } from '../async/index.js';
import { Backoff, DEFAULT_BACKOFF, type BackoffOptions } from '../backoff/index.js';
import { isGone, type KubeApiClient } from '../client/index.js';
import { silentLogger, type Logger } from '../logging/index.js';
import { kindKey, type KubeObject, type ResourceKind } from '../resources/index.js';
import { ObjectStore, type ObjectSnapshot } from '../store/index.js';
import { createWatchMetrics, type WatchMetrics, type WatchRestartReason } from './watch-metrics.js';

export interface WatchCacheOptions {
  client: KubeApiClient;
  kind: ResourceKind;
  /** Only this namespace (default: all namespaces). */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Delay between failed attempts. Default 250 ms … 30 s, jitter 0.5. */
  backoff?: BackoffOptions;
  logger?: Logger;
  /** Registry for the watch metrics; none means no metrics. */
  registry?: Registry;
  /** Label value for the metrics. Default `kind.group` (e.g. `Server.policy.linkerd.io`). */
  metricsName?: string;
  /** Server-side watch timeout; each watch uses a random value between this and twice this. Default 300 s. */
  watchTimeoutSeconds?: number;
  /** Timeout of each list request. Default 60 s. */
  listTimeoutMs?: number;
}

/** A cache of objects of one kind, kept in sync with the API. */
export class WatchCache<T extends KubeObject = KubeObject> {
  readonly kind: ResourceKind;
  readonly #options: WatchCacheOptions;
  readonly #store: ObjectStore<T>;
  readonly #backoff: Backoff;
  readonly #logger: Logger;
  readonly #metrics: WatchMetrics | undefined;
  readonly #label: string;
  #running: Promise<void> | undefined;
  #syncWaiters: (() => void)[] = [];

  constructor(options: WatchCacheOptions) {
    this.kind = options.kind;
    this.#options = options;
    this.#store = new ObjectStore<T>(options.kind);
    this.#backoff = new Backoff(options.backoff ?? DEFAULT_BACKOFF);
    this.#logger = options.logger ?? silentLogger;
    this.#metrics = options.registry ? createWatchMetrics(options.registry) : undefined;
    this.#label = options.metricsName ?? kindKey(options.kind);
  }

  /** True once the first list has completed. */
  get synced(): boolean {
    return this.#store.synced;
  }

  get size(): number {
    return this.#store.size;
  }

  /** The object at namespace/name (cluster-scoped: namespace undefined). */
  get(namespace: string | undefined, name: string): T | undefined {
    return this.#store.get(namespace, name);
  }

  /** All cached objects as of the last change. */
  snapshot(): ObjectSnapshot<T> {
    return this.#store.snapshot();
  }

  /** Snapshots: the current one once synced, then the newest after each change (coalesced). */
  subscribe(signal?: AbortSignal): AsyncIterable<ObjectSnapshot<T>> {
    return this.#store.subscribe(signal);
  }

  /**
   * Starts the list/watch loop (idempotent) and returns its promise, which settles when `signal`
   * aborts. Failures never end the loop; they are logged, counted and retried.
   */
  start(signal: AbortSignal): Promise<void> {
    this.#running ??= this.#run(signal).finally(() => {
      this.#store.close();
      for (const wake of this.#syncWaiters.splice(0)) wake();
    });
    return this.#running;
  }

  /** Resolves when the first list has completed; rejects with Aborted if `signal` fires first. */
  async waitForSync(signal?: AbortSignal): Promise<void> {
    if (this.#store.synced) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        signal?.removeEventListener('abort', done);
        resolve();
      };
      this.#syncWaiters.push(done);
      signal?.addEventListener('abort', done, { once: true });
    });
    if (!this.#store.synced) {
      throw new MeshError(MeshErrorCode.Aborted, `stopped before ${this.#label} was synced`, {
        cause: signal?.reason,
      });
    }
  }

  async #list(signal: AbortSignal): Promise<string | undefined> {
    const o = this.#options;
    const list = await this.#options.client.list<T>(o.kind, {
      namespace: o.namespace,
      labelSelector: o.labelSelector,
      fieldSelector: o.fieldSelector,
      signal,
      timeoutMs: o.listTimeoutMs ?? 60_000,
    });
    this.#store.replaceAll(list.items, list.metadata.resourceVersion);
    this.#store.publish();
    this.#metrics?.lists.inc({ kind: this.#label });
    this.#metrics?.objects.set({ kind: this.#label }, this.#store.size);
    for (const wake of this.#syncWaiters.splice(0)) wake();
    this.#logger.debug(
      { kind: this.#label, objects: list.items.length, resourceVersion: list.metadata.resourceVersion },
      'listed',
    );
    return list.metadata.resourceVersion;
  }

  #restart(reason: WatchRestartReason): void {
    this.#metrics?.restarts.inc({ kind: this.#label, reason });
  }

  async #run(signal: AbortSignal): Promise<void> {
    const o = this.#options;
    const base = o.watchTimeoutSeconds ?? 300;
    let resourceVersion: string | undefined;
    let needList = true;
    while (!signal.aborted) {
      let events = 0;
      try {
        if (needList) {
          resourceVersion = await this.#list(signal);
          needList = false;
          this.#backoff.reset();
        }
        const stream = o.client.watch<T>(o.kind, {
          namespace: o.namespace,
          labelSelector: o.labelSelector,
          fieldSelector: o.fieldSelector,
          resourceVersion,
          allowWatchBookmarks: true,
          timeoutSeconds: Math.round(base + Math.random() * base),
          signal,
        });
        for await (const event of stream) {
          events++;
          const rv = event.object.metadata?.resourceVersion;
          this.#metrics?.events.inc({ kind: this.#label, type: event.type });
          if (event.type === 'BOOKMARK') {
            if (rv) resourceVersion = rv;
            continue;
          }
          const meta = event.object.metadata ?? {};
          if (event.type === 'DELETED') this.#store.remove(meta.namespace, meta.name ?? '');
          else this.#store.upsert(event.object);
          if (rv) {
            resourceVersion = rv;
            this.#store.resourceVersion = rv;
          }
          this.#store.publish();
          this.#metrics?.objects.set({ kind: this.#label }, this.#store.size);
        }
        if (signal.aborted) break;
        // The server ended the stream (its timeout, or a restart): resume from where we are.
        this.#restart('closed');
        this.#logger.debug(
          { kind: this.#label, resourceVersion, events },
          'watch closed by server; resuming',
        );
        if (events > 0) this.#backoff.reset();
        else if (!(await sleep(this.#backoff.next(), signal))) break;
      } catch (err) {
        if (signal.aborted) break;
        if (isGone(err)) {
          // Our resourceVersion has been compacted away: only a new list can catch us up.
          this.#restart('gone');
          this.#logger.info({ kind: this.#label, resourceVersion }, 'watch expired (410 Gone); relisting');
          needList = true;
          continue;
        }
        this.#restart('error');
        const delayMs = this.#backoff.next();
        this.#logger.warn(
          {
            kind: this.#label,
            err: MeshError.is(err) ? err.describe() : String(err),
            delayMs,
            attempt: this.#backoff.attempt,
          },
          'list/watch failed; retrying',
        );
        if (!(await sleep(delayMs, signal))) break;
      }
    }
  }
}
