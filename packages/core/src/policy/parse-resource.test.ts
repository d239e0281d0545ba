import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MeshError } from '../errors/index.js';
import { parsePolicyResource, parsePolicyResources } from './parse-resource.js';
import {
  authzPolicy,
  httpRoute,
  meshTls,
  networkAuthn,
  NS,
  pod,
  server,
} from './policy-fixtures.test-support.js';

function errorOf(value: unknown): MeshError {
  try {
    parsePolicyResource(value);
  } catch (err) {
    if (MeshError.is(err)) return err;
    throw err;
  }
  throw new Error('expected a MeshError');
}

describe('parsePolicyResource', () => {
  it('parses a Server with defaults', () => {
    expect(parsePolicyResource(server('web-http', {}))).toMatchObject({
      kind: 'Server',
      meta: { name: 'web-http', namespace: NS },
      workloadKind: 'Pod',
      port: 'http',
      proxyProtocol: 'unknown',
      accessPolicy: 'deny',
    });
    const ext = parsePolicyResource({
      apiVersion: 'policy.linkerd.io/v1beta3',
      kind: 'Server',
      metadata: { name: 's' },
      spec: {
        externalWorkloadSelector: { matchLabels: { app: 'vm' } },
        port: 8080,
        proxyProtocol: 'HTTP/2',
        accessPolicy: 'audit',
      },
    });
    expect(ext).toMatchObject({
      workloadKind: 'ExternalWorkload',
      port: 8080,
      proxyProtocol: 'HTTP/2',
      accessPolicy: 'audit',
      meta: { namespace: 'default' },
    });
  });

  it('names the field for Server mistakes', () => {
    expect(errorOf(server('s', { port: 70000 })).where).toBe('Server emojivoto/s: spec.port');
    expect(errorOf(server('s', { port: 'Not_A_Name' })).where).toBe('Server emojivoto/s: spec.port');
    expect(errorOf(server('s', { proxyProtocol: 'HTTP/3' })).describe()).toMatch(
      /spec.proxyProtocol: "HTTP\/3" is not supported \(use one of unknown, HTTP\/1/,
    );
    expect(errorOf(server('s', { accessPolicy: 'allow' })).where).toBe(
      'Server emojivoto/s: spec.accessPolicy',
    );
    expect(errorOf(server('s', { externalWorkloadSelector: {} })).message).toMatch(
      /exactly one of podSelector/,
    );
    expect(errorOf({ apiVersion: 'policy.linkerd.io/v1beta3', kind: 'Server', metadata: {} }).where).toBe(
      'Server.metadata.name',
    );
    expect(errorOf({ kind: 'Server' }).where).toBe('object.apiVersion');
  });

  it('parses AuthorizationPolicy targets and refs, rejecting unsupported ones', () => {
    expect(
      parsePolicyResource(
        authzPolicy('p', { kind: 'HTTPRoute', name: 'r', group: 'gateway.networking.k8s.io' }, [
          { kind: 'ServiceAccount', name: 'web' },
        ]),
      ),
    ).toMatchObject({
      target: { kind: 'HTTPRoute', group: 'gateway.networking.k8s.io', name: 'r' },
      requiredAuthenticationRefs: [{ kind: 'ServiceAccount', name: 'web', namespace: NS }],
    });
    expect(
      errorOf(
        authzPolicy('p', { kind: 'Deployment', name: 'x', group: 'apps' }, [
          { kind: 'ServiceAccount', name: 'w' },
        ]),
      ).where,
    ).toBe('AuthorizationPolicy emojivoto/p: spec.targetRef.kind');
    expect(
      errorOf(authzPolicy('p', { kind: 'Namespace', name: 'other' }, [{ kind: 'ServiceAccount', name: 'w' }]))
        .hint,
    ).toMatch(/own namespace/);
    expect(
      errorOf(authzPolicy('p', { kind: 'Server', name: 's' }, [{ kind: 'Secret', name: 'x', group: '' }]))
        .where,
    ).toBe('AuthorizationPolicy emojivoto/p: spec.requiredAuthenticationRefs[0].kind');
    expect(
      errorOf(
        authzPolicy('p', { kind: 'Server', name: 's' }, [
          { kind: 'ServiceAccount', name: 'a' },
          { kind: 'MeshTLSAuthentication', name: 'b' },
        ]),
      ).message,
    ).toMatch(/at most one MeshTLSAuthentication or ServiceAccount/);
  });

  it('parses authentications', () => {
    expect(
      parsePolicyResource(
        meshTls('m', { identities: ['*', '*.ns.serviceaccount.identity.linkerd.cluster.local', 'a.b'] }),
      ),
    ).toMatchObject({
      identities: [
        { kind: 'suffix', suffix: '' },
        { kind: 'suffix', suffix: '.ns.serviceaccount.identity.linkerd.cluster.local' },
        { kind: 'exact', name: 'a.b' },
      ],
    });
    expect(errorOf(meshTls('m', {})).message).toMatch(/authenticates no clients/);
    expect(
      errorOf(meshTls('m', { identities: ['a'], identityRefs: [{ kind: 'ServiceAccount', name: 'x' }] }))
        .message,
    ).toMatch(/mutually exclusive/);
    expect(errorOf(networkAuthn('n', [{ cidr: '10.0.0.0/8', except: ['bad'] }])).where).toBe(
      'NetworkAuthentication emojivoto/n: spec.networks[0].except[0]',
    );
    expect(errorOf(networkAuthn('n', [])).where).toBe('NetworkAuthentication emojivoto/n: spec.networks');
  });

  it('parses HTTPRoutes with Gateway API defaults', () => {
    const route = parsePolicyResource(
      httpRoute('r', 's', [
        {
          matches: [
            {
              path: { value: '/api' },
              method: 'POST',
              headers: [{ name: 'x', value: '1' }],
              queryParams: [{ type: 'RegularExpression', name: 'q', value: '\\d+' }],
            },
          ],
          filters: [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https' } }],
          backendRefs: [
            { name: 'web-svc', port: 80, weight: 3 },
            { name: 'web-canary', port: 80 },
          ],
          timeouts: { request: '10s' },
        },
        {},
      ]),
    );
    expect(route).toMatchObject({
      kind: 'HTTPRoute',
      group: 'policy.linkerd.io',
      parentRefs: [{ group: 'policy.linkerd.io', kind: 'Server', name: 's', namespace: NS }],
      rules: [
        {
          matches: [
            {
              path: { type: 'PathPrefix', value: '/api' },
              method: 'POST',
              headers: [{ type: 'Exact', name: 'x', value: '1' }],
            },
          ],
          filters: [{ type: 'RequestRedirect', redirect: { scheme: 'https', statusCode: 302 } }],
          backendRefs: [
            { kind: 'Service', name: 'web-svc', weight: 3 },
            { name: 'web-canary', weight: 1 },
          ],
          timeouts: { request: '10s' },
        },
        { matches: [{ path: { type: 'PathPrefix', value: '/' } }] },
      ],
    });
  });

  it('names the field for HTTPRoute mistakes', () => {
    const bad = (rule: unknown) => errorOf(httpRoute('r', 's', [rule]));
    expect(bad({ matches: [{ path: { type: 'Glob', value: '/' } }] }).where).toBe(
      'HTTPRoute emojivoto/r: spec.rules[0].matches[0].path.type',
    );
    expect(bad({ matches: [{ path: { type: 'RegularExpression', value: '(' } }] }).where).toBe(
      'HTTPRoute emojivoto/r: spec.rules[0].matches[0].path.value',
    );
    expect(bad({ matches: [{ path: { value: 'no-slash' } }] }).message).toMatch(/must start with \//);
    expect(bad({ matches: [{ method: 'FETCH' }] }).where).toBe(
      'HTTPRoute emojivoto/r: spec.rules[0].matches[0].method',
    );
    expect(bad({ filters: [{ type: 'RequestMirror' }] }).where).toBe(
      'HTTPRoute emojivoto/r: spec.rules[0].filters[0].type',
    );
    expect(
      bad({ filters: [{ type: 'RequestRedirect', requestRedirect: { statusCode: 307 } }] }).hint,
    ).toMatch(/301 or 302/);
    expect(errorOf(httpRoute('r', 's', [], { hostnames: ['Bad_Host'] })).where).toBe(
      'HTTPRoute emojivoto/r: spec.hostnames[0]',
    );
  });

  it('parses Pods: named ports and HTTP probe paths by port', () => {
    const p = parsePolicyResource(
      pod(
        'web-0',
        { app: 'web' },
        {
          probes: [
            { port: 'http', path: '/live' },
            { port: 9990, path: '/ready' },
          ],
        },
      ),
    );
    expect(p).toMatchObject({
      kind: 'Pod',
      ports: [
        { name: 'http', port: 8080 },
        { name: 'admin', port: 9990 },
        { name: 'grpc', port: 8081 },
      ],
    });
    expect(p?.kind === 'Pod' && [...p.probePaths]).toEqual([
      [8080, ['/live']],
      [9990, ['/ready']],
    ]);
  });

  it('skips kinds it does not use, and parses a stream', () => {
    expect(
      parsePolicyResource({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' } }),
    ).toBeUndefined();
    expect(
      parsePolicyResources([
        server('a', {}),
        { apiVersion: 'v1', kind: 'Service', metadata: { name: 's' } },
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } },
      ]),
    ).toHaveLength(2);
  });

  it('parses rate limit policies and checks identity ≤ total', () => {
    const rl = (spec: Record<string, unknown>) => ({
      apiVersion: 'policy.linkerd.io/v1alpha1',
      kind: 'HTTPLocalRateLimitPolicy',
      metadata: { name: 'rl', namespace: NS },
      spec: { targetRef: { group: 'policy.linkerd.io', kind: 'Server', name: 's' }, ...spec },
    });
    expect(parsePolicyResource(rl({ total: { requestsPerSecond: 10 } }))).toMatchObject({
      targetServer: 's',
      totalRequestsPerSecond: 10,
    });
    expect(errorOf(rl({ total: { requestsPerSecond: 10 }, identity: { requestsPerSecond: 11 } })).where).toBe(
      'HTTPLocalRateLimitPolicy emojivoto/rl: spec.identity.requestsPerSecond',
    );
  });

  it('never throws anything but a MeshError on arbitrary input (property)', () => {
    const kinds = [
      'Server',
      'ServerAuthorization',
      'AuthorizationPolicy',
      'MeshTLSAuthentication',
      'NetworkAuthentication',
      'HTTPRoute',
      'Pod',
    ];
    fc.assert(
      fc.property(fc.constantFrom(...kinds), fc.anything(), fc.anything(), (kind, metadata, spec) => {
        const apiVersion = kind === 'Pod' ? 'v1' : 'policy.linkerd.io/v1beta3';
        try {
          parsePolicyResource({ apiVersion, kind, metadata, spec });
        } catch (err) {
          expect(MeshError.is(err)).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });
});
