import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MeshError } from '../errors/index.js';
import { evaluate, type EvaluateInput } from './evaluate.js';
import {
  authzPolicy,
  httpRoute,
  identity,
  indexOf,
  meshTls,
  networkAuthn,
  NS,
  pod,
  server,
} from './policy-fixtures.test-support.js';
import type { PolicyIndex } from './policy-index.js';

const web = pod(
  'web-0',
  { app: 'web' },
  {
    probes: [
      { port: 'http', path: '/live' },
      { port: 8080, path: '/ready' },
    ],
  },
);
const target = { namespace: NS, workload: 'web-0', port: 8080 } as const;
const MESHED = { ip: '10.1.0.5', identity: identity('vote-bot') };
const IN_CLUSTER = { ip: '10.1.0.5' };
const OUTSIDE = { ip: '198.18.0.5' };

function check(index: PolicyIndex, client: EvaluateInput['client'], request?: EvaluateInput['request']) {
  return evaluate({ client, target, ...(request ? { request } : {}) }, index);
}

describe('default policies (no Server selects the port)', () => {
  const cases = [
    ['all-unauthenticated', { meshed: 'allow', inCluster: 'allow', outside: 'allow' }],
    ['all-authenticated', { meshed: 'allow', inCluster: 'deny', outside: 'deny' }],
    ['cluster-unauthenticated', { meshed: 'allow', inCluster: 'allow', outside: 'deny' }],
    ['cluster-authenticated', { meshed: 'allow', inCluster: 'deny', outside: 'deny' }],
    ['deny', { meshed: 'deny', inCluster: 'deny', outside: 'deny' }],
    ['audit', { meshed: 'audit', inCluster: 'audit', outside: 'audit' }],
  ] as const;
  for (const [policy, want] of cases) {
    it(`${policy}`, () => {
      const index = indexOf([web], { defaultPolicy: policy });
      const d = check(index, MESHED, { path: '/api' });
      expect(d.decision).toBe(want.meshed);
      expect(d.server).toEqual({ kind: 'default', name: policy });
      expect(check(index, IN_CLUSTER, { path: '/api' }).decision).toBe(want.inCluster);
      expect(check(index, OUTSIDE).decision).toBe(want.outside);
      if (want.meshed !== 'deny') expect(d.authorization).toEqual({ kind: 'default', name: policy });
      else expect(d).toMatchObject({ reason: 'unauthorized', httpStatus: 403 });
    });
  }

  it('the pod annotation overrides the namespace annotation, which overrides the cluster default', () => {
    const ns = {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: NS, annotations: { 'config.linkerd.io/default-inbound-policy': 'deny' } },
    };
    const annotated = pod(
      'web-1',
      { app: 'web' },
      { annotations: { 'config.linkerd.io/default-inbound-policy': 'all-authenticated' } },
    );
    const index = indexOf([ns, web, annotated]);
    expect(check(index, OUTSIDE).server).toEqual({ kind: 'default', name: 'deny' });
    expect(evaluate({ client: OUTSIDE, target: { ...target, workload: 'web-1' } }, index).server).toEqual({
      kind: 'default',
      name: 'all-authenticated',
    });
  });

  it('require-identity ports turn unauthenticated defaults into authenticated ones', () => {
    const p = pod(
      'web-2',
      { app: 'web' },
      { annotations: { 'config.linkerd.io/proxy-require-identity-inbound-ports': '8080,9000-9100' } },
    );
    const index = indexOf([p]);
    expect(evaluate({ client: OUTSIDE, target: { ...target, workload: 'web-2' } }, index).decision).toBe(
      'deny',
    );
    expect(evaluate({ client: MESHED, target: { ...target, workload: 'web-2' } }, index).decision).toBe(
      'allow',
    );
    expect(
      evaluate({ client: OUTSIDE, target: { ...target, workload: 'web-2', port: 9990 } }, index).decision,
    ).toBe('allow');
  });

  it('default opaque ports are opaque; detection otherwise', () => {
    const index = indexOf([web]);
    expect(evaluate({ client: MESHED, target: { ...target, port: 5432 } }, index).protocol).toBe('opaque');
    expect(check(index, MESHED).protocol).toBe('unknown');
  });
});

