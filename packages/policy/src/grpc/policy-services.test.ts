import { inbound, outbound } from '@tsmesh/core';
import { CoreKinds, MeshKinds } from '@tsmesh/kube';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMemoryObjectSource, type MemoryObjectSource } from '../indexing/index.js';
import { startPolicyService, type PolicyService } from '../runtime/index.js';
import {
  authorizationPolicy,
  clients,
  collect,
  getOutbound,
  getPort,
  COMPARABLE,
  httpRoute,
  meshTls,
  NS,
  pod,
  server,
  service,
} from '../testing-fixtures.test-support.js';

const WEB = JSON.stringify({ ns: NS, pod: 'web-0' });

let source: MemoryObjectSource;
let svc: PolicyService;
let c: ReturnType<typeof clients>;

beforeEach(async () => {
  source = createMemoryObjectSource();
  source.put(CoreKinds.Namespace, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  source.put(CoreKinds.Pod, pod('web-0', { app: 'web' }));
  svc = await startPolicyService({ source, port: 0, clusterNetworks: ['198.18.0.0/15'] });
  c = clients(svc.address);
});

afterEach(async () => {
  c.close();
  await svc.close();
  await source.close();
});

function inboundJson(m: inbound.Server) {
  return inbound.Server.toObject(m, COMPARABLE);
}

function outboundJson(m: outbound.OutboundPolicy) {
  return outbound.OutboundPolicy.toObject(m, COMPARABLE);
}

describe('InboundServerPolicies', () => {
  it('answers the default server with default and probe routes (golden)', async () => {
    const res = await getPort(c, { workload: WEB, port: 8080 });
    await expect(JSON.stringify(inboundJson(res), null, 2)).toMatchFileSnapshot(
      '__golden__/inbound-default.golden.txt',
    );
    expect(res.labels).toEqual({ group: '', kind: 'default', name: 'all-unauthenticated' });
  });

  it('accepts the legacy ns:pod form and refuses bad specs', async () => {
    const res = await getPort(c, { workload: `${NS}:web-0`, port: 8080 });
    expect(res.protocol?.detect).toBeTruthy();
    await expect(getPort(c, { workload: 'nonsense', port: 8080 })).rejects.toMatchObject({
      code: 3,
      details: expect.stringContaining('Invalid workload: nonsense'),
    });
    await expect(getPort(c, { workload: WEB, port: 0 })).rejects.toMatchObject({
      code: 3,
    });
    await expect(
      getPort(c, {
        workload: JSON.stringify({ ns: NS, pod: 'nope' }),
        port: 80,
      }),
    ).rejects.toMatchObject({ code: 5, details: expect.stringContaining('unknown server') });
  });

  it('answers a Server with an HTTPRoute and per-route authorizations (golden)', async () => {
    source.put(MeshKinds.Server, server('web-http', { proxyProtocol: 'HTTP/1' }));
    source.put(
      MeshKinds.MeshTLSAuthentication,
      meshTls('vote-bot', [
        'vote-bot.emojivoto.serviceaccount.identity.linkerd.cluster.local',
        '*.ops.serviceaccount.identity.linkerd.cluster.local',
      ]),
    );
    source.put(
      MeshKinds.PolicyHTTPRoute,
      httpRoute(
        'web-api',
        [{ group: 'policy.linkerd.io', kind: 'Server', name: 'web-http' }],
        [
          {
            matches: [
              {
                path: { type: 'PathPrefix', value: '/api' },
                method: 'POST',
                headers: [{ name: 'x-a', value: 'b' }],
              },
            ],
            filters: [
              {
                type: 'RequestHeaderModifier',
                requestHeaderModifier: { set: [{ name: 'x-b', value: 'c' }] },
              },
            ],
          },
        ],
        'policy.linkerd.io',
        NS,
        { hostnames: ['*.example.com', 'web.example.com'] },
      ),
    );
    source.put(
      MeshKinds.AuthorizationPolicy,
      authorizationPolicy(
        'web-api-authn',
        { group: 'policy.linkerd.io', kind: 'HTTPRoute', name: 'web-api' },
        [{ group: 'policy.linkerd.io', kind: 'MeshTLSAuthentication', name: 'vote-bot' }],
      ),
      authorizationPolicy('web-server', { group: 'policy.linkerd.io', kind: 'Server', name: 'web-http' }, [
        { kind: 'ServiceAccount', name: 'web' },
      ]),
    );
    await expect
      .poll(async () => (await getPort(c, { workload: WEB, port: 8080 })).authorizations.length)
      .toBe(1);
    const res = await getPort(c, { workload: WEB, port: 8080 });
    await expect(JSON.stringify(inboundJson(res), null, 2)).toMatchFileSnapshot(
      '__golden__/inbound-server-route.golden.txt',
    );
    expect(res.labels).toEqual({ group: 'policy.linkerd.io', kind: 'server', name: 'web-http' });
  });

  it('answers ExternalWorkload ports selected by externalWorkloadSelector', async () => {
    source.put(MeshKinds.ExternalWorkload, {
      apiVersion: 'workload.linkerd.io/v1beta1',
      kind: 'ExternalWorkload',
      metadata: { name: 'vm-0', namespace: NS, labels: { app: 'legacy' } },
      spec: {
        meshTLS: { identity: 'spiffe://cluster.local/vm', serverName: 'vm-0.cluster.local' },
        workloadIPs: [{ ip: '198.18.5.1' }],
        ports: [{ name: 'http', port: 8080 }],
      },
    });
    source.put(
      MeshKinds.Server,
      server('legacy-http', {
        podSelector: undefined,
        externalWorkloadSelector: { matchLabels: { app: 'legacy' } },
        proxyProtocol: 'opaque',
      }),
    );
    const workload = JSON.stringify({ ns: NS, external_workload: 'vm-0' });
    await expect
      .poll(async () => (await getPort(c, { workload, port: 8080 }).catch(() => undefined))?.labels?.name)
      .toBe('legacy-http');
    const res = await getPort(c, { workload, port: 8080 });
    expect(res.protocol?.opaque).toBeTruthy();
    // The pod of the same namespace keeps its default policy (the Server selects external workloads).
    expect((await getPort(c, { workload: WEB, port: 8080 })).labels.kind).toBe('default');
  });

  it('WatchPort sends the latest state after each change and ends on cancel', async () => {
    const call = c.inbound.watchPort({ workload: WEB, port: 8080 });
    const stream = collect(call);
    const first = await stream.next(1);
    expect(first.labels.kind).toBe('default');
    await expect.poll(() => svc.subscriptions()).toBe(1);
    source.put(MeshKinds.Server, server('web-http'));
    const second = await stream.next(2);
    expect(second.labels).toEqual({ group: 'policy.linkerd.io', kind: 'server', name: 'web-http' });
    // An unrelated change sends nothing new.
    source.put(CoreKinds.Pod, pod('other-0', { app: 'other' }));
    await new Promise((r) => setTimeout(r, 100));
    expect(stream.messages).toHaveLength(2);
    source.delete(MeshKinds.Server, NS, 'web-http');
    expect((await stream.next(3)).labels.kind).toBe('default');
    call.cancel();
    await expect.poll(() => svc.subscriptions()).toBe(0);
  });
});

describe('watch back-pressure', () => {
  it('a client that does not read gets the latest state, not a queue of every change', async () => {
    source.put(MeshKinds.Server, server('web-http'));
    const call = c.inbound.watchPort({ workload: WEB, port: 8080 });
    const stream = collect(call);
    await stream.next(1);
    call.pause();
    const CHANGES = 300;
    for (let i = 0; i < CHANGES; i++) {
      source.put(
        MeshKinds.AuthorizationPolicy,
        authorizationPolicy(
          `p-${String(i).padStart(3, '0')}`,
          { group: 'policy.linkerd.io', kind: 'Server', name: 'web-http' },
          [{ kind: 'ServiceAccount', name: `sa-${i}` }],
        ),
      );
      if (i % 20 === 0) await new Promise((r) => setImmediate(r));
    }
    await new Promise((r) => setTimeout(r, 300));
    call.resume();
    await expect.poll(() => stream.messages.at(-1)?.authorizations.length, { timeout: 10_000 }).toBe(CHANGES);
    expect(stream.messages.length).toBeLessThan(CHANGES / 2);
    call.cancel();
    await expect.poll(() => svc.subscriptions()).toBe(0);
  });
});

describe('OutboundPolicies', () => {
  beforeEach(() => {
    source.put(
      CoreKinds.Service,
      service('web', [{ name: 'http', port: 80 }], {
        clusterIP: '198.19.0.10',
        annotations: {
          'retry.linkerd.io/http': '5xx,429',
          'retry.linkerd.io/limit': '2',
          'timeout.linkerd.io/request': '5s',
          'balancer.linkerd.io/failure-accrual': 'consecutive',
        },
      }),
      service('web-v2', [{ name: 'http', port: 80 }]),
    );
  });

  it('answers the default route, backend, retries, timeouts and accrual (golden)', async () => {
    await expect.poll(() => svc.state()?.service(NS, 'web')).toBeTruthy();
    const res = await getOutbound(c, {
      sourceWorkload: `${NS}:client`,
      authority: `web.${NS}.svc.cluster.local:80`,
    });
    await expect(JSON.stringify(outboundJson(res), null, 2)).toMatchFileSnapshot(
      '__golden__/outbound-default.golden.txt',
    );
  });

  it('takes timeouts and retries from the route before the Service, as Linkerd does', async () => {
    source.put(
      MeshKinds.PolicyHTTPRoute,
      httpRoute(
        'web-slow',
        [{ group: 'core', kind: 'Service', name: 'web', port: 80 }],
        [
          { matches: [{ path: { type: 'PathPrefix', value: '/slow' } }], timeouts: { request: '30s' } },
          { matches: [{ path: { type: 'PathPrefix', value: '/odd' } }], backendRefs: [{ name: 'web-v2' }] },
        ],
        'policy.linkerd.io',
        NS,
        { annotations: { 'retry.linkerd.io/http': 'gateway-error' } },
      ),
    );
    await expect.poll(() => svc.state()?.httpRoutes.length).toBe(1);
    const res = await getOutbound(c, {
      sourceWorkload: `${NS}:client`,
      authority: `web.${NS}.svc.cluster.local:80`,
    });
    const [slow, odd] = res.protocol?.detect?.http1?.routes?.[0]?.rules ?? [];
    expect(Number(slow?.timeouts?.request?.seconds)).toBe(30);
    expect(slow?.retry?.conditions?.statusRanges).toEqual([{ start: 502, end: 504 }]);
    // The second rule sets no timeout: the Service's timeout.linkerd.io/request applies.
    expect(Number(odd?.timeouts?.request?.seconds)).toBe(5);
    const backend = odd?.backends?.randomAvailable?.backends?.[0]?.backend;
    expect(backend?.backend?.metadata?.default).toBe('invalid');
    expect(backend?.filters?.[0]?.failureInjector).toMatchObject({
      status: 500,
      message: 'missing port for backend Service web-v2',
    });
  });

  it('marks Service routes allow_l5d_request_headers only with --allow-l5d-request-headers', async () => {
    source.put(
      MeshKinds.PolicyHTTPRoute,
      httpRoute(
        'web-api',
        [{ group: 'core', kind: 'Service', name: 'web', port: 80 }],
        [{}],
        'policy.linkerd.io',
        NS,
      ),
    );
    await expect.poll(() => svc.state()?.httpRoutes.length).toBe(1);
    const spec = { sourceWorkload: `${NS}:client`, authority: `web.${NS}.svc.cluster.local:80` };
    const rulesOf = (res: outbound.OutboundPolicy) => res.protocol?.detect?.http1?.routes?.[0]?.rules ?? [];
    const off = rulesOf(await getOutbound(c, spec));
    expect(off.length).toBeGreaterThan(0);
    expect(off.every((r) => r.allowL5dRequestHeaders === false)).toBe(true);
    const allowing = await startPolicyService({
      source,
      port: 0,
      clusterNetworks: ['198.18.0.0/15'],
      allowL5dRequestHeaders: true,
    });
    const c2 = clients(allowing.address);
    try {
      await expect.poll(() => allowing.state()?.httpRoutes.length).toBe(1);
      const on = rulesOf(await getOutbound(c2, spec));
      expect(on.length).toBeGreaterThan(0);
      expect(on.every((r) => r.allowL5dRequestHeaders === true)).toBe(true);
    } finally {
      c2.close();
      await allowing.close();
    }
  });

  it('answers EgressNetworks: the client namespace before the global one, Deny forbids', async () => {
    const egress = (name: string, ns: string, spec: Record<string, unknown>) => ({
      apiVersion: 'policy.linkerd.io/v1alpha1',
      kind: 'EgressNetwork',
      metadata: { name, namespace: ns },
      spec,
    });
    source.put(
      MeshKinds.EgressNetwork,
      egress('all-egress', 'linkerd-egress', { trafficPolicy: 'Allow' }),
      egress('no-docs', NS, { trafficPolicy: 'Deny', networks: [{ cidr: '192.0.2.0/24' }] }),
    );
    await expect.poll(() => svc.state()?.egressNetworks.length).toBe(2);
    const get = (a: number, b: number, cc: number, d: number) =>
      getOutbound(c, {
        sourceWorkload: `${NS}:client`,
        addr: { ip: { ipv4: ((a << 24) | (b << 16) | (cc << 8) | d) >>> 0 }, port: 443 },
      });
    const denied = await get(192, 0, 2, 7);
    expect(denied.metadata?.resource).toMatchObject({
      group: 'policy.linkerd.io',
      kind: 'EgressNetwork',
      name: 'no-docs',
      port: 443,
    });
    const detect = denied.protocol?.detect;
    expect(detect?.opaque?.routes?.[0]?.metadata?.default).toBe('tcp-egress-deny');
    expect(detect?.opaque?.routes?.[0]?.rules?.[0]?.filters?.[0]?.forbidden).toBeTruthy();
    expect(detect?.http1?.routes?.[0]?.metadata?.default).toBe('http-egress-deny');
    expect(detect?.http1?.routes?.[0]?.rules?.[0]?.filters?.[0]?.failureInjector).toMatchObject({
      status: 403,
      message: 'traffic not allowed',
    });
    const allowed = await get(203, 0, 113, 9);
    expect(allowed.metadata?.resource?.name).toBe('all-egress');
    expect(allowed.protocol?.detect?.http1?.routes?.[0]?.metadata?.default).toBe('http-egress-allow');
    // In-cluster addresses are not captured by a default (network-less) EgressNetwork.
    await expect(get(198, 18, 0, 99)).rejects.toMatchObject({ code: 5 });
  });

  it('answers HTTPRoute backends and weights (golden), the fallbacks, and Watch updates', async () => {
    await expect.poll(() => svc.state()?.service(NS, 'web')).toBeTruthy();
    const call = c.outbound.watch({
      sourceWorkload: `${NS}:client`,
      addr: { ip: { ipv4: (198 << 24) | (19 << 16) | 10 }, port: 80 },
    });
    const stream = collect(call);
    expect((await stream.next(1)).metadata?.resource?.name).toBe('web');
    source.put(
      MeshKinds.GatewayHTTPRoute,
      httpRoute(
        'web-split',
        [{ group: 'core', kind: 'Service', name: 'web', port: 80 }],
        [
          {
            matches: [{ path: { type: 'PathPrefix', value: '/' } }],
            backendRefs: [
              { name: 'web', port: 80, weight: 90 },
              { name: 'web-v2', port: 80, weight: 10 },
              { name: 'missing', port: 80, weight: 1 },
            ],
            timeouts: { request: '3s', backendRequest: '1s' },
          },
        ],
      ),
    );
    const updated = await stream.next(2);
    await expect(JSON.stringify(outboundJson(updated), null, 2)).toMatchFileSnapshot(
      '__golden__/outbound-route-split.golden.txt',
    );
    call.cancel();
    await expect.poll(() => svc.subscriptions()).toBe(0);

    const external = await getOutbound(c, {
      sourceWorkload: `${NS}:client`,
      addr: { ip: { ipv4: (192 << 24) | (0 << 16) | (2 << 8) | 1 }, port: 443 },
    });
    expect(external.metadata?.default).toBe('egress-fallback');
    const undefinedPort = await getOutbound(c, {
      sourceWorkload: `${NS}:client`,
      authority: `web.${NS}.svc.cluster.local:8080`,
    });
    expect(undefinedPort.protocol?.opaque?.routes?.[0]?.metadata?.default).toBe('undefined-port');
    await expect(
      getOutbound(c, {
        sourceWorkload: `${NS}:client`,
        addr: { ip: { ipv4: (198 << 24) | (18 << 16) | 99 }, port: 80 },
      }),
    ).rejects.toMatchObject({ code: 5 });
    await expect(
      getOutbound(c, {
        sourceWorkload: `${NS}:client`,
        authority: `nope.${NS}.svc.cluster.local:80`,
      }),
    ).rejects.toMatchObject({ code: 5, details: expect.stringContaining('unknown target') });
  });
});
