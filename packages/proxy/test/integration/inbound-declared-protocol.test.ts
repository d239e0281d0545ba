// A Server whose proxyProtocol is HTTP/1, HTTP/2 or gRPC: the inbound proxy skips HTTP detection
// for its port, as Linkerd does (only a meshed peer's TLS is told apart, by its first byte; meshed
// HTTP/1 is still detected, since peer proxies may carry it over HTTP/2). Real
// proxies, curl, a scriptable policy controller; certificates from openssl.
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { createServer as createHttp1Server, type IncomingMessage, type ServerResponse } from 'node:http';
import {
  createServer as createHttp2Server,
  type Http2ServerRequest,
  type Http2ServerResponse,
} from 'node:http2';
import { connect, createServer as createTcpServer, type Server } from 'node:net';
import { promisify } from 'node:util';
import { ProxyEnv, type inbound } from '@tsmesh/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TsmeshProxyEnv } from '../../src/config/index.js';
import { toProtoIp } from '../../src/inbound-policy/index.js';
import { createTestCa } from '../../src/tls/test-certs.test-support.js';
import { createReplayStream } from '../../src/transport/index.js';
import { closeServer, forwardTo, sample, startHarness, type Harness } from './proxy-harness.js';
import { CONTROL_PLANE_ID, meshIdentity } from './support/mesh-proxies.js';
import { startTestPolicyServer, type TestPolicyServer } from './support/policy-server.js';

const run = promisify(execFile);
const A_ID = 'vote-bot.emojivoto.serviceaccount.identity.linkerd.cluster.local';
const B_ID = 'web.emojivoto.serviceaccount.identity.linkerd.cluster.local';
const GROUP = 'policy.linkerd.io';

const allowAll: inbound.Authz.$Properties = {
  metadata: { resource: { group: GROUP, kind: 'AuthorizationPolicy', name: 'everyone' } },
  networks: [{ net: { ip: toProtoIp('0.0.0.0'), prefixLen: 0 } }],
  authentication: { unauthenticated: {} },
};
const routes: inbound.HttpRoute.$Properties[] = [
  {
    metadata: { resource: { group: GROUP, kind: 'HTTPRoute', name: 'all' } },
    rules: [{ matches: [{ path: { prefix: '/' } }] }],
    authorizations: [allowAll],
  },
];
const serverWith = (protocol: inbound.ProxyProtocol.$Properties): inbound.Server.$Properties => ({
  labels: { group: GROUP, kind: 'server', name: 'web' },
  protocol,
  authorizations: [allowAll],
});