describe('probes are authorized by default', () => {
  it('GET on a probe path is allowed from unauthenticated clients even under deny', () => {
    const index = indexOf([web], { defaultPolicy: 'deny' });
    for (const path of ['/live', '/ready']) {
      const d = check(index, OUTSIDE, { method: 'GET', path });
      expect(d).toMatchObject({
        decision: 'allow',
        authorization: { kind: 'default', name: 'probe' },
        route: { kind: 'default', name: 'probe' },
      });
    }
    expect(check(index, OUTSIDE, { method: 'POST', path: '/live' }).decision).toBe('deny');
    expect(check(index, OUTSIDE, { method: 'GET', path: '/live/x' }).decision).toBe('deny');
    expect(check(index, OUTSIDE, { method: 'GET', path: '/ready' }).decision).toBe('allow');
    expect(
      evaluate({ client: OUTSIDE, target: { ...target, port: 9990 }, request: { path: '/live' } }, index)
        .decision,
    ).toBe('deny');
  });

  it('a Server without routes keeps the probe route; attaching an HTTPRoute removes it', () => {
    const srv = server('web-http', {});
    expect(check(indexOf([web, srv]), OUTSIDE, { path: '/live' }).decision).toBe('allow');
    const withRoute = indexOf([
      web,
      srv,
      httpRoute('api', 'web-http', [{ matches: [{ path: { type: 'PathPrefix', value: '/api' } }] }]),
    ]);
    expect(check(withRoute, OUTSIDE, { path: '/live' })).toMatchObject({
      decision: 'deny',
      reason: 'route-not-found',
      httpStatus: 404,
    });
  });

  it('probe networks can be narrowed', () => {
    const index = indexOf([web], { defaultPolicy: 'deny', probeNetworks: ['10.0.0.0/8'] });
    expect(check(index, OUTSIDE, { path: '/live' }).decision).toBe('deny');
    expect(check(index, IN_CLUSTER, { path: '/live' }).decision).toBe('allow');
  });

  it('inline workloads carry their probe paths', () => {
    const index = indexOf([], { defaultPolicy: 'deny' });
    const d = evaluate(
      {
        client: OUTSIDE,
        target: { namespace: NS, labels: { app: 'x' }, port: 80, probePaths: ['/healthz'] },
        request: { path: '/healthz' },
      },
      index,
    );
    expect(d.decision).toBe('allow');
  });
});

