// Inbound policy against a scriptable policy controller (a real grpc-js InboundServerPolicies
// server): HTTP routes allowed and denied with the rule named in l5d-proxy-error, /errors and the
// authz metrics; probes pass; a live policy change; the controller going down (last policy kept)
// and coming back (resubscribed); gRPC PERMISSION_DENIED; TCP connections refused; 429s under a
// local rate limit; and the default policy before the controller answers.
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { ProxyEnv, type inbound } from '@tsmesh/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toProtoIp } from '../../src/inbound-policy/index.js';
import {
  closeServer,
  forwardTo,
  listenHttp,
  listenTcp,
  sample,
  startHarness,
  type Harness,
} from './proxy-harness.js';
import { startTestPolicyServer, type TestPolicyServer } from './support/policy-server.js';

const run = promisify(execFile);
const WEB = 'web.default.serviceaccount.identity.linkerd.cluster.local';
const GROUP = 'policy.linkerd.io';

const ANY_NET = { net: { ip: toProtoIp('0.0.0.0'), prefixLen: 0 } };
const allowAll = (name: string): inbound.Authz.$Properties => ({
  metadata: { resource: { group: GROUP, kind: 'AuthorizationPolicy', name } },
  networks: [ANY_NET],
  authentication: { unauthenticated: {} },
});
const identityOnly = (name: string, id: string): inbound.Authz.$Properties => ({
  metadata: { resource: { group: GROUP, kind: 'AuthorizationPolicy', name } },
  networks: [ANY_NET],
  authentication: { meshTLS: { identities: { identities: [{ name: id }] } } },
});
const probeAuthz: inbound.Authz.$Properties = {
  metadata: { default: 'probe' },
  networks: [ANY_NET],
  authentication: { unauthenticated: {} },
};
const route = (
  name: string,
  prefix: string,
  authorizations: inbound.Authz.$Properties[],
): inbound.HttpRoute.$Properties => ({
  metadata: { resource: { group: GROUP, kind: 'HTTPRoute', name } },
  rules: [{ matches: [{ path: { prefix } }] }],
  authorizations,
});
const server = (
  name: string,
  protocol: inbound.ProxyProtocol.$Properties,
  authz: inbound.Authz.$Properties[] = [],
) => ({
  labels: { group: GROUP, kind: 'server', name },
  protocol,
  authorizations: authz,
});

const policyEnv = (cp: TestPolicyServer) => ({
  [ProxyEnv.PolicySvcAddr]: cp.address,
  [ProxyEnv.PolicySvcName]: 'linkerd-destination.linkerd.serviceaccount.identity.linkerd.cluster.local',
  [ProxyEnv.PolicyWorkload]: '{"ns":"default","pod":"web-0"}',
});

async function curl(
  url: string,
  ...args: string[]
): Promise<{ status: number; headers: string; body: string }> {
  const { stdout } = await run('curl', ['-sS', '-i', '--max-time', '10', ...args, url]);
  const [head = '', body = ''] = stdout.split('\r\n\r\n');
  return { status: Number(/^HTTP\/[\d.]+ (\d+)/.exec(head)?.[1]), headers: head.toLowerCase(), body };
}

