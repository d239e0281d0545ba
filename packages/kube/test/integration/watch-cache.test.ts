// Watch caches and the Kubernetes ObjectSource against a real kube-apiserver: follow changes,
// and survive an apiserver restart (reconnect, then relist after 410 Gone).
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { createTestNamespace, loadKubeConfig, startTestEnv, type TestEnv } from '@tsmesh/testenv';
import { kubeTest, testKubeConfig } from '@tsmesh/testenv/vitest';
import {
  CoreKinds,
  createKubeApiClient,
  createKubeObjectSource,
  crdManifests,
  installCrds,
  MeshKinds,
  WatchCache,
  type KubeApiClient,
  type KubeObject,
  type ObjectSnapshot,
} from '../../src/index.js';

type ConfigMap = KubeObject & { data?: Record<string, string> };

/** The first snapshot that satisfies `predicate`; the subscription is given a signal that ends it on timeout. */
async function until<T extends KubeObject>(
  subscribe: (signal: AbortSignal) => AsyncIterable<ObjectSnapshot<T>>,
  predicate: (s: ObjectSnapshot<T>) => boolean,
  timeoutMs = 20_000,
): Promise<ObjectSnapshot<T>> {
  const signal = AbortSignal.timeout(timeoutMs);
  for await (const snapshot of subscribe(signal)) if (predicate(snapshot)) return snapshot;
  throw new Error(`no matching snapshot within ${timeoutMs} ms`);
}

async function metricValue(
  registry: Registry,
  name: string,
  labels: Record<string, string>,
): Promise<number> {
  const metric = registry.getSingleMetric(name);
  const values = metric ? (await metric.get()).values : [];
  return values
    .filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))
    .reduce((sum, v) => sum + v.value, 0);
}

describe('watch caches against kube-apiserver', () => {
  let client: KubeApiClient;
  beforeAll(async () => {
    client = createKubeApiClient(testKubeConfig());
    await installCrds(client, crdManifests({ gatewayApi: true }), { timeoutMs: 60_000 });
    return () => client.close();
  });

  kubeTest('a WatchCache follows creates, updates and deletes', async ({ namespace }) => {
    const registry = new Registry();
    const cache = new WatchCache<ConfigMap>({ client, kind: CoreKinds.ConfigMap, namespace, registry });
    const controller = new AbortController();
    const running = cache.start(controller.signal);
    try {
      await cache.waitForSync(controller.signal);
      // Each subscription starts with the current snapshot, so a fresh one per wait loses nothing.
      const changes = (signal: AbortSignal) => cache.subscribe(signal);
      await client.create(CoreKinds.ConfigMap, { metadata: { name: 'a', namespace }, data: { v: '1' } });
      await client.create(CoreKinds.ConfigMap, { metadata: { name: 'b', namespace }, data: { v: '1' } });
      await until(changes, (s) => s.size >= 2);
      await client.apply(
        CoreKinds.ConfigMap,
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace }, data: { v: '2' } },
        { force: true },
      );
      await client.delete(CoreKinds.ConfigMap, { namespace, name: 'b' });
      const snap = await until(
        changes,
        (s) => s.get(namespace, 'a')?.data?.v === '2' && s.get(namespace, 'b') === undefined,
      );
      // kube-root-ca.crt is created in every namespace by the controller manager.
      expect(snap.list().map((c) => c.metadata!.name)).toContain('a');
      expect(snap.resourceVersion).toMatch(/^\d+$/);
      expect(await metricValue(registry, 'tsmesh_kube_watch_cache_objects', { kind: 'ConfigMap' })).toBe(
        snap.size,
      );
      expect(
        await metricValue(registry, 'tsmesh_kube_watch_events_total', { type: 'DELETED' }),
      ).toBeGreaterThanOrEqual(1);
    } finally {
      controller.abort();
      await running;
    }
  });

  kubeTest('the Kubernetes ObjectSource serves mesh kinds as snapshots', async ({ namespace }) => {
    const source = createKubeObjectSource({ client, namespace });
    try {
      const servers = (signal: AbortSignal) => source.watch(MeshKinds.Server, { signal });
      const first = await until(servers, () => true);
      expect(first.synced).toBe(true);
      expect(first.size).toBe(0);
      await client.create(MeshKinds.Server, {
        metadata: { name: 'web', namespace },
        spec: { podSelector: {}, port: 8080 },
      });
      const snap = await until(servers, (s) => s.size === 1);
      // Objects arrive as the apiserver stores them: storage version, defaults applied.
      expect(snap.get(namespace, 'web')).toMatchObject({
        apiVersion: 'policy.linkerd.io/v1beta3',
        kind: 'Server',
        spec: { accessPolicy: 'deny' },
      });
      expect((await source.snapshot(MeshKinds.Server)).size).toBe(1);
    } finally {
      await source.close();
    }
  });
});