describe('Servers', () => {
  it('a Server with no authorizations denies everyone (accessPolicy defaults to deny)', () => {
    const index = indexOf([web, server('web-http', {})]);
    const d = check(index, MESHED, { path: '/' });
    expect(d).toMatchObject({
      decision: 'deny',
      reason: 'unauthorized',
      server: { kind: 'Server', name: 'web-http' },
    });
    expect(check(index, MESHED).decision).toBe('deny');
  });

  it('selects by port number or name, and only matching pods', () => {
    const index = indexOf([
      web,
      pod('api-0', { app: 'api' }),
      server('by-name', { port: 'admin', accessPolicy: 'all-unauthenticated' }),
      server('by-number', { port: 8080 }),
    ]);
    expect(evaluate({ client: OUTSIDE, target: { ...target, port: 9990 } }, index).server).toMatchObject({
      name: 'by-name',
    });
    expect(check(index, OUTSIDE).server).toMatchObject({ name: 'by-number' });
    expect(evaluate({ client: OUTSIDE, target: { ...target, workload: 'api-0' } }, index).server.kind).toBe(
      'default',
    );
  });

  it('two Servers on one port: the oldest wins and a warning names both', () => {
    const index = indexOf([
      web,
      server('newer', { accessPolicy: 'deny' }, '2025-01-01T00:00:00Z'),
      server('older', { accessPolicy: 'all-unauthenticated' }, '2024-01-01T00:00:00Z'),
    ]);
    expect(check(index, OUTSIDE).server).toMatchObject({ name: 'older' });
    expect(index.warnings.join('\n')).toMatch(/newer|older/);
  });

  it('accessPolicy audit admits unauthorized clients as audit, while named rules still report themselves', () => {
    const index = indexOf([
      web,
      server('web-http', { accessPolicy: 'audit' }),
      authzPolicy('bots', { kind: 'Server', name: 'web-http' }, [
        { kind: 'ServiceAccount', name: 'vote-bot' },
      ]),
    ]);
    expect(check(index, MESHED, { path: '/' })).toMatchObject({
      decision: 'allow',
      authorization: { kind: 'AuthorizationPolicy', name: 'bots' },
    });
    expect(check(index, OUTSIDE, { path: '/' })).toMatchObject({
      decision: 'audit',
      reason: 'audited',
      authorization: { kind: 'default', name: 'audit' },
    });
  });

  it('opaque servers decide on the connection and ignore the request', () => {
    const index = indexOf([
      web,
      server('web-http', { proxyProtocol: 'opaque' }),
      authzPolicy('nets', { kind: 'Server', name: 'web-http' }, [
        { kind: 'NetworkAuthentication', name: 'cluster' },
      ]),
      networkAuthn('cluster', [{ cidr: '10.0.0.0/8' }]),
    ]);
    expect(check(index, IN_CLUSTER, { path: '/anything' })).toMatchObject({
      decision: 'allow',
      route: undefined,
      protocol: 'opaque',
    });
    expect(check(index, OUTSIDE, { path: '/anything' })).toMatchObject({
      decision: 'deny',
      httpStatus: undefined,
    });
  });
});

