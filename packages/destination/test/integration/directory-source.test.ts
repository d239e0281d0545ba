// The destination service over @tsmesh/kube's directory source (local mode): Services,
// EndpointSlices, Pods and ServiceProfiles from YAML files; editing a file updates open streams.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { createDirectoryObjectSource, type DirectoryObjectSource } from '@tsmesh/kube';
import { startDestinationService, type DestinationService } from '../../src/index.js';
import { createClient, getEndpoints, getProfile } from './support.js';

const pod = (name: string, ip: string, extra = '') => `
apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  namespace: shop
  labels: { app: web, linkerd.io/control-plane-ns: linkerd, linkerd.io/workload-ns: shop }
${extra}spec:
  serviceAccountName: web
  containers:
  - name: app
    image: example.invalid/web
    ports: [{ name: http, containerPort: 8080 }]
  - name: linkerd-proxy
    image: example.invalid/proxy
    env:
    - { name: LINKERD2_PROXY_INBOUND_LISTEN_ADDR, value: "0.0.0.0:4143" }
    - { name: LINKERD2_PROXY_ADMIN_LISTEN_ADDR, value: "0.0.0.0:4191" }
status:
  phase: Running
  podIP: ${ip}
  podIPs: [{ ip: ${ip} }]
  conditions: [{ type: Ready, status: "True" }]
`;

const slice = (ips: string[]) => `
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: web-abc
  namespace: shop
  labels: { kubernetes.io/service-name: web }
addressType: IPv4
ports: [{ name: http, port: 8080, protocol: TCP }]
endpoints:
${ips.map((ip, i) => `- addresses: ["${ip}"]\n  conditions: { ready: true }\n  targetRef: { kind: Pod, name: web-${i}, namespace: shop }\n`).join('')}`;

const serviceYaml = `
apiVersion: v1
kind: Namespace
metadata: { name: shop }
---
apiVersion: v1
kind: Service
metadata: { name: web, namespace: shop }
spec:
  clusterIP: 198.19.0.10
  ports: [{ name: http, port: 80, targetPort: http }]
`;

