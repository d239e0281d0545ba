import { DefaultInboundPolicy, InboundServerPoliciesService, MeshError, type inbound } from '@tsmesh/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  authorizeConnection,
  authorizeRequest,
  compileServer,
  createRateLimiter,
  defaultServer,
  formatProtoIp,
  toProtoIp,
} from './index.js';

const net = (cidr: string) => {
  const [ip, len] = cidr.split('/') as [string, string];
  return { net: { ip: toProtoIp(ip), prefixLen: Number(len) } };
};
const WEB = 'web.default.serviceaccount.identity.linkerd.cluster.local';

const server: inbound.Server.$Properties = {
  labels: { group: 'policy.linkerd.io', kind: 'server', name: 'api' },
  protocol: {
    http1: {
      routes: [
        {
          metadata: { resource: { group: 'policy.linkerd.io', kind: 'HTTPRoute', name: 'admin' } },
          rules: [{ matches: [{ path: { prefix: '/admin' } }] }],
          authorizations: [
            {
              metadata: {
                resource: { group: 'policy.linkerd.io', kind: 'AuthorizationPolicy', name: 'web-only' },
              },
              networks: [net('0.0.0.0/0')],
              authentication: { meshTLS: { identities: { identities: [{ name: WEB }] } } },
            },
          ],
        },
        {
          metadata: { resource: { group: 'policy.linkerd.io', kind: 'HTTPRoute', name: 'public' } },
          rules: [{ matches: [{ path: { prefix: '/' } }] }],
          authorizations: [
            {
              metadata: { default: 'all-unauthenticated' },
              networks: [{ ...net('127.0.0.0/8'), except: [{ ip: toProtoIp('127.0.0.9'), prefixLen: 32 }] }],
              authentication: { unauthenticated: {} },
            },
          ],
        },
      ],
      localRateLimit: { total: { requestsPerSecond: 5 } },
    },
  },
};

describe('inbound authorization', () => {
  const compiled = compileServer(server);
  const plain = { ip: '127.0.0.1', tls: false, id: undefined };

  it('matches the most specific route and names the rule when it denies', () => {
    const deny = authorizeRequest(compiled, { path: '/admin/x' }, plain);
    expect(deny.kind).toBe('deny');
    expect(deny.kind === 'deny' && deny.reason).toContain('httproute/admin');
    expect(deny.kind === 'deny' && deny.reason).toContain('authorizationpolicy/web-only');
    const allow = authorizeRequest(compiled, { path: '/admin/x' }, { ip: '198.18.0.4', tls: true, id: WEB });
    expect(allow.kind).toBe('allow');
    expect(authorizeRequest(compiled, { path: '/hello' }, plain).kind).toBe('allow');
    // The network's except hole.
    expect(authorizeRequest(compiled, { path: '/hello' }, { ...plain, ip: '127.0.0.9' }).kind).toBe('deny');
  });

  it('refuses connections when no server authorization permits the client', () => {
    expect(authorizeConnection(compiled, plain).allowed).toBe(false);
    const open = defaultServer(DefaultInboundPolicy.ClusterUnauthenticated, ['127.0.0.0/8']);
    expect(authorizeConnection(open, plain).allowed).toBe(true);
    expect(authorizeConnection(open, { ...plain, ip: '198.18.0.1' }).allowed).toBe(false);
    const authn = defaultServer(DefaultInboundPolicy.AllAuthenticated, []);
    expect(authorizeConnection(authn, plain).allowed).toBe(false);
    expect(authorizeConnection(authn, { ...plain, tls: true, id: WEB }).allowed).toBe(true);
    expect(authorizeConnection(defaultServer(DefaultInboundPolicy.Deny, []), plain).allowed).toBe(false);
    // A port listed in LINKERD2_PROXY_INBOUND_PORTS_REQUIRE_IDENTITY.
    const required = defaultServer(DefaultInboundPolicy.AllUnauthenticated, [], true);
    expect(authorizeConnection(required, plain).allowed).toBe(false);
    expect(authorizeConnection(required, { ...plain, tls: true, id: WEB }).allowed).toBe(true);
  });

  it('reports a bad network with the field', () => {
    expect(() =>
      compileServer({
        authorizations: [{ networks: [{ net: {} }], authentication: { unauthenticated: {} } }],
      }),
    ).toThrow(/authorizations\[0\]\.networks\[0\]\.net/);
  });

  it('formats and parses proto addresses', () => {
    expect(formatProtoIp(toProtoIp('10.1.2.3'))).toBe('10.1.2.3');
    expect(formatProtoIp(toProtoIp('::ffff:198.18.0.1'))).toBe('198.18.0.1');
    expect(formatProtoIp(toProtoIp('fd00::1'))).toBe('fd00:0:0:0:0:0:0:1');
  });
});

describe('local rate limit', () => {
  it('allows a burst of one second, then the steady rate, per scope', () => {
    const limiter = createRateLimiter({
      meta: undefined,
      totalRps: 10,
      identityRps: 2,
      overrides: [{ rps: 5, identities: new Set(['vip']) }],
    });
    let t = 1000;
    expect([1, 2, 3].map(() => limiter.check('a', t))).toEqual([undefined, undefined, 'identity']);
    expect([1, 2, 3, 4, 5, 6].map(() => limiter.check('vip', t))).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      'override',
    ]);
    // 7 of 10 total used; three more anonymous requests fit, the fourth does not.
    expect([1, 2, 3, 4].map(() => limiter.check(undefined, t))).toEqual([
      undefined,
      undefined,
      undefined,
      'total',
    ]);
    t += 1000;
    expect(limiter.check('a', t)).toBeUndefined();
  });
});

describe('compiling whatever the controller sends (property)', () => {
  // Any bytes that decode as an inbound.Server either compile or are refused with a MeshError
  // naming the field — never another exception that would escape the watch.
  const encoded = InboundServerPoliciesService.watchPort.response.encode(server);
  const mutate = fc.tuple(fc.nat(encoded.length - 1), fc.nat(255), fc.nat(3)).map(([at, byte, times]) => {
    const b = Buffer.from(encoded);
    for (let i = 0; i <= times; i++) b[(at + i * 7) % b.length] = byte;
    return b;
  });
  it('never throws anything but a MeshError', () => {
    fc.assert(
      fc.property(fc.oneof(mutate, fc.uint8Array({ maxLength: 200 })), (bytes) => {
        let message;
        try {
          message = InboundServerPoliciesService.watchPort.response.decode(bytes);
        } catch {
          return; // not a Server at all: the gRPC layer refuses it
        }
        try {
          const compiled = compileServer(message);
          authorizeRequest(compiled, { path: '/admin/x' }, { ip: '127.0.0.1', tls: false, id: undefined });
          authorizeConnection(compiled, { ip: '127.0.0.1', tls: false, id: undefined });
        } catch (err) {
          expect(MeshError.is(err), String(err)).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });
});
