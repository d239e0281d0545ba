// Opaque TCP (echo, half-close, server-speaks-first on an opaque port, detection timeout falling
// back to TCP), the admin endpoints, and bad input: random bytes, malformed HTTP and invalid TLS
// thrown at every listener (fast-check), after which the proxy still answers /ready.
import { connect, type Socket } from 'node:net';
import fc from 'fast-check';
import { ProxyEnv } from '@tsmesh/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeServer, forwardTo, listenTcp, sample, startHarness, type Harness } from './proxy-harness.js';

function talk(port: number, send: string | undefined, opts: { half?: boolean } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const s: Socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    let got = '';
    s.on('data', (d: Buffer) => (got += d.toString()));
    s.on('end', () => {
      s.end();
      resolve(got);
    });
    s.on('error', reject);
    if (send !== undefined && opts.half) s.end(send);
    else if (send !== undefined) s.write(send);
  });
}

describe('opaque TCP through the inbound proxy', () => {
  let echo: Awaited<ReturnType<typeof listenTcp>>;
  let banner: Awaited<ReturnType<typeof listenTcp>>;
  let opaque: Harness;
  let detecting: Harness;

  beforeAll(async () => {
    echo = await listenTcp((s) => {
      s.on('data', (d: Buffer) => s.write(d));
      s.on('end', () => s.end('<eof>'));
    });
    // Server speaks first: a greeting, then it closes.
    banner = await listenTcp((s) => s.end('220 banner ready\r\n'));
    opaque = await startHarness({
      ...forwardTo(banner.port),
      [ProxyEnv.InboundPortsDisableProtocolDetection]: String(banner.port),
    });
    detecting = await startHarness({ ...forwardTo(echo.port), [ProxyEnv.InboundDetectTimeout]: '200ms' });
  });
  afterAll(async () => {
    await opaque.close();
    await detecting.close();
    await closeServer(echo.server);
    await closeServer(banner.server);
  });

  it('a server-speaks-first protocol works at once on an opaque port', async () => {
    const started = Date.now();
    expect(await talk(opaque.inboundPort, undefined)).toBe('220 banner ready\r\n');
    // Not held for detection: that would wait out the default 10 s detect timeout first.
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('echoes opaque bytes and carries the half-close', async () => {
    expect(await talk(detecting.inboundPort, '*1\r\n$4\r\nPING\r\n', { half: true })).toBe(
      '*1\r\n$4\r\nPING\r\n<eof>',
    );
  });

  it('falls back to TCP when the client is silent past the detection timeout', async () => {
    const s = connect(detecting.inboundPort, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 300));
    s.write('late');
    const [d] = await new Promise<[Buffer]>((r) => s.once('data', (...a: [Buffer]) => r(a)));
    expect(d.toString()).toBe('late');
    s.destroy();
  });

  it('counts bytes in tcp_* metrics', async () => {
    const text = await (await fetch(`${detecting.adminUrl}/metrics`)).text();
    expect(sample(text, 'tcp_open_total', { direction: 'inbound', peer: 'dst' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'tcp_read_bytes_total', { direction: 'inbound', peer: 'src' })).toBeGreaterThan(0);
    expect(text).toMatch(/tcp_connection_duration_ms_bucket\{/);
  });
});

describe('admin and bad input', () => {
  let h: Harness;
  let echo: Awaited<ReturnType<typeof listenTcp>>;
  beforeAll(async () => {
    echo = await listenTcp((s) => s.on('data', (d: Buffer) => s.write(d)));
    h = await startHarness({ ...forwardTo(echo.port), [ProxyEnv.InboundDetectTimeout]: '100ms' });
  });
  afterAll(async () => {
    await h.close();
    await closeServer(echo.server);
  });

  it('serves /ready, /live, 404s, and refuses /shutdown unless enabled', async () => {
    const get = async (path: string, init?: RequestInit) => {
      const r = await fetch(`${h.adminUrl}${path}`, init);
      return `${r.status} ${await r.text()}`;
    };
    expect(await get('/ready')).toBe('200 ready\n');
    expect(await get('/live')).toBe('200 live\n');
    expect(await get('/nope')).toBe('404 not found\n');
    expect(await get('/shutdown', { method: 'POST' })).toBe('404 shutdown endpoint is not enabled\n');
    expect(await get('/proxy-log-level', { method: 'PUT', body: 'bogus-level' })).toMatch(/^400 /);
    expect(await get('/proxy-log-level', { method: 'PUT', body: 'debug,linkerd=trace' })).toBe('204 ');
    expect(await get('/proxy-log-level')).toBe('200 debug,linkerd=trace\n');
  });

  it('survives random bytes, malformed HTTP and invalid TLS on every listener (fuzz)', async () => {
    const ports = [h.inboundPort, h.outboundPort];
    const payload = fc.oneof(
      fc.uint8Array({ minLength: 1, maxLength: 512 }).map((b) => Buffer.from(b)),
      fc.string().map((s) => Buffer.from(`GET ${s} HTTP/1.1\r\n${s}\r\n\r\n`)),
      fc
        .uint8Array({ maxLength: 64 })
        .map((b) => Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0x00, 0x40, 0x01]), Buffer.from(b)])),
      fc.constant(Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x04\xff\xff\xff')),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ports), payload, fc.boolean(), async (port, bytes, reset) => {
        await new Promise<void>((resolve) => {
          const s = connect(port, '127.0.0.1');
          s.on('error', () => resolve());
          s.on('close', () => resolve());
          s.write(bytes);
          setTimeout(() => (reset ? s.resetAndDestroy() : s.destroy()), 5);
        });
      }),
      { numRuns: 60 },
    );
    expect((await fetch(`${h.adminUrl}/ready`)).status).toBe(200);
    const text = await (await fetch(`${h.adminUrl}/metrics`)).text();
    expect(sample(text, 'tcp_open_total')).toBeGreaterThanOrEqual(60);
  });
});
