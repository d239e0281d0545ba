// The destination service against a real kube-apiserver: Services and Pods written by the test,
// EndpointSlices built by kube-controller-manager, a grpc-js client on Get and GetProfile.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import {
  createCertificateAuthority,
  ensureTestNode,
  issueCertificate,
  markPodRunning,
} from '@tsmesh/testenv';
import { kubeTest, testKubeConfig } from '@tsmesh/testenv/vitest';
import {
  CoreKinds,
  createKubeApiClient,
  createKubeObjectSource,
  crdManifests,
  installCrds,
  KubeApiError,
  MeshKinds,
  type KubeApiClient,
  type KubeObject,
  type KubeObjectSource,
} from '@tsmesh/kube';
import {
  createServiceProfileValidator,
  startDestinationService,
  type DestinationService,
} from '../../src/index.js';
import { createClient, getEndpoints, getProfile } from './support.js';

let client: KubeApiClient;
let source: KubeObjectSource;
let service: DestinationService;
let node: string;

beforeAll(async () => {
  const kc = testKubeConfig();
  client = createKubeApiClient(kc);
  await installCrds(client, crdManifests(), { timeoutMs: 60_000 });
  node = await ensureTestNode(kc);
  source = createKubeObjectSource({ client });
  service = await startDestinationService({ source, port: 0 });
});

afterAll(async () => {
  await service?.close();
  await source?.close();
  client?.close();
});

function pod(namespace: string, name: string, port: number, extra: Record<string, unknown> = {}): KubeObject {
  return {
    metadata: {
      name,
      namespace,
      labels: { app: 'web', 'linkerd.io/control-plane-ns': 'linkerd', 'linkerd.io/workload-ns': namespace },
      ...extra,
    },
    spec: {
      nodeName: node,
      serviceAccountName: 'default',
      containers: [
        { name: 'app', image: 'example.invalid/web:1', ports: [{ name: 'http', containerPort: port }] },
        {
          name: 'linkerd-proxy',
          image: 'example.invalid/proxy:1',
          env: [
            { name: 'LINKERD2_PROXY_INBOUND_LISTEN_ADDR', value: '0.0.0.0:4143' },
            { name: 'LINKERD2_PROXY_ADMIN_LISTEN_ADDR', value: '0.0.0.0:4191' },
            { name: 'LINKERD2_PROXY_CONTROL_LISTEN_ADDR', value: '0.0.0.0:4190' },
          ],
        },
      ],
    },
  };
}

async function createWebService(namespace: string, annotations?: Record<string, string>) {
  await client.create(CoreKinds.Service, {
    metadata: { name: 'web', namespace, annotations },
    spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
  });
}

async function runningPod(namespace: string, name: string, port: number, ip: string, extra = {}) {
  await client.create(CoreKinds.Pod, pod(namespace, name, port, extra));
  await markPodRunning(testKubeConfig(), { namespace, name, podIP: ip });
}

