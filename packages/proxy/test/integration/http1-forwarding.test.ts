// HTTP/1.1 through the inbound proxy with curl: keep-alive, chunked uploads, large bodies,
// l5d-client-id hygiene, WebSocket-style Upgrade, and metrics with Linkerd's labels.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeServer, forwardTo, listenHttp, sample, startHarness, type Harness } from './proxy-harness.js';

const run = promisify(execFile);
const curl = (...args: string[]) =>
  run('curl', ['-sS', '--max-time', '10', ...args], { maxBuffer: 64 * 1024 * 1024 });

describe('HTTP/1.1 through the inbound proxy (curl)', () => {
  let h: Harness;
  let app: Awaited<ReturnType<typeof listenHttp>>;
  const upgraded: Duplex[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'tsmesh-proxy-h1-'));

  beforeAll(async () => {
    app = await listenHttp((req, res) => {
      if (req.url === '/big') {
        const chunk = Buffer.alloc(1024 * 1024, 'x');
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        for (let i = 0; i < 20; i++) res.write(chunk);
        res.end();
        return;
      }
      if (req.headers.upgrade === 'websocket') return; // handled by 'upgrade'
      const hash = createHash('sha256');
      let n = 0;
      req.on('data', (d: Buffer) => {
        n += d.length;
        hash.update(d);
      });
      req.on('end', () => {
        res.setHeader('x-client-id', String(req.headers['l5d-client-id'] ?? 'none'));
        res.setHeader('x-te', String(req.headers['transfer-encoding'] ?? 'none'));
        res.end(`${req.method} ${req.url} ${n} ${hash.digest('hex')}\n`);
      });
    });
    app.server.on('upgrade', (_req, socket) => {
      upgraded.push(socket);
      socket.write('HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\n');
      socket.on('data', (d: Buffer) => socket.write(d)); // echo frames
    });
    h = await startHarness(forwardTo(app.port));
  });
  afterAll(async () => {
    await h.close();
    for (const s of upgraded) s.destroy();
    await closeServer(app.server);
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the client connection alive across requests', async () => {
    const url = `http://127.0.0.1:${h.inboundPort}`;
    const { stdout, stderr } = await run('curl', ['-sS', '-v', '--max-time', '10', `${url}/a`, `${url}/b`]);
    expect(stdout).toMatch(/GET \/a 0 /);
    expect(stdout).toMatch(/GET \/b 0 /);
    expect(stderr).toMatch(/Re-using existing connection|Reusing existing/);
  });

  it('streams a chunked upload and strips a spoofed l5d-client-id', async () => {
    const file = join(dir, 'up.bin');
    const body = Buffer.alloc(3 * 1024 * 1024 + 7, 'y');
    writeFileSync(file, body);
    const { stdout } = await curl(
      '-D',
      '-',
      '-H',
      'Transfer-Encoding: chunked',
      '-H',
      'l5d-client-id: evil',
      '--data-binary',
      `@${file}`,
      `http://127.0.0.1:${h.inboundPort}/up`,
    );
    const digest = createHash('sha256').update(body).digest('hex');
    expect(stdout).toContain(`POST /up ${body.length} ${digest}`);
    expect(stdout).toMatch(/x-client-id: none/i);
    expect(stdout).toMatch(/x-te: chunked/i);
  });

  it('downloads a 20 MiB body intact', async () => {
    const { stdout } = await run('sh', [
      '-c',
      `curl -sS --max-time 10 http://127.0.0.1:${h.inboundPort}/big | wc -c`,
    ]);
    expect(Number(stdout.trim())).toBe(20 * 1024 * 1024);
  });

  it('answers 400 to malformed HTTP and keeps serving', async () => {
    const s = connect(h.inboundPort, '127.0.0.1');
    s.end('GET / HTTP/1.1\r\nHost: a\r\nbad header line\r\n\r\n');
    const chunks: Buffer[] = [];
    s.on('data', (d: Buffer) => chunks.push(d));
    await new Promise((r) => s.on('close', r));
    expect(Buffer.concat(chunks).toString()).toMatch(/^HTTP\/1.1 400/);
    const { stdout } = await curl(`http://127.0.0.1:${h.inboundPort}/after`);
    expect(stdout).toMatch(/GET \/after/);
  });

  it('forwards an Upgrade and then raw bytes both ways', async () => {
    const s = connect(h.inboundPort, '127.0.0.1');
    s.write('GET /ws HTTP/1.1\r\nHost: app\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
    let got = '';
    await new Promise<void>((resolve) => {
      s.on('data', (d: Buffer) => {
        got += d.toString();
        if (got.includes('\r\n\r\n') && !got.includes('ping')) s.write('ping');
        if (got.endsWith('ping')) resolve();
      });
    });
    expect(got).toMatch(/^HTTP\/1.1 101/);
    s.destroy();
  });

  it('records request_total/response_total/response_latency_ms with Linkerd labels', async () => {
    const text = await (await fetch(`${h.adminUrl}/metrics`)).text();
    const labels = { direction: 'inbound', tls: 'no_identity', no_tls_reason: 'loopback' };
    expect(sample(text, 'request_total', labels)).toBeGreaterThanOrEqual(4);
    expect(
      sample(text, 'response_total', { ...labels, status_code: '200', classification: 'success' }),
    ).toBeGreaterThanOrEqual(4);
    expect(text).toMatch(/response_latency_ms_bucket\{[^}]*le="1"/);
    expect(sample(text, 'tcp_open_total', { direction: 'inbound', peer: 'src' })).toBeGreaterThanOrEqual(4);
    expect(text).toContain('process_cpu_seconds_total');
  });
});