/** An app speaking HTTP/1.1 and cleartext HTTP/2 (prior knowledge) on one port, telling which. */
async function listenDual(): Promise<{ server: Server; port: number }> {
  const answer = (req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse) =>
    res.end(
      `v=${req.httpVersion} len=${req.url?.length} xff=${String(req.headers['x-forwarded-for'])} id=${String(req.headers['l5d-client-id'])}\n`,
    );
  const h1 = createHttp1Server(answer);
  const h2 = createHttp2Server(answer);
  const server = createTcpServer((socket) => {
    socket.once('data', (chunk: Buffer) => {
      socket.pause();
      if (chunk.subarray(0, 3).toString() === 'PRI') {
        // node:http2 reads the socket's handle: the sniffed bytes go through a replay stream.
        h2.emit('connection', createReplayStream(socket, chunk));
        return;
      }
      socket.unshift(chunk);
      h1.emit('connection', socket);
      socket.resume();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as { port: number }).port };
}

/** A raw HTTP/1.1 request whose bytes start with an empty line (allowed by RFC 9112, skipped by Node). */
async function leadingCrlfRequest(port: number): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  socket.write('\r\nGET /crlf HTTP/1.1\r\nhost: web\r\nconnection: close\r\n\r\n');
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  await once(socket, 'close');
  return Buffer.concat(chunks).toString();
}

async function curl(url: string, ...args: string[]): Promise<{ status: number; body: string }> {
  const { stdout } = await run('curl', ['-sS', '-i', '--max-time', '10', ...args, url], {
    maxBuffer: 1 << 20,
  });
  const [head = '', body = ''] = stdout.split('\r\n\r\n');
  return { status: Number(/^HTTP\/[\d.]+ (\d+)/.exec(head)?.[1]), body };
}

describe('Servers that declare their protocol skip HTTP detection', () => {
  const ca = createTestCa();
  let cp: TestPolicyServer;
  let app: Awaited<ReturnType<typeof listenDual>>;
  let a: Harness;
  let b: Harness;
  let url: string;

  /** Sets the Server for the app's port and waits until B serves with it. */
  const declare = async (protocol: inbound.ProxyProtocol.$Properties, kind: string) => {
    cp.setServer(app.port, serverWith(protocol));
    const deadline = Date.now() + 10_000;
    while (b.proxy.inboundPolicy.port(app.port).server.protocol !== kind) {
      if (Date.now() > deadline) throw new Error(`the proxy did not take the ${kind} Server within 10s`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  beforeAll(async () => {
    cp = await startTestPolicyServer();
    app = await listenDual();
    cp.setServer(app.port, serverWith({ http1: { routes } }));
    b = await startHarness(
      {
        ...forwardTo(app.port),
        [ProxyEnv.PolicySvcAddr]: cp.address,
        [ProxyEnv.PolicySvcName]: CONTROL_PLANE_ID,
        [ProxyEnv.PolicyWorkload]: '{"ns":"emojivoto","pod":"web-0"}',
      },
      meshIdentity(ca, B_ID),
    );
    a = await startHarness(
      { [TsmeshProxyEnv.OutboundForwardAddr]: `127.0.0.1:${b.inboundPort}` },
      {
        ...meshIdentity(ca, A_ID),
        identityFor: (t) => (t.port === b.inboundPort ? B_ID : undefined),
      },
    );
    url = `http://127.0.0.1:${b.inboundPort}`;
  });
  afterAll(async () => {
    await a.close();
    await b.close();
    await closeServer(app.server);
    await cp.close();
    ca.dispose();
  });

  it('HTTP/1: a request detection would not recognise is still served as HTTP', async () => {
    // Bytes starting with an empty line are opaque to detection (no request line first), but valid
    // HTTP/1.1: under an HTTP/1 Server the proxy serves them as HTTP (its X-Forwarded-For and
    // request metrics show it).
    await declare({ http1: { routes } }, 'http1');
    const served = await leadingCrlfRequest(b.inboundPort);
    expect(served).toMatch(/^HTTP\/1\.1 200/);
    expect(served).toContain('v=1.1 len=5 xff=127.0.0.1');
    const text = await (await fetch(`${b.adminUrl}/metrics`)).text();
    expect(sample(text, 'request_total', { direction: 'inbound', srv_name: 'web' })).toBeGreaterThanOrEqual(
      1,
    );

    // Under a Detect Server the same bytes pass through as opaque TCP: no header added.
    await declare({ detect: { timeout: { seconds: 10 }, httpRoutes: routes } }, 'detect');
    const opaque = await leadingCrlfRequest(b.inboundPort);
    expect(opaque).toMatch(/^HTTP\/1\.1 200/);
    expect(opaque).toContain('v=1.1 len=5 xff=undefined');
  });

  it('HTTP/1 over mesh TLS from a peer proxy is still detected (it may come as HTTP/2)', async () => {
    await declare({ http1: { routes } }, 'http1');
    const res = await curl(`http://127.0.0.1:${a.outboundPort}/hello`);
    expect(res.status).toBe(200);
    expect(res.body).toContain(`id=${A_ID}`);
  });

  it('HTTP/2: prior-knowledge HTTP/2 is served, HTTP/1 is not recognised', async () => {
    await declare({ http2: { routes } }, 'http2');
    const h2 = await curl(`${url}/h2`, '--http2-prior-knowledge');
    expect(h2.status).toBe(200);
    expect(h2.body).toContain('v=2.0 len=3 xff=127.0.0.1');
    // Over mesh TLS from a peer proxy: TLS is terminated, then HTTP/2 without detection.
    const meshed = await curl(`http://127.0.0.1:${a.outboundPort}/m2`, '--http2-prior-knowledge');
    expect(meshed.status).toBe(200);
    expect(meshed.body).toContain(`v=2.0 len=3 xff=127.0.0.1 id=${A_ID}`);
    // Detection would have served this as HTTP/1; the declared HTTP/2 server refuses it.
    const h1 = await curl(`${url}/h1`).catch((err: Error) => ({ status: 0, body: err.message }));
    expect(h1.status).not.toBe(200);
  });
});
