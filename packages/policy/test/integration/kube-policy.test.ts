// The policy controller against a real kube-apiserver: every resource kind created, changed and
// deleted while grpc-js clients watch WatchPort and Watch; the validating webhook called by the
// apiserver on https://127.0.0.1:PORT; route status written under the Lease.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { createCertificateAuthority, issueCertificate } from '@tsmesh/testenv';
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
  type ResourceKind,
} from '@tsmesh/kube';
import {
  PolicyIndexer,
  startPolicyService,
  startRouteStatusController,
  type PolicyService,
} from '../../src/index.js';
import {
  authorizationPolicy,
  clients,
  collect,
  httpRoute,
  meshTls,
  networkAuthn,
  pod,
  server,
  service,
} from '../../src/testing-fixtures.test-support.js';

let client: KubeApiClient;
let source: KubeObjectSource;
let svc: PolicyService;
let dir: string;
let caBundle: string;

beforeAll(async () => {
  const kc = testKubeConfig();
  client = createKubeApiClient(kc);
  await installCrds(client, crdManifests({ gatewayApi: true }), { timeoutMs: 60_000 });
  dir = await mkdtemp(join(tmpdir(), 'policy-it-'));
  const ca = await createCertificateAuthority({ dir, commonName: 'policy-webhook-ca' });
  const serving = await issueCertificate({
    ca,
    dir,
    name: 'serving',
    commonName: 'linkerd-policy-validator',
    ipAddresses: ['127.0.0.1'],
    usage: 'server',
  });
  caBundle = (await readFile(ca.certPath)).toString('base64');
  source = createKubeObjectSource({ client });
  svc = await startPolicyService({
    source,
    port: 0,
    clusterNetworks: ['198.18.0.0/15'],
    admin: { port: 0 },
    admission: { port: 0, certFile: serving.certPath, keyFile: serving.keyPath },
    status: {
      client,
      leaseNamespace: 'default',
      identity: 'policy-it-0',
      retryPeriodMs: 500,
      renewDeadlineMs: 4000,
      leaseDurationMs: 6000,
    },
  });
});