async function until<T>(
  what: string,
  f: () => Promise<T>,
  ok: (v: T) => boolean,
  timeoutMs = 5000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('inbound HTTP policy from InboundServerPolicies', () => {
  let cp: TestPolicyServer;
  let app: Awaited<ReturnType<typeof listenHttp>>;
  let h: Harness;
  let url: string;
  const httpServer = (routes: inbound.HttpRoute.$Properties[]) => server('web-http', { http1: { routes } });
  const fullPolicy = () =>
    httpServer([
      route('public', '/', [allowAll('everyone')]),
      route('admin', '/admin', [identityOnly('web-only', WEB)]),
      route('probe', '/live', [probeAuthz]),
    ]);

  beforeAll(async () => {
    cp = await startTestPolicyServer();
    app = await listenHttp((req, res) =>
      res.end(`ok ${req.url} xff=${String(req.headers['x-forwarded-for'])}\n`),
    );
    cp.setServer(app.port, fullPolicy());
    h = await startHarness({ ...policyEnv(cp), ...forwardTo(app.port) });
    url = `http://127.0.0.1:${h.inboundPort}`;
  });
  afterAll(async () => {
    await h.close();
    await cp.close();
    await closeServer(app.server);
  });

  it('allows and denies by route, naming the rule in l5d-proxy-error', async () => {
    const ok = await curl(`${url}/hello`);
    expect(ok.status).toBe(200);
    expect(ok.body).toContain('ok /hello');
    const denied = await curl(`${url}/admin/users`);
    expect(denied.status).toBe(403);
    expect(denied.headers).toMatch(
      /l5d-proxy-error: forbidden: .*httproute\/admin.*authorizationpolicy\/web-only/,
    );
    expect(cp.workloads.has('{"ns":"default","pod":"web-0"}')).toBe(true);
  });

  it('refuses over HTTP/2 too (curl --http2-prior-knowledge)', async () => {
    // The same routes under an HTTP/2 Server: a plaintext HTTP/1 Server is served as HTTP/1
    // without detection (as Linkerd does), so prior-knowledge HTTP/2 needs an HTTP/2 Server.
    const routes = [
      route('public', '/', [allowAll('everyone')]),
      route('admin', '/admin', [identityOnly('web-only', WEB)]),
    ];
    const protocolNow = () => Promise.resolve(h.proxy.inboundPolicy.port(app.port).server.protocol);
    cp.setServer(app.port, server('web-http', { http2: { routes } }));
    await until('the HTTP/2 Server', protocolNow, (p) => p === 'http2');
    const denied = await curl(`${url}/admin/users`, '--http2-prior-knowledge');
    cp.setServer(app.port, fullPolicy());
    await until('the HTTP/1 Server again', protocolNow, (p) => p === 'http1');
    expect(denied.status).toBe(403);
    expect(denied.headers).toMatch(/l5d-proxy-error: forbidden: .*httproute\/admin/);
  });

  it('lets probes through their own route', async () => {
    expect((await curl(`${url}/live`)).status).toBe(200);
  });

  it('passes the client address to the app in X-Forwarded-For', async () => {
    const r = await curl(`${url}/xff`, '-H', 'x-forwarded-for: 203.0.113.9');
    expect(r.body).toContain('xff=203.0.113.9, 127.0.0.1');
  });

  it('counts decisions with Linkerd authz metrics and route labels', async () => {
    const text = await (await fetch(`${h.adminUrl}/metrics`)).text();
    expect(
      sample(text, 'inbound_http_authz_allow_total', {
        srv_kind: 'server',
        srv_name: 'web-http',
        route_name: 'public',
        authz_kind: 'AuthorizationPolicy',
        authz_name: 'everyone',
      }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      sample(text, 'inbound_http_authz_deny_total', { route_name: 'admin', srv_name: 'web-http' }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      sample(text, 'response_total', {
        direction: 'inbound',
        route_name: 'admin',
        status_code: '403',
        error: 'FORBIDDEN',
      }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      sample(text, 'request_total', { direction: 'inbound', srv_name: 'web-http', route_name: 'public' }),
    ).toBeGreaterThanOrEqual(1);
  });

  it('lists the deny with its rule on /errors', async () => {
    const body = (await (await fetch(`${h.adminUrl}/errors`)).json()) as {
      errors: { code: string; rule?: string; request?: string; message: string; httpStatus: number }[];
    };
    const deny = body.errors.find((e) => e.code === 'FORBIDDEN');
    expect(deny).toMatchObject({ rule: 'httproute/admin', request: 'GET /admin/users', httpStatus: 403 });
    expect(deny?.message).toContain('no mesh TLS');
  });

  it('applies a policy change live', async () => {
    cp.setServer(app.port, httpServer([route('public', '/', [])]));
    const r = await until(
      'the new policy',
      () => curl(`${url}/hello`),
      (x) => x.status === 403,
    );
    expect(r.headers).toMatch(
      /l5d-proxy-error: forbidden: .*route httproute\/public .* has no authorization/,
    );
    cp.setServer(app.port, fullPolicy());
    await until(
      'the policy restored',
      () => curl(`${url}/hello`),
      (x) => x.status === 200,
    );
  });

  it('keeps the last policy while the controller is down, and resubscribes when it is back', async () => {
    const before = cp.watches(app.port);
    await cp.stop();
    for (let i = 0; i < 5; i++) expect((await curl(`${url}/hello`)).status).toBe(200);
    expect((await curl(`${url}/admin`)).status).toBe(403);
    cp.setServer(app.port, httpServer([route('public', '/', [identityOnly('web-only', WEB)])]));
    await cp.restart();
    await until(
      'a new watch',
      async () => cp.watches(app.port),
      (n) => n > before,
      15_000,
    );
    await until(
      'the policy from the restarted controller',
      () => curl(`${url}/hello`),
      (x) => x.status === 403,
    );
  });
});

describe('inbound gRPC, TCP and rate-limit policy', () => {
  let cp: TestPolicyServer;
  let grpcApp: grpc.Server;
  let grpcPort: number;
  let echo: Awaited<ReturnType<typeof listenTcp>>;
  let web: Awaited<ReturnType<typeof listenHttp>>;
  let grpcProxy: Harness;
  let tcpProxy: Harness;
  let webProxy: Harness;
  const pass = (b: Buffer) => b;
  const Echo = {
    unary: {
      path: '/tsmesh.test.Echo/Unary',
      requestStream: false,
      responseStream: false,
      requestSerialize: pass,
      requestDeserialize: pass,
      responseSerialize: pass,
      responseDeserialize: pass,
    },
  } as const;

  beforeAll(async () => {
    cp = await startTestPolicyServer();
    grpcApp = new grpc.Server();
    grpcApp.addService(Echo, {
      unary: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) =>
        cb(null, call.request),
    });
    grpcPort = await new Promise<number>((resolve, reject) =>
      grpcApp.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
        e ? reject(e) : resolve(p),
      ),
    );
    echo = await listenTcp((s) => s.pipe(s));
    web = await listenHttp((_req, res) => res.end('ok\n'));
    cp.setServer(
      grpcPort,
      server('echo-grpc', {
        grpc: {
          routes: [
            {
              metadata: { resource: { group: 'gateway.networking.k8s.io', kind: 'GRPCRoute', name: 'echo' } },
              rules: [{ matches: [{ rpc: { service: 'tsmesh.test.Echo' } }] }],
              authorizations: [identityOnly('web-only', WEB)],
            },
          ],
        },
      }),
    );
    cp.setServer(echo.port, server('echo-tcp', { opaque: {} }, [identityOnly('web-only', WEB)]));
    cp.setServer(
      web.port,
      server('web-limited', {
        detect: {
          timeout: { seconds: 10 },
          httpRoutes: [route('all', '/', [allowAll('everyone')])],
          httpLocalRateLimit: {
            metadata: { resource: { group: GROUP, kind: 'HTTPLocalRateLimitPolicy', name: 'web-rl' } },
            total: { requestsPerSecond: 5 },
          },
        },
      }),
    );
    grpcProxy = await startHarness({ ...policyEnv(cp), ...forwardTo(grpcPort) });
    tcpProxy = await startHarness({ ...policyEnv(cp), ...forwardTo(echo.port) });
    webProxy = await startHarness({ ...policyEnv(cp), ...forwardTo(web.port) });
  });
  afterAll(async () => {
    await Promise.all([grpcProxy.close(), tcpProxy.close(), webProxy.close()]);
    await cp.close();
    grpcApp.forceShutdown();
    await closeServer(echo.server);
    await closeServer(web.server);
  });

  it('answers an unauthorized gRPC call with PERMISSION_DENIED in a trailers-only response', async () => {
    const Client = grpc.makeGenericClientConstructor(Echo, 'Echo');
    const client = new Client(`127.0.0.1:${grpcProxy.inboundPort}`, grpc.credentials.createInsecure());
    const err = await new Promise<grpc.ServiceError>((resolve) =>
      (client as unknown as { unary: (b: Buffer, cb: (e: grpc.ServiceError) => void) => void }).unary(
        Buffer.from('hi'),
        resolve,
      ),
    );
    client.close();
    expect(err.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(err.details).toContain('grpcroute/echo');
    expect(err.metadata.get('l5d-proxy-error')[0]).toMatch(/^FORBIDDEN: /);
  });

  it('closes a TCP connection its Server does not authorize, and counts it', async () => {
    const sock: Socket = connect(tcpProxy.inboundPort, '127.0.0.1');
    sock.on('error', () => undefined);
    await once(sock, 'connect');
    sock.write('ping');
    const got: Buffer[] = [];
    sock.on('data', (d: Buffer) => got.push(d));
    await once(sock, 'close');
    expect(Buffer.concat(got).toString()).toBe('');
    const text = await (await fetch(`${tcpProxy.adminUrl}/metrics`)).text();
    expect(sample(text, 'inbound_tcp_authz_deny_total', { srv_name: 'echo-tcp', srv_kind: 'server' })).toBe(
      1,
    );
    const errors = (await (await fetch(`${tcpProxy.adminUrl}/errors`)).json()) as {
      errors: { code: string; request: string }[];
    };
    expect(errors.errors[0]).toMatchObject({ code: 'FORBIDDEN', request: 'tcp' });
  });

  it('answers 429 beyond the local rate limit and counts it', async () => {
    // One curl process, one keep-alive connection, 15 requests back to back.
    const url = `http://127.0.0.1:${webProxy.inboundPort}/`;
    const { stdout } = await run('curl', [
      '-s',
      '--max-time',
      '10',
      ...Array.from({ length: 15 }, () => ['-o', '/dev/null', '-w', '%{http_code}\\n', url]).flat(),
    ]);
    const codes = stdout.trim().split('\n');
    expect(codes.filter((c) => c === '429').length).toBeGreaterThanOrEqual(5);
    expect(codes.filter((c) => c === '200').length).toBeGreaterThanOrEqual(5);
    const text = await (await fetch(`${webProxy.adminUrl}/metrics`)).text();
    expect(
      sample(text, 'inbound_http_local_ratelimit_total', {
        ratelimit_kind: 'HTTPLocalRateLimitPolicy',
        ratelimit_name: 'web-rl',
        ratelimit_scope: 'total',
      }),
    ).toBeGreaterThanOrEqual(5);
  });
});

describe('inbound default policy without a controller', () => {
  it('denies HTTP with 403 and closes TCP under LINKERD2_PROXY_INBOUND_DEFAULT_POLICY=deny', async () => {
    const app = await listenHttp((_req, res) => res.end('ok\n'));
    const h = await startHarness({ [ProxyEnv.InboundDefaultPolicy]: 'deny', ...forwardTo(app.port) });
    try {
      const r = await curl(`http://127.0.0.1:${h.inboundPort}/`);
      expect(r.status).toBe(403);
      expect(r.headers).toMatch(/l5d-proxy-error: forbidden: .*default:deny/);
    } finally {
      await h.close();
      await closeServer(app.server);
    }
  });

  it('requires an identity on LINKERD2_PROXY_INBOUND_PORTS_REQUIRE_IDENTITY ports', async () => {
    const app = await listenHttp((_req, res) => res.end('ok\n'));
    const h = await startHarness({
      [ProxyEnv.InboundPortsRequireIdentity]: String(app.port),
      ...forwardTo(app.port),
    });
    try {
      const r = await curl(`http://127.0.0.1:${h.inboundPort}/`);
      expect(r.status).toBe(403);
      expect(r.headers).toMatch(/default:all-unauthenticated.* permits client 127\.0\.0\.1 \(no mesh tls\)/);
    } finally {
      await h.close();
      await closeServer(app.server);
    }
  });

  it('admits cluster networks under cluster-unauthenticated', async () => {
    const app = await listenHttp((_req, res) => res.end('ok\n'));
    const h = await startHarness({
      [ProxyEnv.InboundDefaultPolicy]: 'cluster-unauthenticated',
      [ProxyEnv.PolicyClusterNetworks]: '127.0.0.0/8',
      ...forwardTo(app.port),
    });
    try {
      expect((await curl(`http://127.0.0.1:${h.inboundPort}/`)).status).toBe(200);
    } finally {
      await h.close();
      await closeServer(app.server);
    }
  });
});

describe('explainable inbound errors', () => {
  it('lists an unreachable app on /errors with its cause', async () => {
    const gone = await listenTcp(() => undefined);
    const port = gone.port;
    await closeServer(gone.server);
    const h = await startHarness(forwardTo(port));
    try {
      expect((await curl(`http://127.0.0.1:${h.inboundPort}/x`)).status).toBe(502);
      const body = (await (await fetch(`${h.adminUrl}/errors`)).json()) as {
        total: number;
        errors: { code: string; message: string; request: string; cause: string }[];
      };
      expect(body.errors[0]).toMatchObject({ code: 'CONNECT_FAILED', request: 'GET /x', cause: 'i/o' });
      expect(body.errors[0]?.message).toContain(`127.0.0.1:${port} could not be reached`);
    } finally {
      await h.close();
    }
  });
});

describe('policy changes and open TCP connections', () => {
  it('closes an open connection the new policy no longer authorizes', async () => {
    const cp = await startTestPolicyServer();
    const echo = await listenTcp((s) => s.pipe(s));
    cp.setServer(echo.port, server('echo-tcp', { opaque: {} }, [allowAll('everyone')]));
    const h = await startHarness({ ...policyEnv(cp), ...forwardTo(echo.port) });
    try {
      const sock: Socket = connect(h.inboundPort, '127.0.0.1');
      sock.on('error', () => undefined);
      await once(sock, 'connect');
      sock.write('ping');
      const [first] = (await once(sock, 'data')) as [Buffer];
      expect(first.toString()).toBe('ping');
      const closed = once(sock, 'close');
      cp.setServer(echo.port, server('echo-tcp', { opaque: {} }, [identityOnly('web-only', WEB)]));
      await closed;
      const text = await (await fetch(`${h.adminUrl}/metrics`)).text();
      expect(sample(text, 'inbound_tcp_authz_terminate_total', { srv_name: 'echo-tcp' })).toBe(1);
      const errors = (await (await fetch(`${h.adminUrl}/errors`)).json()) as {
        errors: { message: string }[];
      };
      expect(errors.errors[0]?.message).toMatch(/^connection terminated by a policy change: /);
    } finally {
      await h.close();
      await cp.close();
      await closeServer(echo.server);
    }
  });
});

describe('a policy controller that never answers', () => {
  it('waits once per port, then serves the default policy without delay', async () => {
    const silent = await listenTcp(() => undefined); // accepts, never speaks gRPC
    const app = await listenHttp((_req, res) => res.end('ok\n'));
    const h = await startHarness({
      [ProxyEnv.PolicySvcAddr]: `127.0.0.1:${silent.port}`,
      [ProxyEnv.PolicySvcName]: 'linkerd-destination.linkerd.serviceaccount.identity.linkerd.cluster.local',
      [ProxyEnv.PolicyWorkload]: '{"ns":"default","pod":"web-0"}',
      ...forwardTo(app.port),
    });
    try {
      const t0 = Date.now();
      expect((await curl(`http://127.0.0.1:${h.inboundPort}/`)).status).toBe(200);
      const first = Date.now() - t0;
      const t1 = Date.now();
      for (let i = 0; i < 3; i++) expect((await curl(`http://127.0.0.1:${h.inboundPort}/`)).status).toBe(200);
      const next = (Date.now() - t1) / 3;
      expect(first).toBeGreaterThanOrEqual(900);
      expect(next).toBeLessThan(700);
      expect(h.proxy.inboundPolicy.port(app.port).synced).toBe(false);
    } finally {
      await h.close();
      await closeServer(app.server);
      await closeServer(silent.server);
    }
  });
});

describe('the Server protocol from the policy', () => {
  it("uses the Server's detection timeout: a server-speaks-first app is reached after it", async () => {
    const cp = await startTestPolicyServer();
    const banner = await listenTcp((s) => s.write('220 ready\r\n'));
    cp.setServer(
      banner.port,
      server('smtp', { detect: { timeout: { nanos: 200_000_000 } } }, [allowAll('everyone')]),
    );
    const h = await startHarness({ ...policyEnv(cp), ...forwardTo(banner.port) });
    try {
      const started = Date.now();
      const sock = connect(h.inboundPort, '127.0.0.1');
      sock.on('error', () => undefined);
      const [data] = (await once(sock, 'data')) as [Buffer];
      const elapsed = Date.now() - started;
      sock.destroy();
      expect(data.toString()).toBe('220 ready\r\n');
      expect(elapsed).toBeGreaterThanOrEqual(150);
      expect(elapsed).toBeLessThan(3000); // the configured detection timeout is 10 s
    } finally {
      await h.close();
      await cp.close();
      await closeServer(banner.server);
    }
  });
});

describe('route filters', () => {
  it('applies a RequestHeaderModifier and injects failures on the matched rule', async () => {
    const cp = await startTestPolicyServer();
    const app = await listenHttp((req, res) =>
      res.end(`x-env=${String(req.headers['x-env'])} x-debug=${String(req.headers['x-debug'])}\n`),
    );
    const headerRoute: inbound.HttpRoute.$Properties = {
      ...route('tagged', '/', [allowAll('everyone')]),
      rules: [
        {
          matches: [{ path: { prefix: '/' } }],
          filters: [
            {
              requestHeaderModifier: {
                set: { headers: [{ name: 'x-env', value: Buffer.from('mesh') }] },
                remove: ['x-debug'],
              },
            },
          ],
        },
        {
          matches: [{ path: { prefix: '/broken' } }],
          filters: [
            {
              failureInjector: {
                status: 503,
                message: 'chaos drill',
                ratio: { numerator: 1, denominator: 1 },
              },
            },
          ],
        },
      ],
    };
    cp.setServer(app.port, server('web-http', { http1: { routes: [headerRoute] } }));
    const h = await startHarness({ ...policyEnv(cp), ...forwardTo(app.port) });
    try {
      const r = await curl(`http://127.0.0.1:${h.inboundPort}/x`, '-H', 'x-env: prod', '-H', 'x-debug: 1');
      expect(r.body).toBe('x-env=mesh x-debug=undefined\n');
      const broken = await curl(`http://127.0.0.1:${h.inboundPort}/broken/1`);
      expect(broken.status).toBe(503);
      expect(broken.headers).toContain('l5d-proxy-error: injected_failure: chaos drill');
    } finally {
      await h.close();
      await cp.close();
      await closeServer(app.server);
    }
  });

  it('refuses a Server whose RequestHeaderModifier would inject a header line, keeping the last policy', async () => {
    const cp = await startTestPolicyServer();
    const app = await listenHttp((req, res) =>
      res.end(`x-env=${String(req.headers['x-env'])} x-injected=${String(req.headers['x-injected'])}\n`),
    );
    const withEnv = (value: string): inbound.HttpRoute.$Properties => ({
      ...route('tagged', '/', [allowAll('everyone')]),
      rules: [
        {
          matches: [{ path: { prefix: '/' } }],
          filters: [
            { requestHeaderModifier: { set: { headers: [{ name: 'x-env', value: Buffer.from(value) }] } } },
          ],
        },
      ],
    });
    cp.setServer(app.port, server('web-http', { http1: { routes: [withEnv('mesh')] } }));
    const errors: string[] = [];
    const h = await startHarness(
      { ...policyEnv(cp), ...forwardTo(app.port) },
      { onPolicyError: (port, err) => errors.push(`${port}: ${(err as Error).message}`) },
    );
    try {
      const url = `http://127.0.0.1:${h.inboundPort}/x`;
      expect((await curl(url)).body).toBe('x-env=mesh x-injected=undefined\n');
      cp.setServer(app.port, server('web-http', { http1: { routes: [withEnv('evil\r\nx-injected: 1')] } }));
      for (let i = 0; i < 100 && errors.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(errors).toEqual([
        `${app.port}: requestHeaderModifier.set[0]: the value of x-env holds control character 0x0d ` +
          'at offset 4 (at routes[0].rules[0])',
      ]);
      for (let i = 0; i < 3; i++) expect((await curl(url)).body).toBe('x-env=mesh x-injected=undefined\n');
    } finally {
      await h.close();
      await cp.close();
      await closeServer(app.server);
    }
  });
});

describe('route redirects', () => {
  it('answers a RequestRedirect filter with its status and Location', async () => {
    const cp = await startTestPolicyServer();
    const app = await listenHttp((_req, res) => res.end('app\n'));
    cp.setServer(
      app.port,
      server('web-http', {
        http1: {
          routes: [
            {
              ...route('moved', '/old', [allowAll('everyone')]),
              rules: [
                {
                  matches: [{ path: { prefix: '/old' } }],
                  filters: [{ redirect: { path: { prefix: '/new' }, status: 301 } }],
                },
              ],
            },
            route('rest', '/', [allowAll('everyone')]),
          ],
        },
      }),
    );
    const h = await startHarness({ ...policyEnv(cp), ...forwardTo(app.port) });
    try {
      const r = await curl(`http://127.0.0.1:${h.inboundPort}/old/page?q=1`);
      expect(r.status).toBe(301);
      expect(r.headers).toContain(`location: http://127.0.0.1:${h.inboundPort}/new/page?q=1`);
      expect((await curl(`http://127.0.0.1:${h.inboundPort}/other`)).body).toBe('app\n');
    } finally {
      await h.close();
      await cp.close();
      await closeServer(app.server);
    }
  });
});
