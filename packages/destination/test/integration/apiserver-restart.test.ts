// Streams survive an apiserver restart: the watch caches reconnect (relisting after 410 Gone) and
// open Get streams converge on what changed while the apiserver was away. Own environment, since a
// restart would disturb other tests; EndpointSlices are written by the test (no controllers).
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { createTestNamespace, loadKubeConfig, startTestEnv, type TestEnv } from '@tsmesh/testenv';
import { kubeTest } from '@tsmesh/testenv/vitest';
import {
  CoreKinds,
  createKubeApiClient,
  createKubeObjectSource,
  crdManifests,
  installCrds,
} from '@tsmesh/kube';
import { Registry } from 'prom-client';
import { startDestinationService } from '../../src/index.js';
import { createClient, getEndpoints } from './support.js';

describe('destination across an apiserver restart', () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await startTestEnv({ controllers: false });
  }, 120_000);
  afterAll(async () => {
    await env?.stop();
  });

  kubeTest('a Get stream continues with the correct state', async () => {
    const kc = loadKubeConfig(env.kubeconfigPath);
    const client = createKubeApiClient(kc);
    await installCrds(client, crdManifests(), { timeoutMs: 60_000 });
    await using ns = await createTestNamespace(kc, {
      prefix: 'restart',
      waitForDefaultServiceAccount: false,
    });
    const namespace = ns.name;
    const registry = new Registry();
    const source = createKubeObjectSource({
      client,
      registry,
      backoff: { minMs: 100, maxMs: 500, jitter: 0.2 },
    });
    const service = await startDestinationService({ source, port: 0, registry });
    const grpc = createClient(service.address);
    const slice = (ips: string[]) => ({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'web-1', namespace, labels: { 'kubernetes.io/service-name': 'web' } },
      addressType: 'IPv4',
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: true } })),
    });
    try {
      await client.create(CoreKinds.Service, {
        metadata: { name: 'web', namespace },
        spec: { ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
      });
      await client.create(CoreKinds.EndpointSlice, slice(['198.18.3.1', '198.18.3.2']));
      const { model, stream } = getEndpoints(grpc, `web.${namespace}.svc.cluster.local:80`);
      await stream.until(() => model.addrs.size === 2, 30_000, 'two endpoints');
      // Move etcd past the caches' last events so the restarted apiserver answers 410 Gone.
      for (let i = 0; i < 5; i++) {
        await client.create(CoreKinds.ConfigMap, { metadata: { name: `c${i}`, namespace }, data: {} });
      }
      await env.restartApiserver();
      await client.apply(CoreKinds.EndpointSlice, slice(['198.18.3.2', '198.18.3.3']), { force: true });
      await stream.until(
        () => model.keys().join() === '198.18.3.2:8080,198.18.3.3:8080',
        60_000,
        'state after restart',
      );
      const metrics = await registry.metrics();
      expect(metrics).toMatch(/tsmesh_kube_watch_restarts_total\{[^}]*\} [1-9]/);
      expect(service.subscriptions()).toBe(1);
      stream.cancel();
      await expect.poll(() => service.subscriptions(), { timeout: 5000 }).toBe(0);
    } finally {
      grpc.close();
      await service.close();
      await source.close();
      client.close();
    }
  });
});
