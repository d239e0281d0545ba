import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import {
  KubeApiError,
  type KubeApiClient,
  type KubeList,
  type WatchEvent,
  type WatchOptions,
} from '../client/index.js';
import { CoreKinds, type KubeObject } from '../resources/index.js';
import type { ObjectSnapshot } from '../store/index.js';
import { WatchCache } from './watch-cache.js';

type Script = WatchEvent[] | Error | 'hang';

/** A scripted API: lists return the given pages; each watch call plays the next script. */
function fakeClient(lists: (KubeList | Error)[], watches: Script[]) {
  const calls: { op: 'list' | 'watch'; resourceVersion?: string; allowWatchBookmarks?: boolean }[] = [];
  const client = {
    server: 'fake',
    async list() {
      calls.push({ op: 'list' });
      const next = lists.shift();
      if (!next) throw new Error('no more lists scripted');
      if (next instanceof Error) throw next;
      return structuredClone(next);
    },
    async *watch(_kind: unknown, o: WatchOptions = {}) {
      calls.push({
        op: 'watch',
        resourceVersion: o.resourceVersion,
        allowWatchBookmarks: o.allowWatchBookmarks,
      });
      const script = watches.shift() ?? 'hang';
      if (script instanceof Error) throw script;
      if (script === 'hang') {
        await new Promise<void>((resolve) =>
          o.signal?.addEventListener('abort', () => resolve(), { once: true }),
        );
        return;
      }
      for (const event of script) yield structuredClone(event);
    },
  } as unknown as KubeApiClient;
  return { client, calls };
}

const pod = (name: string, rv: string, extra: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { namespace: 'ns', name, resourceVersion: rv },
  ...extra,
});
const list = (rv: string, ...items: KubeObject[]): KubeList => ({ metadata: { resourceVersion: rv }, items });
const gone = () =>
  new KubeApiError(
    410,
    { reason: 'Expired', message: 'too old resource version: 1 (5)', code: 410 },
    'WATCH /api/v1/pods',
  );

async function until(
  cache: WatchCache,
  predicate: (s: ObjectSnapshot) => boolean,
  signal: AbortSignal,
): Promise<ObjectSnapshot> {
  for await (const snapshot of cache.subscribe(signal)) if (predicate(snapshot)) return snapshot;
  throw new Error('ended');
}

const fastBackoff = { minMs: 1, maxMs: 5, jitter: 0 };