describe('watch cache across an apiserver restart', () => {
  // Restarting the apiserver would disturb other tests, so this one has its own environment.
  let env: TestEnv;
  beforeAll(async () => {
    env = await startTestEnv({ controllers: false });
  }, 120_000);
  afterAll(async () => {
    await env?.stop();
  });

  kubeTest('reconnects, relists after 410 Gone, and serves what changed meanwhile', async () => {
    const kc = loadKubeConfig(env.kubeconfigPath);
    const client = createKubeApiClient(kc);
    await using ns = await createTestNamespace(kc, {
      prefix: 'restart',
      waitForDefaultServiceAccount: false,
    });
    const namespace = ns.name;
    const registry = new Registry();
    const cache = new WatchCache<ConfigMap>({
      client,
      kind: CoreKinds.ConfigMap,
      namespace,
      registry,
      backoff: { minMs: 100, maxMs: 500, jitter: 0.2 },
    });
    const controller = new AbortController();
    const running = cache.start(controller.signal);
    try {
      await client.create(CoreKinds.ConfigMap, { metadata: { name: 'a', namespace }, data: { v: '1' } });
      await until(
        (signal) => cache.subscribe(signal),
        (s) => s.get(namespace, 'a') !== undefined,
      );
      // Move etcd's revision past the cache's last ConfigMap event: after the restart the
      // apiserver's own watch cache starts at the newer revision and answers 410 Gone.
      for (let i = 0; i < 5; i++) {
        await client.create(CoreKinds.Secret, { metadata: { name: `s${i}`, namespace }, data: {} });
      }
      const t0 = Date.now();
      const { readyMs } = await env.restartApiserver();
      console.log(`restart took ${Date.now() - t0} ms (ready ${Math.round(readyMs)} ms)`);
      const t1 = Date.now();
      await client.create(CoreKinds.ConfigMap, { metadata: { name: 'b', namespace }, data: { v: '2' } });
      await client.apply(
        CoreKinds.ConfigMap,
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace }, data: { v: '3' } },
        { force: true },
      );
      const snap = await until(
        (signal) => cache.subscribe(signal),
        (s) => s.get(namespace, 'a')?.data?.v === '3' && s.get(namespace, 'b') !== undefined,
      );
      console.log(`caught up ${Date.now() - t1} ms after restart`);
      expect(snap.size).toBe(2);
      const restarts = {
        gone: await metricValue(registry, 'tsmesh_kube_watch_restarts_total', { reason: 'gone' }),
        error: await metricValue(registry, 'tsmesh_kube_watch_restarts_total', { reason: 'error' }),
        closed: await metricValue(registry, 'tsmesh_kube_watch_restarts_total', { reason: 'closed' }),
        lists: await metricValue(registry, 'tsmesh_kube_watch_lists_total', {}),
      };
      console.log(`watch cache across apiserver restart: ${JSON.stringify(restarts)}`);
      expect(restarts.gone).toBeGreaterThanOrEqual(1);
      expect(restarts.lists).toBeGreaterThanOrEqual(2);
    } finally {
      controller.abort();
      await running;
      client.close();
    }
  });
});
