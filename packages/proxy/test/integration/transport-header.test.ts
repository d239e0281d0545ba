// Opaque transport between proxies, as Linkerd does it: a client proxy opens mesh TLS to the peer's
// inbound port with ALPN transport.l5d.io/v1 and writes the transport header; the inbound proxy
// reads it and forwards the session to the app on localhost at the header's port — opaque TCP, or
// HTTP/1 / HTTP/2 when the header names the protocol — with the client's identity recorded. A bad
// header closes that connection, is counted, and the proxy keeps serving (fast-check drives it).
import { once } from 'node:events';
import { connect as http2Connect, createServer as createH2Server, type Http2Server } from 'node:http2';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect, createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { TRANSPORT_HEADER_PROTOCOL } from '@tsmesh/core';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMeshTls, createStaticCertificateSource, type MeshTls } from '../../src/tls/index.js';
import { createTestCa } from '../../src/tls/test-certs.test-support.js';
import {
  connectWithTransportHeader,
  encodeTransportHeader,
  type TransportHeader,
} from '../../src/transport-header/index.js';
import { closeServer, listenHttp, listenTcp, sample, startHarness, type Harness } from './proxy-harness.js';

const CLIENT_ID = 'vote-bot.emojivoto.serviceaccount.identity.linkerd.cluster.local';
const SERVER_ID = 'web.emojivoto.serviceaccount.identity.linkerd.cluster.local';

/** Sends `payload` (then half-closes, unless keepOpen), resolves with all received until the end. */
function exchange(socket: TLSSocket, payload: string, keepOpen = false): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    socket.on('data', (d: Buffer) => (got += d.toString()));
    socket.once('end', () => resolve(got));
    socket.once('error', reject);
    if (keepOpen) socket.write(payload);
    else socket.end(payload);
  });
}