describe('AuthorizationPolicy', () => {
  const srv = server('web-http', {});

  it('MeshTLSAuthentication by exact identity, `*` and suffix', () => {
    for (const [ids, client, want] of [
      [[identity('vote-bot')], MESHED, 'allow'],
      [[identity('web')], MESHED, 'deny'],
      [['*'], MESHED, 'allow'],
      [['*'], IN_CLUSTER, 'deny'],
      [[`*.${NS}.serviceaccount.identity.linkerd.cluster.local`], MESHED, 'allow'],
      [['*.other.serviceaccount.identity.linkerd.cluster.local'], MESHED, 'deny'],
    ] as const) {
      const index = indexOf([
        web,
        srv,
        meshTls('ids', { identities: ids }),
        authzPolicy('p', { kind: 'Server', name: 'web-http' }, [
          { kind: 'MeshTLSAuthentication', name: 'ids' },
        ]),
      ]);
      expect(check(index, client).decision, JSON.stringify(ids)).toBe(want);
    }
  });

  it('MeshTLSAuthentication by ServiceAccount and Namespace refs', () => {
    const sa = indexOf([
      web,
      srv,
      meshTls('ids', { identityRefs: [{ kind: 'ServiceAccount', name: 'vote-bot' }] }),
      authzPolicy('p', { kind: 'Server', name: 'web-http' }, [
        { kind: 'MeshTLSAuthentication', name: 'ids' },
      ]),
    ]);
    expect(check(sa, MESHED).decision).toBe('allow');
    expect(check(sa, { ...MESHED, identity: identity('web') }).decision).toBe('deny');
    const nsRef = indexOf([
      web,
      srv,
      meshTls('ids', { identityRefs: [{ kind: 'Namespace', name: 'other' }] }),
      authzPolicy('p', { kind: 'Server', name: 'web-http' }, [
        { kind: 'MeshTLSAuthentication', name: 'ids' },
      ]),
    ]);
    expect(check(nsRef, MESHED).decision).toBe('deny');
    expect(check(nsRef, { ...MESHED, identity: identity('x', 'other') }).decision).toBe('allow');
  });

  it('a ServiceAccount ref uses the configured trust domain', () => {
    const objs = [
      web,
      srv,
      authzPolicy('p', { kind: 'Server', name: 'web-http' }, [{ kind: 'ServiceAccount', name: 'vote-bot' }]),
    ];
    expect(check(indexOf(objs), MESHED).decision).toBe('allow');
    expect(check(indexOf(objs, { trustDomain: 'example.org' }), MESHED).decision).toBe('deny');
  });

  it('NetworkAuthentication with except, combined with mTLS (both required)', () => {
    const index = indexOf([
      web,
      srv,
      networkAuthn('nets', [{ cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] }]),
      meshTls('ids', { identities: ['*'] }),
      authzPolicy('p', { kind: 'Server', name: 'web-http' }, [
        { kind: 'NetworkAuthentication', name: 'nets' },
        { kind: 'MeshTLSAuthentication', name: 'ids' },
      ]),
    ]);
    expect(check(index, { ip: '10.2.0.1', identity: identity('web') }).decision).toBe('allow');
    expect(check(index, { ip: '10.1.0.1', identity: identity('web') }).decision).toBe('deny');
    expect(check(index, { ip: '10.2.0.1' }).decision).toBe('deny');
  });

  it('targeting the Namespace covers every Server in it', () => {
    const index = indexOf([
      web,
      srv,
      networkAuthn('all', [{ cidr: '0.0.0.0/0' }]),
      authzPolicy('ns', { kind: 'Namespace', name: NS }, [{ kind: 'NetworkAuthentication', name: 'all' }]),
    ]);
    expect(check(index, OUTSIDE)).toMatchObject({
      decision: 'allow',
      authorization: { kind: 'AuthorizationPolicy', name: 'ns' },
    });
  });

  it('a policy naming a missing authentication is ignored, with a warning', () => {
    const index = indexOf([
      web,
      srv,
      authzPolicy('p', { kind: 'Server', name: 'web-http' }, [
        { kind: 'MeshTLSAuthentication', name: 'missing' },
      ]),
    ]);
    expect(check(index, MESHED).decision).toBe('deny');
    expect(index.warnings.join()).toMatch(/MeshTLSAuthentication emojivoto\/missing not found/);
  });

  it('targeting an HTTPRoute authorizes that route only; server-level policies still apply to every route', () => {
    const index = indexOf([
      web,
      srv,
      httpRoute('vote', 'web-http', [{ matches: [{ path: { type: 'PathPrefix', value: '/api/vote' } }] }]),
      httpRoute('list', 'web-http', [{ matches: [{ path: { type: 'PathPrefix', value: '/api/list' } }] }]),
      authzPolicy('vote-bot', { kind: 'HTTPRoute', name: 'vote' }, [
        { kind: 'ServiceAccount', name: 'vote-bot' },
      ]),
      networkAuthn('cluster', [{ cidr: '10.0.0.0/8' }]),
      authzPolicy('in-cluster', { kind: 'Server', name: 'web-http' }, [
        { kind: 'NetworkAuthentication', name: 'cluster' },
      ]),
    ]);
    expect(check(index, MESHED, { path: '/api/vote' })).toMatchObject({
      decision: 'allow',
      route: { name: 'vote' },
      authorization: { name: 'vote-bot' },
    });
    expect(check(index, { ...MESHED, ip: '198.18.0.1' }, { path: '/api/list' })).toMatchObject({
      decision: 'deny',
      route: { name: 'list' },
      httpStatus: 403,
    });
    expect(check(index, { ...MESHED, ip: '198.18.0.1' }, { path: '/api/vote' })).toMatchObject({
      decision: 'allow',
    });
    expect(check(index, IN_CLUSTER, { path: '/api/list' })).toMatchObject({
      decision: 'allow',
      authorization: { name: 'in-cluster' },
    });
    expect(check(index, IN_CLUSTER, { path: '/other' })).toMatchObject({
      decision: 'deny',
      reason: 'route-not-found',
      httpStatus: 404,
    });
  });

  it('gateway.networking.k8s.io HTTPRoutes attach to Servers too', () => {
    const index = indexOf([
      web,
      srv,
      httpRoute('gw', 'web-http', [{ matches: [{ path: { type: 'Exact', value: '/x' } }] }], {
        group: 'gateway.networking.k8s.io',
      }),
      authzPolicy('p', { kind: 'HTTPRoute', name: 'gw', group: 'gateway.networking.k8s.io' }, [
        { kind: 'ServiceAccount', name: 'vote-bot' },
      ]),
    ]);
    expect(check(index, MESHED, { path: '/x' })).toMatchObject({
      decision: 'allow',
      route: { kind: 'HTTPRoute', group: 'gateway.networking.k8s.io', name: 'gw' },
    });
  });
});