describe('destination over the directory source', () => {
  let dir: string;
  let source: DirectoryObjectSource;
  let service: DestinationService;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'destination-dir-'));
    await writeFile(join(dir, 'service.yaml'), serviceYaml);
    await writeFile(
      join(dir, 'pods.yaml'),
      [pod('web-0', '127.0.1.1'), pod('web-1', '127.0.1.2')].join('---'),
    );
    await writeFile(join(dir, 'slice.yaml'), slice(['127.0.1.1', '127.0.1.2']));
    source = createDirectoryObjectSource({ dir, debounceMs: 20 });
    service = await startDestinationService({ source, port: 0, adminPort: 0 });
  });
  afterEach(async () => {
    await service.close();
    await source.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('Get serves meshed endpoints and follows file edits; cancel releases the stream', async () => {
    const client = createClient(service.address);
    try {
      const { model, stream } = getEndpoints(client, 'web.shop.svc.cluster.local:80');
      await stream.until(() => model.addrs.size === 2, 10_000, 'two endpoints');
      expect(model.keys()).toEqual(['127.0.1.1:8080', '127.0.1.2:8080']);
      const wa = model.addrs.get('127.0.1.1:8080')!;
      expect(wa.weight).toBe(10000);
      expect(wa.metricLabels).toMatchObject({
        pod: 'web-0',
        serviceaccount: 'web',
        control_plane_ns: 'linkerd',
      });
      expect(wa.tlsIdentity?.dnsLikeIdentity?.name).toBe(
        'web.shop.serviceaccount.identity.linkerd.cluster.local',
      );
      expect(wa.protocolHint?.h2).toBeDefined();
      expect(stream.messages[0]!.add?.metricLabels).toEqual({ namespace: 'shop', service: 'web' });

      await writeFile(join(dir, 'slice.yaml'), slice(['127.0.1.1']));
      await stream.until(() => model.addrs.size === 1, 10_000, 'one endpoint');
      expect(service.subscriptions()).toBe(1);
      const admin = `http://127.0.0.1:${service.adminPort}`;
      expect((await fetch(`${admin}/ready`)).status).toBe(200);
      expect((await fetch(`${admin}/live`)).status).toBe(200);
      const metrics = await (await fetch(`${admin}/metrics`)).text();
      expect(metrics).toContain('tsmesh_destination_subscriptions{method="Get"} 1');
      expect(metrics).toMatch(/tsmesh_destination_updates_total\{method="Get"\} [1-9]/);
      stream.cancel();
      await expect.poll(() => service.subscriptions(), { timeout: 5000 }).toBe(0);
    } finally {
      client.close();
    }
  });

  test('GetProfile: default, then the ServiceProfile once its file appears; invalid paths are refused', async () => {
    const client = createClient(service.address);
    try {
      const profiles = getProfile(client, 'web.shop.svc.cluster.local:80');
      await profiles.until(() => profiles.messages.length >= 1, 10_000, 'first profile');
      expect(profiles.messages[0]!.fullyQualifiedName).toBe('web.shop.svc.cluster.local');
      expect(profiles.messages[0]!.routes).toEqual([]);
      expect(profiles.messages[0]!.retryBudget?.retryRatio).toBeCloseTo(0.2);
      await writeFile(
        join(dir, 'profile.yaml'),
        `apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata: { name: web.shop.svc.cluster.local, namespace: shop }
spec:
  routes:
  - name: GET /books
    condition: { method: GET, pathRegex: /books }
    isRetryable: true
    timeout: 250ms
`,
      );
      await profiles.until(
        () => (profiles.messages.at(-1)?.routes.length ?? 0) === 1,
        10_000,
        'profile route',
      );
      const route = profiles.messages.at(-1)!.routes[0]!;
      expect(route.metricsLabels).toEqual({ route: 'GET /books' });
      expect(route.isRetryable).toBe(true);
      expect(route.condition?.all?.matches).toHaveLength(2);
      profiles.cancel();

      await writeFile(
        join(dir, 'external.yaml'),
        'apiVersion: v1\nkind: Service\nmetadata: { name: ext, namespace: shop }\nspec: { type: ExternalName, externalName: example.invalid }\n',
      );
      await expect
        .poll(
          async () => (await getEndpoints(client, 'ext.shop.svc.cluster.local:80').stream.ended)?.details,
          {
            timeout: 10_000,
          },
        )
        .toContain('ExternalName');
      // IP lookups: a cluster IP resolves to its Service, a pod IP to that pod's endpoint.
      const byClusterIp = getProfile(client, '198.19.0.10:80');
      await byClusterIp.until(() => byClusterIp.messages.length >= 1, 10_000, 'cluster IP profile');
      expect(byClusterIp.messages[0]!.fullyQualifiedName).toBe('web.shop.svc.cluster.local');
      byClusterIp.cancel();
      const byPodIp = getProfile(client, '127.0.1.2:8080');
      await byPodIp.until(() => byPodIp.messages.length >= 1, 10_000, 'pod IP profile');
      expect(byPodIp.messages[0]!.endpoint?.metricLabels).toMatchObject({ pod: 'web-1' });
      expect(byPodIp.messages[0]!.endpoint?.tlsIdentity?.dnsLikeIdentity?.name).toBe(
        'web.shop.serviceaccount.identity.linkerd.cluster.local',
      );
      byPodIp.cancel();
      const podGet = getEndpoints(client, '127.0.1.2:8080');
      await podGet.stream.until(() => podGet.model.addrs.size === 1, 10_000, 'pod IP endpoint');
      expect(podGet.model.addrs.get('127.0.1.2:8080')?.metricLabels).toMatchObject({ pod: 'web-1' });
      podGet.stream.cancel();

      const bad = getEndpoints(client, 'web.shop:80');
      const status = await bad.stream.ended;
      expect(status?.code).toBe(3);
      expect(status?.details).toContain('not a Kubernetes service name');
    } finally {
      client.close();
    }
  });
});
