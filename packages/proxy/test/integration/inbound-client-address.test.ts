// The real client address reaches the app: X-Forwarded-For and Forwarded on HTTP
// (TSMESH_PROXY_INBOUND_FORWARDED=both), and a PROXY protocol v2 header on TCP ports listed in
// TSMESH_PROXY_INBOUND_PROXY_PROTOCOL_PORTS, parsed here by a plain TCP server. Access log lines
// (LINKERD2_PROXY_ACCESS_LOG) are checked in both of Linkerd's formats.
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { promisify } from 'node:util';
import { ProxyEnv } from '@tsmesh/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TsmeshProxyEnv } from '../../src/config/index.js';
import {
  closeServer,
  forwardTo,
  listenHttp,
  listenTcp,
  startHarness,
  type Harness,
} from './proxy-harness.js';

const run = promisify(execFile);
const SIGNATURE = '0d0a0d0a000d0a515549540a';

/** Reads a PROXY v2 header off a socket and answers with what it says, then echoes. */
function proxyProtocolApp(s: Socket): void {
  let buf = Buffer.alloc(0);
  let parsed = false;
  s.on('data', (d: Buffer) => {
    if (parsed) return void s.write(d);
    buf = Buffer.concat([buf, d]);
    if (buf.length < 16) return;
    const len = buf.readUInt16BE(14);
    if (buf.length < 16 + len) return;
    parsed = true;
    const sig = buf.subarray(0, 12).toString('hex');
    const family = buf[13];
    const src = family === 0x11 ? [...buf.subarray(16, 20)].join('.') : '?';
    const dst = family === 0x11 ? [...buf.subarray(20, 24)].join('.') : '?';
    const srcPort = family === 0x11 ? buf.readUInt16BE(24) : 0;
    const dstPort = family === 0x11 ? buf.readUInt16BE(26) : 0;
    s.write(
      `sig=${sig === SIGNATURE} cmd=${(buf[12] ?? 0).toString(16)} src=${src}:${srcPort} dst=${dst}:${dstPort}\n`,
    );
    const rest = buf.subarray(16 + len);
    if (rest.length > 0) s.write(rest);
  });
}

describe('client address for the app', () => {
  let web: Awaited<ReturnType<typeof listenHttp>>;
  let tcp: Awaited<ReturnType<typeof listenTcp>>;
  let httpProxy: Harness;
  let tcpProxy: Harness;
  const accessLines: string[] = [];

  beforeAll(async () => {
    web = await listenHttp((req, res) =>
      res.end(`xff=${String(req.headers['x-forwarded-for'])} fwd=${String(req.headers.forwarded)}\n`),
    );
    tcp = await listenTcp(proxyProtocolApp);
    httpProxy = await startHarness(
      { [TsmeshProxyEnv.InboundForwarded]: 'both', [ProxyEnv.AccessLog]: 'json', ...forwardTo(web.port) },
      { writeAccessLog: (chunk) => accessLines.push(...chunk.split('\n').filter((l) => l !== '')) },
    );
    tcpProxy = await startHarness({
      [TsmeshProxyEnv.InboundProxyProtocolPorts]: String(tcp.port),
      ...forwardTo(tcp.port),
    });
  });
  afterAll(async () => {
    await Promise.all([httpProxy.close(), tcpProxy.close()]);
    await closeServer(web.server);
    await closeServer(tcp.server);
  });

  it('adds X-Forwarded-For and Forwarded for the client', async () => {
    const { stdout } = await run('curl', [
      '-sS',
      '--max-time',
      '10',
      '-H',
      'forwarded: for=203.0.113.9',
      `http://127.0.0.1:${httpProxy.inboundPort}/who`,
    ]);
    expect(stdout).toBe('xff=127.0.0.1 fwd=for=203.0.113.9, for=127.0.0.1\n');
  });

  it('writes a Linkerd JSON access log line per request', async () => {
    await run('curl', [
      '-sS',
      '--max-time',
      '10',
      '-A',
      'tsmesh-test/1',
      `http://127.0.0.1:${httpProxy.inboundPort}/logged?x=1`,
    ]);
    const line = accessLines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((e) => e.uri === '/logged?x=1');
    expect(line).toMatchObject({
      'client.id': '-',
      method: 'GET',
      status: 200,
      user_agent: 'tsmesh-test/1',
      version: 'HTTP/1.1',
      host: `127.0.0.1:${httpProxy.inboundPort}`,
    });
    expect(String(line?.['client.addr'])).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(String(line?.timestamp)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    expect(Number(line?.total_ns)).toBeGreaterThan(0);
  });

  it('sends a PROXY protocol v2 header before the client bytes on annotated TCP ports', async () => {
    const sock = connect(tcpProxy.inboundPort, '127.0.0.1');
    await once(sock, 'connect');
    const clientPort = sock.localPort;
    sock.write('hello\n');
    let got = '';
    sock.on('data', (d: Buffer) => (got += d.toString()));
    const deadline = Date.now() + 5000;
    while (!got.includes('hello') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    sock.destroy();
    expect(got).toBe(`sig=true cmd=21 src=127.0.0.1:${clientPort} dst=127.0.0.1:${tcp.port}\nhello\n`);
  });
});

describe('apache access log', () => {
  it('writes Common Log Format lines as Linkerd does', async () => {
    const web = await listenHttp((_req, res) => res.end('ok\n'));
    const lines: string[] = [];
    const h = await startHarness(
      { [ProxyEnv.AccessLog]: 'apache', ...forwardTo(web.port) },
      { writeAccessLog: (chunk) => lines.push(...chunk.split('\n').filter((l) => l !== '')) },
    );
    try {
      await run('curl', ['-sS', '--max-time', '10', `http://127.0.0.1:${h.inboundPort}/ping`]);
      expect(lines.at(-1)).toMatch(
        /^127\.0\.0\.1:\d+ - - \[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z\] "GET \/ping HTTP\/1\.1" 200$/,
      );
    } finally {
      await h.close();
      await closeServer(web.server);
    }
  });
});