describe('ServerAuthorization (legacy)', () => {
  const saz = (
    client: Record<string, unknown>,
    serverRef: Record<string, unknown> = { name: 'web-http' },
  ) => ({
    apiVersion: 'policy.linkerd.io/v1beta1',
    kind: 'ServerAuthorization',
    metadata: { name: 'saz', namespace: NS },
    spec: { server: serverRef, client },
  });

  it('unauthenticated clients default to the cluster networks', () => {
    const index = indexOf([web, server('web-http', {}), saz({ unauthenticated: true })]);
    expect(check(index, IN_CLUSTER)).toMatchObject({
      decision: 'allow',
      authorization: { kind: 'ServerAuthorization', name: 'saz' },
    });
    expect(check(index, OUTSIDE).decision).toBe('deny');
  });

  it('meshTLS serviceAccounts and identities; selector on Server labels', () => {
    const labelled = {
      ...server('web-http', {}),
      metadata: { name: 'web-http', namespace: NS, labels: { tier: 'front' } },
    };
    const index = indexOf([
      web,
      labelled,
      saz(
        { meshTLS: { serviceAccounts: [{ name: 'vote-bot' }] }, networks: [{ cidr: '0.0.0.0/0' }] },
        { selector: { matchLabels: { tier: 'front' } } },
      ),
    ]);
    expect(check(index, MESHED).decision).toBe('allow');
    expect(check(index, { ...MESHED, identity: identity('web') }).decision).toBe('deny');
  });

  it('unauthenticatedTLS admits TLS clients without an identity', () => {
    const index = indexOf([web, server('web-http', {}), saz({ meshTLS: { unauthenticatedTLS: true } })]);
    expect(check(index, { ip: '10.0.0.1', tls: true }).decision).toBe('allow');
    expect(check(index, { ip: '10.0.0.1' }).decision).toBe('deny');
  });
});