afterAll(async () => {
  await svc?.close();
  await source?.close();
  client?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function strip(object: Record<string, unknown>): KubeObject {
  // The API fills kind/apiVersion from the path; creationTimestamp is the server's.
  const { metadata, ...rest } = object as {
    metadata: Record<string, unknown>;
    kind?: string;
    spec?: unknown;
  };
  const { creationTimestamp: _c, ...meta } = metadata;
  const spec = rest.spec as Record<string, unknown> | undefined;
  // Pods: no ServiceAccount of that name exists in a fresh namespace.
  if (rest.kind === 'Pod' && spec) {
    const { serviceAccountName: _sa, ...podSpec } = spec;
    return { ...rest, spec: podSpec, metadata: meta } as KubeObject;
  }
  return { ...rest, metadata: meta } as KubeObject;
}

async function create(kind: ResourceKind, object: Record<string, unknown>): Promise<void> {
  await client.create(kind, strip(object));
}

async function replace(kind: ResourceKind, namespace: string, name: string, change: (o: KubeObject) => void) {
  const current = await client.get(kind, { namespace, name });
  change(current);
  await client.replace(kind, current);
}

describe('policy controller on kube-apiserver', () => {
  kubeTest('WatchPort follows Server, authorization, route and rate-limit changes', async ({ namespace }) => {
    const c = clients(svc.address);
    try {
      await create(CoreKinds.Pod, pod('web-0', { app: 'web' }, namespace));
      await expect
        .poll(() => svc.state()?.hasWorkload('Pod', namespace, 'web-0'), { timeout: 20_000 })
        .toBe(true);
      const call = c.inbound.watchPort({
        workload: JSON.stringify({ ns: namespace, pod: 'web-0' }),
        port: 8080,
      });
      const s = collect(call);
      let n = 1;
      expect((await s.next(n)).labels).toEqual({ group: '', kind: 'default', name: 'all-unauthenticated' });
      const latest = async (pred: (m: (typeof s.messages)[number]) => boolean) => {
        await expect.poll(() => s.messages.slice(n).some(pred), { timeout: 20_000 }).toBe(true);
        n = s.messages.length;
        return s.messages[n - 1]!;
      };

      await create(MeshKinds.Server, server('web-http', {}, namespace));
      let m = await latest((x) => x.labels.name === 'web-http');
      expect(m.protocol?.detect).toBeTruthy();
      expect(m.authorizations).toHaveLength(0);

      await replace(MeshKinds.Server, namespace, 'web-http', (o) => {
        (o.spec as Record<string, unknown>).proxyProtocol = 'HTTP/2';
      });
      m = await latest((x) => !!x.protocol?.http2);

      await create(
        MeshKinds.MeshTLSAuthentication,
        meshTls('bots', [`bot.${namespace}.serviceaccount.identity.linkerd.cluster.local`], namespace),
      );
      await create(
        MeshKinds.AuthorizationPolicy,
        authorizationPolicy(
          'web-bots',
          { group: 'policy.linkerd.io', kind: 'Server', name: 'web-http' },
          [{ group: 'policy.linkerd.io', kind: 'MeshTLSAuthentication', name: 'bots' }],
          namespace,
        ),
      );
      m = await latest((x) => x.authorizations.some((a) => a.metadata?.resource?.name === 'web-bots'));
      expect(m.authorizations[0]?.authentication?.meshTLS?.identities?.identities?.[0]?.name).toBe(
        `bot.${namespace}.serviceaccount.identity.linkerd.cluster.local`,
      );

      await create(
        MeshKinds.NetworkAuthentication,
        networkAuthn('office', [{ cidr: '198.18.0.0/16', except: ['198.18.1.0/24'] }], namespace),
      );
      await create(MeshKinds.ServerAuthorization, {
        apiVersion: 'policy.linkerd.io/v1beta1',
        kind: 'ServerAuthorization',
        metadata: { name: 'web-office', namespace },
        spec: {
          server: { name: 'web-http' },
          client: { networks: [{ cidr: '198.18.0.0/16' }], unauthenticated: true },
        },
      });
      m = await latest((x) => x.authorizations.some((a) => a.labels?.kind === 'serverauthorization'));

      await create(
        MeshKinds.PolicyHTTPRoute,
        httpRoute(
          'web-api',
          [{ group: 'policy.linkerd.io', kind: 'Server', name: 'web-http' }],
          [{ matches: [{ path: { type: 'PathPrefix', value: '/api' } }] }],
          'policy.linkerd.io',
          namespace,
        ),
      );
      m = await latest((x) => x.protocol?.http2?.routes?.[0]?.metadata?.resource?.name === 'web-api');

      await create(MeshKinds.HTTPLocalRateLimitPolicy, {
        apiVersion: 'policy.linkerd.io/v1alpha1',
        kind: 'HTTPLocalRateLimitPolicy',
        metadata: { name: 'web-rl', namespace },
        spec: {
          targetRef: { group: 'policy.linkerd.io', kind: 'Server', name: 'web-http' },
          total: { requestsPerSecond: 100 },
        },
      });
      m = await latest((x) => x.protocol?.http2?.localRateLimit?.total?.requestsPerSecond === 100);

      await replace(MeshKinds.Server, namespace, 'web-http', (o) => {
        (o.spec as Record<string, unknown>).proxyProtocol = 'gRPC';
      });
      await create(MeshKinds.GatewayGRPCRoute, {
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'GRPCRoute',
        metadata: { name: 'web-grpc', namespace },
        spec: {
          parentRefs: [{ group: 'policy.linkerd.io', kind: 'Server', name: 'web-http' }],
          rules: [{ matches: [{ method: { service: 'emoji.Emoji', method: 'List' } }] }],
        },
      });
      m = await latest((x) => x.protocol?.grpc?.routes?.[0]?.metadata?.resource?.name === 'web-grpc');
      expect(m.protocol?.grpc?.routes?.[0]?.rules?.[0]?.matches?.[0]?.rpc).toMatchObject({
        service: 'emoji.Emoji',
        method: 'List',
      });

      for (const [kind, name] of [
        [MeshKinds.GatewayGRPCRoute, 'web-grpc'],
        [MeshKinds.HTTPLocalRateLimitPolicy, 'web-rl'],
        [MeshKinds.PolicyHTTPRoute, 'web-api'],
        [MeshKinds.ServerAuthorization, 'web-office'],
        [MeshKinds.NetworkAuthentication, 'office'],
        [MeshKinds.AuthorizationPolicy, 'web-bots'],
        [MeshKinds.MeshTLSAuthentication, 'bots'],
      ] as const) {
        await client.delete(kind, { namespace, name });
      }
      m = await latest(
        (x) =>
          x.protocol?.grpc?.routes?.[0]?.metadata?.default === 'default' && x.authorizations.length === 0,
      );
      await client.delete(MeshKinds.Server, { namespace, name: 'web-http' });
      m = await latest((x) => x.labels.kind === 'default');

      call.cancel();
      await expect.poll(() => svc.subscriptions(), { timeout: 10_000 }).toBe(0);
    } finally {
      c.close();
    }
  });

  kubeTest('Watch follows Service annotations, HTTPRoutes and GRPCRoutes', async ({ namespace }) => {
    const c = clients(svc.address);
    try {
      await create(CoreKinds.Service, service('web', [{ name: 'http', port: 80 }], {}, namespace));
      await create(CoreKinds.Service, service('web-v2', [{ name: 'http', port: 80 }], {}, namespace));
      await expect.poll(() => svc.state()?.service(namespace, 'web-v2'), { timeout: 20_000 }).toBeTruthy();
      const call = c.outbound.watch({
        sourceWorkload: JSON.stringify({ ns: namespace, pod: 'client' }),
        authority: `web.${namespace}.svc.cluster.local:80`,
      });
      const s = collect(call);
      let n = 1;
      const first = await s.next(1);
      expect(first.protocol?.detect?.http1?.routes?.[0]?.metadata?.default).toBe('http');
      const latest = async (pred: (m: (typeof s.messages)[number]) => boolean) => {
        await expect.poll(() => s.messages.slice(n).some(pred), { timeout: 20_000 }).toBe(true);
        n = s.messages.length;
        return s.messages[n - 1]!;
      };

      await replace(CoreKinds.Service, namespace, 'web', (o) => {
        o.metadata = {
          ...o.metadata,
          annotations: {
            'retry.linkerd.io/http': '5xx',
            'timeout.linkerd.io/response': '2s',
            'balancer.linkerd.io/failure-accrual': 'consecutive',
          },
        };
      });
      let m = await latest((x) => !!x.protocol?.detect?.http1?.routes?.[0]?.rules?.[0]?.retry);
      expect(m.protocol?.detect?.http1?.failureAccrual?.consecutiveFailures?.maxFailures).toBe(7);
      expect(Number(m.protocol?.detect?.http1?.routes?.[0]?.rules?.[0]?.timeouts?.response?.seconds)).toBe(2);

      await create(
        MeshKinds.GatewayHTTPRoute,
        httpRoute(
          'web-split',
          [{ group: 'core', kind: 'Service', name: 'web', port: 80 }],
          [
            {
              backendRefs: [
                { name: 'web', port: 80, weight: 3 },
                { name: 'web-v2', port: 80, weight: 1 },
              ],
            },
          ],
          'gateway.networking.k8s.io',
          namespace,
        ),
      );
      m = await latest(
        (x) => x.protocol?.detect?.http1?.routes?.[0]?.metadata?.resource?.name === 'web-split',
      );
      const backends =
        m.protocol?.detect?.http1?.routes?.[0]?.rules?.[0]?.backends?.randomAvailable?.backends ?? [];
      expect(backends.map((b) => [b.backend?.backend?.metadata?.resource?.name, b.weight])).toEqual([
        ['web', 3],
        ['web-v2', 1],
      ]);

      await create(MeshKinds.GatewayGRPCRoute, {
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'GRPCRoute',
        metadata: { name: 'web-grpc', namespace },
        spec: { parentRefs: [{ group: 'core', kind: 'Service', name: 'web', port: 80 }], rules: [{}] },
      });
      m = await latest((x) => x.protocol?.grpc?.routes?.[0]?.metadata?.resource?.name === 'web-grpc');

      await client.delete(MeshKinds.GatewayGRPCRoute, { namespace, name: 'web-grpc' });
      await client.delete(MeshKinds.GatewayHTTPRoute, { namespace, name: 'web-split' });
      m = await latest((x) => x.protocol?.detect?.http1?.routes?.[0]?.metadata?.default === 'http');

      // Deleting the Service ends the stream.
      await client.delete(CoreKinds.Service, { namespace, name: 'web' });
      await expect.poll(() => s.ended, { timeout: 20_000 }).toBe(true);
      await expect.poll(() => svc.subscriptions(), { timeout: 10_000 }).toBe(0);
    } finally {
      c.close();
    }
  });

  kubeTest(
    'the webhook refuses invalid policy resources with a message naming the field',
    async ({ namespace }) => {
      const name = `tsmesh-policy-it-${namespace}`;
      await client.create(CoreKinds.ValidatingWebhookConfiguration, {
        metadata: { name },
        webhooks: [
          {
            name: 'linkerd-policy-validator.linkerd.io',
            clientConfig: { url: `https://127.0.0.1:${svc.admissionPort}/`, caBundle },
            admissionReviewVersions: ['v1'],
            sideEffects: 'None',
            failurePolicy: 'Fail',
            timeoutSeconds: 5,
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } },
            rules: [
              {
                operations: ['CREATE', 'UPDATE'],
                apiGroups: ['policy.linkerd.io', 'gateway.networking.k8s.io'],
                apiVersions: ['*'],
                resources: ['*'],
              },
            ],
          },
        ],
      });
      const refused = async (kind: ResourceKind, object: Record<string, unknown>) => {
        const err = await client.create(kind, strip(object)).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(KubeApiError);
        return (err as KubeApiError).message;
      };
      try {
        await create(CoreKinds.Pod, pod('web-0', { app: 'web' }, namespace));
        await create(MeshKinds.Server, server('web-a', {}, namespace));
        await expect
          .poll(
            () => svc.state()?.resources.some((r) => r.kind === 'Server' && r.meta.namespace === namespace),
            { timeout: 20_000 },
          )
          .toBe(true);
        // Webhook configurations take effect asynchronously: wait until a duplicate is refused.
        await expect
          .poll(
            async () =>
              await client
                .create(MeshKinds.Server, strip(server('web-b', {}, namespace)), { dryRun: true })
                .then(
                  () => 'allowed',
                  (e: unknown) => (e as Error).message,
                ),
            { timeout: 20_000, interval: 300 },
          )
          .toContain('two Servers must not select the same pod port');
        expect(
          await refused(
            MeshKinds.Server,
            server(
              'web-c',
              { podSelector: { matchLabels: { app: 'web' }, matchExpressions: [] }, port: 8080 },
              namespace,
            ),
          ),
        ).toContain('selects port 8080 of Pod web-0, which Server web-a already selects');
        expect(
          await refused(
            MeshKinds.AuthorizationPolicy,
            authorizationPolicy(
              'bad-target',
              { group: 'apps', kind: 'Deployment', name: 'web' },
              [{ kind: 'ServiceAccount', name: 'web' }],
              namespace,
            ),
          ),
        ).toContain('spec.targetRef.kind');
        expect(
          await refused(
            MeshKinds.NetworkAuthentication,
            networkAuthn('bad-except', [{ cidr: '198.18.0.0/16', except: ['198.19.0.0/24'] }], namespace),
          ),
        ).toContain('spec.networks[0].except[0]: 198.19.0.0/24 is not inside 198.18.0.0/16');
        expect(
          await refused(
            MeshKinds.GatewayHTTPRoute,
            httpRoute(
              'mixed',
              [
                { group: 'policy.linkerd.io', kind: 'Server', name: 'web-a' },
                { group: 'core', kind: 'Service', name: 'web', port: 80 },
              ],
              [],
              'gateway.networking.k8s.io',
              namespace,
            ),
          ),
        ).toContain('spec.parentRefs: mixes Server and Service parents');
        expect(
          await refused(MeshKinds.HTTPLocalRateLimitPolicy, {
            apiVersion: 'policy.linkerd.io/v1alpha1',
            kind: 'HTTPLocalRateLimitPolicy',
            metadata: { name: 'too-generous', namespace },
            spec: {
              targetRef: { group: 'policy.linkerd.io', kind: 'Server', name: 'web-a' },
              total: { requestsPerSecond: 10 },
              identity: { requestsPerSecond: 20 },
            },
          }),
        ).toContain('spec.identity.requestsPerSecond: 20 exceeds total.requestsPerSecond 10');
        expect(
          await refused(
            MeshKinds.MeshTLSAuthentication,
            meshTls('bad-id', ['web.*.serviceaccount.identity.linkerd.cluster.local'], namespace),
          ),
        ).toContain('spec.identities[0]');
        // A valid resource passes.
        await create(MeshKinds.Server, server('web-admin', { port: 9990 }, namespace));
      } finally {
        await client.delete(CoreKinds.ValidatingWebhookConfiguration, { name }).catch(() => undefined);
      }
    },
  );

  kubeTest('only the holder of the Lease writes status; a second replica waits', async () => {
    const indexer = new PolicyIndexer({ source, index: {} });
    await indexer.start();
    const other = startRouteStatusController({
      client,
      indexer,
      leaseNamespace: 'default',
      identity: 'policy-it-1',
      retryPeriodMs: 300,
      renewDeadlineMs: 4000,
      leaseDurationMs: 6000,
    });
    try {
      await expect.poll(() => other.elector.leader, { timeout: 20_000 }).toBe('policy-it-0');
      expect(other.elector.isLeader).toBe(false);
    } finally {
      await other.close();
      await indexer.close();
    }
  });

  kubeTest('admin: /ready, /live and /metrics', async () => {
    const base = `http://127.0.0.1:${svc.adminPort}`;
    expect((await fetch(`${base}/ready`)).status).toBe(200);
    expect((await fetch(`${base}/live`)).status).toBe(200);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain('policy_watch_subscriptions');
    expect(metrics).toContain('policy_index_rebuilds_total');
  });

  kubeTest('route status: Accepted and ResolvedRefs on each parent', async ({ namespace }) => {
    await create(CoreKinds.Service, service('web', [{ name: 'http', port: 80 }], {}, namespace));
    await create(MeshKinds.Server, server('web-http', {}, namespace));
    await create(
      MeshKinds.GatewayHTTPRoute,
      httpRoute(
        'web-route',
        [
          { group: 'core', kind: 'Service', name: 'web', port: 80 },
          { group: 'core', kind: 'Service', name: 'missing', port: 80 },
        ],
        [
          {
            backendRefs: [
              { name: 'web', port: 80 },
              { name: 'gone', port: 80 },
            ],
          },
        ],
        'gateway.networking.k8s.io',
        namespace,
      ),
    );
    await create(
      MeshKinds.PolicyHTTPRoute,
      httpRoute(
        'web-inbound',
        [{ group: 'policy.linkerd.io', kind: 'Server', name: 'web-http' }],
        [{}],
        'policy.linkerd.io',
        namespace,
      ),
    );
    type Status = {
      status?: {
        parents?: {
          parentRef: { name: string };
          controllerName: string;
          conditions: { type: string; status: string; reason: string }[];
        }[];
      };
    };
    const parents = async (kind: ResourceKind, name: string) =>
      ((await client.get(kind, { namespace, name })) as Status).status?.parents ?? [];
    await expect
      .poll(async () => (await parents(MeshKinds.GatewayHTTPRoute, 'web-route')).length, { timeout: 30_000 })
      .toBe(2);
    const out = await parents(MeshKinds.GatewayHTTPRoute, 'web-route');
    expect(
      out.map((p) => [
        p.parentRef.name,
        p.controllerName,
        p.conditions.map((c) => `${c.type}=${c.status}/${c.reason}`),
      ]),
    ).toEqual([
      [
        'web',
        'linkerd.io/policy-controller',
        ['Accepted=True/Accepted', 'ResolvedRefs=False/BackendNotFound'],
      ],
      [
        'missing',
        'linkerd.io/policy-controller',
        ['Accepted=False/NoMatchingParent', 'ResolvedRefs=False/BackendNotFound'],
      ],
    ]);
    await expect
      .poll(async () => (await parents(MeshKinds.PolicyHTTPRoute, 'web-inbound')).length, { timeout: 30_000 })
      .toBe(1);
    const inbound = await parents(MeshKinds.PolicyHTTPRoute, 'web-inbound');
    expect(inbound[0]?.conditions.map((c) => `${c.type}=${c.status}`)).toEqual([
      'Accepted=True',
      'ResolvedRefs=True',
    ]);
    // Creating the missing backend flips ResolvedRefs.
    await create(CoreKinds.Service, service('gone', [{ name: 'http', port: 80 }], {}, namespace));
    await expect
      .poll(async () => (await parents(MeshKinds.GatewayHTTPRoute, 'web-route'))[0]?.conditions[1]?.status, {
        timeout: 30_000,
      })
      .toBe('True');
  });
});