describe('destination against kube-apiserver', () => {
  kubeTest('Get: adds, named target ports per pod, not ready, delete, cancel', async ({ namespace }) => {
    await createWebService(namespace);
    await runningPod(namespace, 'web-0', 8080, '198.18.1.1');
    await runningPod(namespace, 'web-1', 9090, '198.18.1.2');
    const grpc = createClient(service.address);
    try {
      const path = `web.${namespace}.svc.cluster.local:80`;
      const { model, stream } = getEndpoints(grpc, path, JSON.stringify({ ns: namespace, nodeName: node }));
      // The named target port "http" is 8080 on one pod and 9090 on the other.
      await stream.until(() => model.addrs.size === 2, 30_000, 'both pods');
      expect(model.keys()).toEqual(['198.18.1.1:8080', '198.18.1.2:9090']);
      const wa = model.addrs.get('198.18.1.1:8080')!;
      expect(wa.metricLabels).toMatchObject({
        pod: 'web-0',
        serviceaccount: 'default',
        zone_locality: 'unknown',
      });
      expect(wa.tlsIdentity?.dnsLikeIdentity?.name).toBe(
        `default.${namespace}.serviceaccount.identity.linkerd.cluster.local`,
      );
      expect(wa.http2?.keepAlive?.whileIdle).toBe(true);

      await markPodRunning(testKubeConfig(), { namespace, name: 'web-1', podIP: '198.18.1.2', ready: false });
      await stream.until(() => model.keys().join() === '198.18.1.1:8080', 30_000, 'not-ready pod removed');

      await client.delete(CoreKinds.Pod, { namespace, name: 'web-0' }, { gracePeriodSeconds: 0 });
      await stream.until(() => model.addrs.size === 0 && model.exists === true, 30_000, 'no endpoints');

      await runningPod(namespace, 'web-2', 8080, '198.18.1.3');
      await stream.until(() => model.addrs.has('198.18.1.3:8080'), 30_000, 'new pod added');

      await client.delete(CoreKinds.Service, { namespace, name: 'web' });
      await stream.until(() => model.exists === false, 30_000, 'service gone');

      expect(service.subscriptions()).toBe(1);
      stream.cancel();
      await expect.poll(() => service.subscriptions(), { timeout: 5000 }).toBe(0);

      const unknown = getEndpoints(grpc, `nothing.${namespace}.svc.cluster.local:80`);
      expect((await unknown.stream.ended)?.code).toBe(5);
    } finally {
      grpc.close();
    }
  });

  kubeTest('the opaque-ports annotation on a pod flips the protocol hint live', async ({ namespace }) => {
    await createWebService(namespace);
    await runningPod(namespace, 'web-0', 8080, '198.18.2.1');
    const grpc = createClient(service.address);
    try {
      const { model, stream } = getEndpoints(grpc, `web.${namespace}.svc.cluster.local:80`);
      await stream.until(
        () => model.addrs.get('198.18.2.1:8080')?.protocolHint?.h2 != null,
        30_000,
        'h2 hint',
      );
      expect(model.addrs.get('198.18.2.1:8080')!.protocolHint?.opaqueTransport).toBeFalsy();
      const current = await client.get<KubeObject>(CoreKinds.Pod, { namespace, name: 'web-0' });
      current.metadata!.annotations = { 'config.linkerd.io/opaque-ports': '8080' };
      await client.replace(CoreKinds.Pod, current);
      await stream.until(
        () => model.addrs.get('198.18.2.1:8080')?.protocolHint?.opaque != null,
        30_000,
        'opaque hint',
      );
      expect(model.addrs.get('198.18.2.1:8080')!.protocolHint?.opaqueTransport?.inboundPort).toBe(4143);
      stream.cancel();
    } finally {
      grpc.close();
    }
  });

  kubeTest('GetProfile follows ServiceProfile create, update and delete', async ({ namespace }) => {
    await createWebService(namespace);
    const fqn = `web.${namespace}.svc.cluster.local`;
    const grpc = createClient(service.address);
    try {
      const profiles = getProfile(grpc, `${fqn}:80`, JSON.stringify({ ns: namespace }));
      await profiles.until(() => profiles.messages.length >= 1, 30_000, 'default profile');
      expect(profiles.messages[0]!.routes).toEqual([]);
      expect(profiles.messages[0]!.profileRef).toBeFalsy();
      const sp = (timeout: string) => ({
        metadata: { name: fqn, namespace },
        spec: {
          routes: [
            {
              name: 'GET /',
              condition: { method: 'GET', pathRegex: '/' },
              timeout,
              responseClasses: [{ condition: { status: { min: 500, max: 599 } }, isFailure: true }],
            },
          ],
          retryBudget: { retryRatio: 0.3, minRetriesPerSecond: 5, ttl: '20s' },
          dstOverrides: [{ authority: `web-v2.${namespace}.svc.cluster.local`, weight: '500m' }],
        },
      });
      await client.create(MeshKinds.ServiceProfile, sp('1s'));
      await profiles.until(() => profiles.messages.at(-1)!.routes.length === 1, 30_000, 'profile');
      const p = profiles.messages.at(-1)!;
      expect(p.retryBudget?.retryRatio).toBeCloseTo(0.3);
      expect(p.dstOverrides[0]).toMatchObject({
        authority: `web-v2.${namespace}.svc.cluster.local:80`,
        weight: 5000,
      });
      expect(p.routes[0]!.responseClasses?.[0]?.isFailure).toBe(true);
      expect(p.profileRef?.resource?.name).toBe(fqn);

      const current = await client.get<KubeObject>(MeshKinds.ServiceProfile, { namespace, name: fqn });
      await client.replace(MeshKinds.ServiceProfile, { ...current, spec: sp('3s').spec });
      await profiles.until(
        () => Number(profiles.messages.at(-1)!.routes[0]?.timeout?.seconds) === 3,
        30_000,
        'updated timeout',
      );
      await client.delete(MeshKinds.ServiceProfile, { namespace, name: fqn });
      await profiles.until(() => profiles.messages.at(-1)!.routes.length === 0, 30_000, 'default again');
      profiles.cancel();
    } finally {
      grpc.close();
    }
  });

  kubeTest(
    'the sp-validator webhook refuses an invalid ServiceProfile naming the field',
    async ({ kubeConfig, namespace }) => {
      const dir = await mkdtemp(join(tmpdir(), 'sp-validator-'));
      const ca = await createCertificateAuthority({ dir, commonName: 'sp-validator-ca' });
      const serving = await issueCertificate({
        ca,
        dir,
        name: 'serving',
        commonName: 'sp-validator',
        ipAddresses: ['127.0.0.1'],
        usage: 'server',
      });
      const webhook = createServiceProfileValidator({
        certFile: serving.certPath,
        keyFile: serving.keyPath,
        port: 0,
      });
      const { port } = await webhook.start();
      const name = `tsmesh-sp-validator-${namespace}`;
      const kube = createKubeApiClient(kubeConfig);
      try {
        await kube.create(CoreKinds.ValidatingWebhookConfiguration, {
          metadata: { name },
          webhooks: [
            {
              name: 'linkerd-sp-validator.linkerd.io',
              clientConfig: {
                url: `https://127.0.0.1:${port}/`,
                caBundle: (await readFile(ca.certPath)).toString('base64'),
              },
              admissionReviewVersions: ['v1'],
              sideEffects: 'None',
              failurePolicy: 'Fail',
              timeoutSeconds: 5,
              rules: [
                {
                  operations: ['CREATE', 'UPDATE'],
                  apiGroups: ['linkerd.io'],
                  apiVersions: ['v1alpha1', 'v1alpha2'],
                  resources: ['serviceprofiles'],
                },
              ],
              namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } },
            },
          ],
        });
        const bad = {
          metadata: { name: `web.${namespace}.svc.cluster.local`, namespace },
          spec: { routes: [{ name: 'r', condition: { method: 'GET' }, timeout: 'soon' }] },
        };
        await expect
          .poll(
            async () => {
              const err = await kube
                .create(MeshKinds.ServiceProfile, bad, { dryRun: true })
                .catch((e: unknown) => e);
              return err instanceof KubeApiError ? err.message : 'accepted';
            },
            { timeout: 20_000, interval: 250 },
          )
          .toContain('spec.routes[0].timeout');
        const good = {
          ...bad,
          spec: { routes: [{ name: 'r', condition: { method: 'GET' }, timeout: '1s' }] },
        };
        await kube.create(MeshKinds.ServiceProfile, good);
      } finally {
        await kube.delete(CoreKinds.ValidatingWebhookConfiguration, { name }).catch(() => undefined);
        await webhook.close();
        kube.close();
        await rm(dir, { recursive: true, force: true });
      }
    },
  );
});