describe('filters, gRPC and rate limits', () => {
  it('reports header modifiers and computes redirects', () => {
    const index = indexOf([
      web,
      server('web-http', { accessPolicy: 'all-unauthenticated' }),
      httpRoute('r', 'web-http', [
        {
          matches: [{ path: { type: 'PathPrefix', value: '/old' } }],
          filters: [
            {
              type: 'RequestRedirect',
              requestRedirect: {
                path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/new' },
                statusCode: 301,
              },
            },
          ],
        },
        {
          matches: [{ path: { type: 'PathPrefix', value: '/' } }],
          filters: [
            {
              type: 'RequestHeaderModifier',
              requestHeaderModifier: { set: [{ name: 'x-a', value: '1' }], remove: ['x-b'] },
            },
          ],
        },
      ]),
    ]);
    expect(check(index, OUTSIDE, { path: '/old/page?q=1', host: 'web.test:8080' })).toMatchObject({
      httpStatus: 301,
      redirect: { statusCode: 301, location: 'http://web.test:8080/new/page?q=1' },
    });
    expect(check(index, OUTSIDE, { path: '/x' }).filters).toEqual([
      {
        type: 'RequestHeaderModifier',
        modifier: { set: [{ name: 'x-a', value: '1' }], add: [], remove: ['x-b'] },
      },
    ]);
  });

  it('routes gRPC servers through GRPCRoutes', () => {
    const index = indexOf([
      web,
      server('web-grpc', { port: 'grpc', proxyProtocol: 'gRPC', accessPolicy: 'all-unauthenticated' }),
      {
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'GRPCRoute',
        metadata: { name: 'emoji', namespace: NS },
        spec: {
          parentRefs: [{ group: 'policy.linkerd.io', kind: 'Server', name: 'web-grpc' }],
          rules: [{ matches: [{ method: { service: 'emojivoto.v1.EmojiService' } }] }],
        },
      },
    ]);
    const at = (path: string) =>
      evaluate(
        { client: OUTSIDE, target: { ...target, port: 8081 }, request: { method: 'POST', path } },
        index,
      );
    expect(at('/emojivoto.v1.EmojiService/ListAll')).toMatchObject({
      decision: 'allow',
      route: { kind: 'GRPCRoute', name: 'emoji' },
    });
    expect(at('/emojivoto.v1.VotingService/Vote')).toMatchObject({
      decision: 'deny',
      reason: 'route-not-found',
    });
  });

  it('GRPCRoute precedence: a service-and-method match beats a service-only match; more headers win next', () => {
    const grpcRoute = (name: string, matches: unknown[]) => ({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'GRPCRoute',
      metadata: { name, namespace: NS },
      spec: {
        parentRefs: [{ group: 'policy.linkerd.io', kind: 'Server', name: 'web-grpc' }],
        rules: [{ matches }],
      },
    });
    const index = indexOf([
      web,
      server('web-grpc', { port: 'grpc', proxyProtocol: 'gRPC', accessPolicy: 'all-unauthenticated' }),
      grpcRoute('a-service', [{ method: { service: 'emojivoto.v1.VotingService' } }]),
      grpcRoute('b-method', [{ method: { service: 'emojivoto.v1.VotingService', method: 'VoteDoughnut' } }]),
      grpcRoute('c-header', [
        {
          method: { service: 'emojivoto.v1.VotingService', method: 'VoteDoughnut' },
          headers: [{ name: 'x-canary', value: '1' }],
        },
      ]),
    ]);
    const at = (path: string, headers: Record<string, string> = {}) =>
      evaluate(
        { client: OUTSIDE, target: { ...target, port: 8081 }, request: { method: 'POST', path, headers } },
        index,
      ).route?.name;
    expect(at('/emojivoto.v1.VotingService/VoteDoughnut')).toBe('b-method');
    expect(at('/emojivoto.v1.VotingService/VoteDoughnut', { 'x-canary': '1' })).toBe('c-header');
    expect(at('/emojivoto.v1.VotingService/Results')).toBe('a-service');
  });

  it('Servers select ExternalWorkloads by externalWorkloadSelector and named port', () => {
    const vm = {
      apiVersion: 'workload.linkerd.io/v1beta1',
      kind: 'ExternalWorkload',
      metadata: { name: 'legacy-vm', namespace: NS, labels: { app: 'web' } },
      spec: { meshTLS: { identity: 'spiffe://x', serverName: 'x' }, ports: [{ name: 'http', port: 8080 }] },
    };
    const srv = {
      ...server('vm-http', { accessPolicy: 'cluster-unauthenticated' }),
      spec: {
        externalWorkloadSelector: { matchLabels: { app: 'web' } },
        port: 'http',
        accessPolicy: 'cluster-unauthenticated',
      },
    };
    const index = indexOf([vm, web, srv]);
    const vmTarget = { namespace: NS, workload: 'legacy-vm', kind: 'ExternalWorkload', port: 8080 } as const;
    expect(evaluate({ client: IN_CLUSTER, target: vmTarget }, index)).toMatchObject({
      decision: 'allow',
      server: { name: 'vm-http' },
    });
    expect(evaluate({ client: OUTSIDE, target: vmTarget }, index).decision).toBe('deny');
    // The pod with the same labels is not selected by an externalWorkloadSelector.
    expect(check(index, OUTSIDE).server.kind).toBe('default');
  });

  it('reports the rate limit that applies to the client', () => {
    const index = indexOf([
      web,
      server('web-http', { accessPolicy: 'all-unauthenticated' }),
      {
        apiVersion: 'policy.linkerd.io/v1alpha1',
        kind: 'HTTPLocalRateLimitPolicy',
        metadata: { name: 'rl', namespace: NS },
        spec: {
          targetRef: { group: 'policy.linkerd.io', kind: 'Server', name: 'web-http' },
          total: { requestsPerSecond: 100 },
          identity: { requestsPerSecond: 20 },
          overrides: [{ requestsPerSecond: 50, clientRefs: [{ kind: 'ServiceAccount', name: 'vote-bot' }] }],
        },
      },
    ]);
    expect(check(index, MESHED, { path: '/' }).rateLimit).toEqual({
      policy: 'rl',
      totalRequestsPerSecond: 100,
      clientRequestsPerSecond: 50,
      clientLimitSource: 'override',
    });
    expect(
      check(index, { ...MESHED, identity: identity('web') }, { path: '/' }).rateLimit?.clientLimitSource,
    ).toBe('identity');
  });
});