describe('opaque transport (transport.l5d.io/v1) into the inbound proxy', () => {
  const ca = createTestCa();
  let proxy: Harness;
  let client: MeshTls;
  let echo: Awaited<ReturnType<typeof listenTcp>>;
  let web: Awaited<ReturnType<typeof listenHttp>>;
  let web2: Http2Server;

  beforeAll(async () => {
    echo = await listenTcp((s) => {
      const chunks: Buffer[] = [];
      s.on('data', (d: Buffer) => chunks.push(d));
      s.on('end', () => s.end(`echo:${Buffer.concat(chunks).toString()}`));
    });
    web = await listenHttp((req, res) =>
      res.end(`${req.httpVersion} ${req.url} client-id=${String(req.headers['l5d-client-id'])}`),
    );
    web2 = createH2Server((req, res) =>
      res.end(`${req.httpVersion} ${req.url} client-id=${String(req.headers['l5d-client-id'])}`),
    );
    web2.listen(0, '127.0.0.1');
    await once(web2, 'listening');
    // No forward address: the inbound proxy learns every target from the header.
    proxy = await startHarness(
      {},
      {
        certificates: createStaticCertificateSource(ca.issue(SERVER_ID)),
        trustAnchorsPem: ca.trustAnchorsPem,
      },
    );
    client = createMeshTls(createStaticCertificateSource(ca.issue(CLIENT_ID)), ca.trustAnchorsPem);
  });
  afterAll(async () => {
    client.close();
    await proxy.close();
    await closeServer(echo.server);
    await closeServer(web.server);
    await new Promise((r) => web2.close(r));
    ca.dispose();
  });

  const open = (header: TransportHeader) =>
    connectWithTransportHeader({
      host: '127.0.0.1',
      port: proxy.inboundPort,
      serverIdentity: SERVER_ID,
      header,
      meshTls: client,
      timeoutMs: 2000,
    });
  const metrics = async () => (await fetch(`${proxy.adminUrl}/metrics`)).text();

  it('forwards an opaque session to the header port, with half-close, recording the client identity', async () => {
    const tls = await open({ port: echo.port });
    expect(tls.alpnProtocol).toBe(TRANSPORT_HEADER_PROTOCOL);
    expect(await exchange(tls, 'x'.repeat(100_000))).toBe(`echo:${'x'.repeat(100_000)}`);
    await expect
      .poll(async () =>
        sample(await metrics(), 'tcp_open_total', {
          direction: 'inbound',
          tls: 'true',
          client_id: CLIENT_ID,
          target_addr: `127.0.0.1:${echo.port}`,
        }),
      )
      .toBeGreaterThanOrEqual(1);
  });

  it('serves HTTP/1 when the header says http1, passing l5d-client-id', async () => {
    const tls = await open({ port: web.port, protocol: 'http1' });
    const response = await exchange(tls, 'GET /h1 HTTP/1.1\r\nHost: web\r\nConnection: close\r\n\r\n', true);
    expect(response).toMatch(/^HTTP\/1\.1 200/);
    expect(response).toContain(`1.1 /h1 client-id=${CLIENT_ID}`);
  });

  it('serves HTTP/2 when the header says http2', async () => {
    const tls = await open({ port: (web2.address() as { port: number }).port, protocol: 'http2' });
    const session = http2Connect('http://web', { createConnection: () => tls });
    const errors: Error[] = [];
    session.on('error', (e) => errors.push(e));
    const req = session.request({ ':path': '/h2' });
    req.on('error', (e) => errors.push(e));
    const [headers] = (await once(req, 'response')) as [Record<string, unknown>];
    expect(headers[':status']).toBe(200);
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    await once(req, 'end');
    session.close();
    expect(errors).toEqual([]);
    expect(body).toBe(`2.0 /h2 client-id=${CLIENT_ID}`);
  });

  it('closes a connection whose header is bad, counts it, and keeps serving (fuzzed)', async () => {
    const before = sample(await metrics(), 'inbound_tcp_errors_total') ?? 0;
    let sent = 0;
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 256 }), async (bytes) => {
        const socket = netConnect(proxy.inboundPort, '127.0.0.1');
        const tls = client.wrapClient(socket, SERVER_ID, [TRANSPORT_HEADER_PROTOCOL]);
        tls.on('error', () => undefined);
        await once(tls, 'secureConnect');
        sent++;
        // Whatever follows, the proxy ends the connection: without a preface at once, and a
        // partial header after the detect timeout; end our side so that partial ones finish too.
        tls.end(Buffer.from(bytes));
        await once(tls, 'close');
      }),
      { numRuns: 25 },
    );
    await expect
      .poll(async () => sample(await metrics(), 'inbound_tcp_errors_total') ?? 0)
      .toBe(before + sent);
    expect((await fetch(`${proxy.adminUrl}/ready`)).status).toBe(200);
    expect(await exchange(await open({ port: echo.port }), 'still')).toBe('echo:still');
  });

  it('refuses, as Linkerd does, a header naming a target (a gateway request) and a client without identity', async () => {
    const before = sample(await metrics(), 'inbound_tcp_errors_total') ?? 0;
    const named = await open({ port: echo.port, name: 'web.emojivoto.svc.cluster.local' });
    expect(await exchange(named, 'hello').catch(() => 'closed')).toMatch(/^(|closed)$/);
    const anonymous = tlsConnect({
      host: '127.0.0.1',
      port: proxy.inboundPort,
      servername: SERVER_ID,
      ca: ca.trustAnchorsPem,
      checkServerIdentity: () => undefined,
      ALPNProtocols: [TRANSPORT_HEADER_PROTOCOL],
    });
    await once(anonymous, 'secureConnect');
    anonymous.write(encodeTransportHeader({ port: echo.port }));
    expect(await exchange(anonymous, 'hello').catch(() => 'closed')).toMatch(/^(|closed)$/);
    await expect.poll(async () => sample(await metrics(), 'inbound_tcp_errors_total') ?? 0).toBe(before + 2);
  });

  it('refuses a TLS peer that does not negotiate opaque transport, with a clear error', async () => {
    const cert = ca.issue(SERVER_ID);
    const plainTls = createTlsServer({ cert: cert.certificateChainPem, key: cert.privateKeyPem }, (s) =>
      s.destroy(),
    );
    plainTls.listen(0, '127.0.0.1');
    await once(plainTls, 'listening');
    const port = (plainTls.address() as { port: number }).port;
    await expect(
      connectWithTransportHeader({
        host: '127.0.0.1',
        port,
        serverIdentity: SERVER_ID,
        header: { port: 80 },
        meshTls: client,
        timeoutMs: 2000,
      }),
    ).rejects.toThrow(/did not accept opaque transport/);
    await new Promise((r) => plainTls.close(r));
  });
});