describe('WatchCache', () => {
  it('lists, then watches from the list version with bookmarks, applying events', async () => {
    const { client, calls } = fakeClient(
      [list('10', pod('a', '9'), pod('b', '10'))],
      [
        [
          { type: 'ADDED', object: pod('c', '11') },
          { type: 'MODIFIED', object: pod('a', '12', { spec: { v: 2 } }) },
          { type: 'DELETED', object: pod('b', '13') },
          { type: 'BOOKMARK', object: { metadata: { resourceVersion: '20' } } },
        ],
      ],
    );
    const registry = new Registry();
    const cache = new WatchCache({ client, kind: CoreKinds.Pod, registry, backoff: fastBackoff });
    const controller = new AbortController();
    const running = cache.start(controller.signal);
    await cache.waitForSync();
    const snap = await until(cache, (s) => s.size === 2 && s.get('ns', 'c') !== undefined, controller.signal);
    expect(snap.get('ns', 'a')!.spec).toEqual({ v: 2 });
    expect(snap.get('ns', 'b')).toBeUndefined();
    expect(cache.get('ns', 'c')).toBeDefined();
    // The stream ended (server timeout): resume from the bookmark, no relist.
    await expect.poll(() => calls.length).toBe(3);
    expect(calls).toEqual([
      { op: 'list' },
      { op: 'watch', resourceVersion: '10', allowWatchBookmarks: true },
      { op: 'watch', resourceVersion: '20', allowWatchBookmarks: true },
    ]);
    controller.abort();
    await running;
    const restarts = (await registry.getSingleMetric('tsmesh_kube_watch_restarts_total')!.get()).values;
    expect(restarts).toEqual([{ labels: { kind: 'Pod', reason: 'closed' }, value: 1 }]);
    const size = (await registry.getSingleMetric('tsmesh_kube_watch_cache_objects')!.get()).values;
    expect(size).toEqual([{ labels: { kind: 'Pod' }, value: 2 }]);
  });

  it('relists on 410 Gone, dropping objects deleted meanwhile', async () => {
    const { client, calls } = fakeClient(
      [list('10', pod('a', '9'), pod('b', '10')), list('50', pod('a', '40'))],
      [gone(), 'hang'],
    );
    const registry = new Registry();
    const cache = new WatchCache({ client, kind: CoreKinds.Pod, registry, backoff: fastBackoff });
    const controller = new AbortController();
    const running = cache.start(controller.signal);
    const snap = await until(cache, (s) => s.resourceVersion === '50', controller.signal);
    expect(snap.list().map((p) => p.metadata!.name)).toEqual(['a']);
    expect(calls.map((c) => c.op)).toEqual(['list', 'watch', 'list', 'watch']);
    expect(calls[3]!.resourceVersion).toBe('50');
    controller.abort();
    await running;
    const restarts = (await registry.getSingleMetric('tsmesh_kube_watch_restarts_total')!.get()).values;
    expect(restarts).toEqual([{ labels: { kind: 'Pod', reason: 'gone' }, value: 1 }]);
    expect((await registry.getSingleMetric('tsmesh_kube_watch_lists_total')!.get()).values[0]!.value).toBe(2);
  });

  it('also relists on a 410 delivered as a watch ERROR event or reason Expired', async () => {
    const expired = new KubeApiError(500, { reason: 'Expired', message: 'expired' }, 'x');
    const { client, calls } = fakeClient([list('1'), list('2'), list('3')], [gone(), expired, 'hang']);
    const cache = new WatchCache({ client, kind: CoreKinds.Pod, backoff: fastBackoff });
    const controller = new AbortController();
    const running = cache.start(controller.signal);
    await expect.poll(() => calls.filter((c) => c.op === 'list').length).toBe(3);
    controller.abort();
    await running;
  });

  it('backs off between failures and keeps serving the last good state', async () => {
    const boom = new KubeApiError(503, { message: 'unavailable' }, 'LIST');
    const delays: number[] = [];
    const { client, calls } = fakeClient([boom, boom, list('7', pod('a', '7'))], ['hang']);
    const registry = new Registry();
    const cache = new WatchCache({
      client,
      kind: CoreKinds.Pod,
      registry,
      backoff: { minMs: 5, maxMs: 20, jitter: 0 },
      logger: {
        debug() {},
        info() {},
        error() {},
        warn(fields) {
          delays.push(fields.delayMs as number);
        },
      },
    });
    const controller = new AbortController();
    const running = cache.start(controller.signal);
    await cache.waitForSync();
    expect(delays).toEqual([5, 10]);
    expect(cache.get('ns', 'a')).toBeDefined();
    expect(calls.map((c) => c.op)).toEqual(['list', 'list', 'list', 'watch']);
    controller.abort();
    await running;
    const restarts = (await registry.getSingleMetric('tsmesh_kube_watch_restarts_total')!.get()).values;
    expect(restarts).toEqual([{ labels: { kind: 'Pod', reason: 'error' }, value: 2 }]);
  });

  it('ends on abort; waitForSync then rejects with Aborted', async () => {
    const { client } = fakeClient([new Error('down')], []);
    const cache = new WatchCache({
      client,
      kind: CoreKinds.Pod,
      backoff: { minMs: 60_000, maxMs: 60_000, jitter: 0 },
    });
    const controller = new AbortController();
    const running = cache.start(controller.signal);
    const waiting = cache.waitForSync();
    controller.abort();
    await running;
    await expect(waiting).rejects.toMatchObject({ code: 'aborted' });
    // start is idempotent and the subscription ends.
    expect(cache.start(controller.signal)).toBe(running);
    const out: unknown[] = [];
    for await (const s of cache.subscribe()) out.push(s);
    expect(out.length).toBeLessThanOrEqual(1);
  });

  it('two caches share one registry without conflicts', () => {
    const registry = new Registry();
    const { client } = fakeClient([], []);
    new WatchCache({ client, kind: CoreKinds.Pod, registry });
    new WatchCache({ client, kind: CoreKinds.Service, registry });
    expect(
      registry
        .getMetricsAsArray()
        .filter(
          (m) =>
            m.name === 'tsmesh_kube_watch_restarts_total' || m.name === 'tsmesh_kube_watch_cache_objects',
        ),
    ).toHaveLength(2);
  });
});