describe('explanations', () => {
  it('say who, to what, through which route, and which rule decided', () => {
    const index = indexOf([
      web,
      server('web-http', {}),
      httpRoute('api', 'web-http', [{ matches: [{ path: { type: 'PathPrefix', value: '/api' } }] }]),
      authzPolicy('bots', { kind: 'HTTPRoute', name: 'api' }, [{ kind: 'ServiceAccount', name: 'vote-bot' }]),
    ]);
    expect(check(index, MESHED, { method: 'post', path: '/api/vote?x=1' }).explanation).toBe(
      `POST /api/vote from ${identity('vote-bot')} (10.1.0.5) to Server emojivoto/web-http port 8080 (HTTPRoute api) allowed by AuthorizationPolicy bots`,
    );
    expect(check(index, OUTSIDE, { path: '/api' }).explanation).toBe(
      'GET /api from unauthenticated 198.18.0.5 to Server emojivoto/web-http port 8080 (HTTPRoute api) denied: no authorization admits the client',
    );
    expect(check(index, OUTSIDE, { path: '/x' }).explanation).toBe(
      'GET /x from unauthenticated 198.18.0.5 to Server emojivoto/web-http port 8080 denied: no route matches',
    );
    expect(JSON.parse(JSON.stringify(check(index, OUTSIDE, { path: '/x' })))).toMatchObject({
      decision: 'deny',
      reason: 'route-not-found',
      explanation: expect.stringContaining('no route matches'),
    });
    expect(check(indexOf([web], { defaultPolicy: 'audit' }), OUTSIDE).explanation).toBe(
      'connection from unauthenticated 198.18.0.5 to default policy audit port 8080 audited (allowed) by default:audit',
    );
  });
});

describe('errors', () => {
  it('unknown workloads are not_found; bad client IPs are invalid_argument', () => {
    const index = indexOf([web]);
    expect(() => evaluate({ client: OUTSIDE, target: { ...target, workload: 'nope' } }, index)).toThrow(
      expect.objectContaining({ code: 'not_found' }),
    );
    expect(() => check(index, { ip: 'not-an-ip' })).toThrow(MeshError);
  });
});

// --- invariants (property) ---

const arbClient = fc.record({
  ip: fc.oneof(fc.constantFrom('10.1.0.5', '198.18.0.5', '10.200.1.1', 'fd00::1'), fc.ipV4()),
  identity: fc.option(fc.constantFrom(identity('vote-bot'), identity('web'), identity('x', 'other')), {
    nil: undefined,
  }),
});
const arbRequest = fc.option(
  fc.record({
    method: fc.constantFrom('GET', 'POST'),
    path: fc.constantFrom('/', '/api', '/api/vote', '/live', '/x'),
  }),
  { nil: undefined },
);
const arbAuthn = fc.oneof(
  fc.record({ kind: fc.constant('ServiceAccount' as const), name: fc.constantFrom('vote-bot', 'web') }),
  fc.record({
    kind: fc.constant('MeshTLSAuthentication' as const),
    name: fc.constantFrom('m-any', 'm-bot', 'm-ns'),
  }),
  fc.record({
    kind: fc.constant('NetworkAuthentication' as const),
    name: fc.constantFrom('n-cluster', 'n-holes'),
  }),
);
const arbPolicy = fc.record({
  target: fc.constantFrom(
    { kind: 'Server', name: 'web-http' },
    { kind: 'Namespace', name: NS },
    { kind: 'HTTPRoute', name: 'api' },
  ),
  refs: fc.array(arbAuthn, { minLength: 1, maxLength: 2 }),
});

function world(
  policies: { target: { kind: string; name: string }; refs: { kind: string; name: string }[] }[],
  withRoute: boolean,
  accessPolicy: string,
) {
  return [
    web,
    server('web-http', { accessPolicy }),
    meshTls('m-any', { identities: ['*'] }),
    meshTls('m-bot', { identities: [identity('vote-bot')] }),
    meshTls('m-ns', { identityRefs: [{ kind: 'Namespace', name: 'other' }] }),
    networkAuthn('n-cluster', [{ cidr: '10.0.0.0/8' }]),
    networkAuthn('n-holes', [{ cidr: '0.0.0.0/0', except: ['10.1.0.0/16'] }]),
    ...(withRoute
      ? [httpRoute('api', 'web-http', [{ matches: [{ path: { type: 'PathPrefix', value: '/api' } }] }])]
      : []),
    // Policies with two identity refs or two network refs are invalid; keep at most one of each.
    ...policies
      .map((p) => ({
        ...p,
        refs: p.refs.filter(
          (r, i, all) =>
            all.findIndex(
              (o) => (o.kind === 'NetworkAuthentication') === (r.kind === 'NetworkAuthentication'),
            ) === i,
        ),
      }))
      .map((p, i) => authzPolicy(`p-${i}`, p.target, p.refs)),
  ];
}

describe('deny by default unless authorized (property)', () => {
  it('with no authorizations and a deny access policy, only probes get through', () => {
    fc.assert(
      fc.property(arbClient, arbRequest, fc.boolean(), (client, request, withRoute) => {
        const d = check(indexOf(world([], withRoute, 'deny')), client, request);
        if (d.decision !== 'deny') {
          expect(d.authorization).toEqual({ kind: 'default', name: 'probe' });
          expect(request).toMatchObject({ method: 'GET', path: '/live' });
          expect(withRoute).toBe(false);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('every allow names an authorization that admits this client, and it is really there', () => {
    fc.assert(
      fc.property(
        fc.array(arbPolicy, { maxLength: 4 }),
        arbClient,
        arbRequest,
        fc.boolean(),
        (policies, client, request, withRoute) => {
          const objects = world(policies, withRoute, 'deny');
          const d = check(indexOf(objects), client, request);
          if (d.decision === 'deny') {
            expect(d.authorization).toBeUndefined();
            return;
          }
          expect(d.decision).toBe('allow');
          const authz = d.authorization;
          expect(authz).toBeDefined();
          if (authz?.kind === 'AuthorizationPolicy') {
            const p = policies[Number(authz.name.slice(2))];
            expect(p).toBeDefined();
            // A route-targeted policy only ever allows requests on that route.
            if (p?.target.kind === 'HTTPRoute') expect(d.route?.name).toBe('api');
            // Policies requiring mTLS never admit clients without an identity.
            if (p?.refs.some((r) => r.kind !== 'NetworkAuthentication'))
              expect(client.identity).toBeDefined();
          } else {
            expect(authz).toEqual({ kind: 'default', name: 'probe' });
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('adding an authorization never turns an allow into a deny (monotonic)', () => {
    fc.assert(
      fc.property(
        fc.array(arbPolicy, { maxLength: 3 }),
        arbPolicy,
        arbClient,
        arbRequest,
        (policies, extra, client, request) => {
          const before = check(indexOf(world(policies, true, 'deny')), client, request);
          const after = check(indexOf(world([...policies, extra], true, 'deny')), client, request);
          if (before.decision === 'allow') expect(after.decision).toBe('allow');
        },
      ),
      { numRuns: 200 },
    );
  });

  it('accessPolicy audit never denies an authorized-or-not request on a route that exists', () => {
    fc.assert(
      fc.property(
        fc.array(arbPolicy, { maxLength: 3 }),
        arbClient,
        arbRequest,
        (policies, client, request) => {
          const d = check(indexOf(world(policies, false, 'audit')), client, request);
          expect(d.decision).not.toBe('deny');
        },
      ),
      { numRuns: 200 },
    );
  });
});
