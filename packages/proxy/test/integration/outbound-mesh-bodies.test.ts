// Response bodies through the outbound mesh stack's HTTP/1 endpoint path (undici dispatch with a
// handler, no body stream): a large body to a slow reader arrives whole, a retried response's body
// is dropped without stalling the connection, a stalled body ends on the route's idle timeout,
// and a client going away mid-body cancels the endpoint's request.
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { meshTestbed, requestVia } from './support/mesh-outbound.js';
import { duration, httpPolicy } from './support/policies.js';

const WEB = 'web.emojivoto.svc.cluster.local:80';
const bed = meshTestbed();

/** A deterministic chunk: its index repeated. */
const chunk = (i: number, size: number) => Buffer.alloc(size, i % 251);

/** Writes `count` chunks of `size` bytes, waiting for drain as a well-behaved server does. */
async function writeChunks(res: ServerResponse, count: number, size: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    if (!res.write(chunk(i, size))) await once(res, 'drain');
  }
  res.end();
}

/** A GET through the proxy with node:http (no pooling), for tests that read the body by hand. */
function get(port: number, path: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, headers: { host: WEB }, agent: false }, resolve);
    req.on('error', reject);
    req.end();
  });
}

const withTimeout = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([
    p,
    new Promise<T>((_, reject) =>
      setTimeout(() => reject(new Error(`${what}: not within ${ms}ms`)), ms).unref(),
    ),
  ]);

describe('outbound mesh response bodies (HTTP/1 endpoint)', () => {
  it('streams a 4 MiB body to a reader that pauses, whole and in order', async () => {
    const count = 64;
    const size = 64 * 1024;
    const expected = createHash('sha256');
    for (let i = 0; i < count; i++) expected.update(chunk(i, size));
    const big = await bed.server('127.0.1.40', (_req, res) => void writeChunks(res, count, size));
    bed.cp.setEndpoints(WEB, [big]);
    bed.cp.setPolicy(WEB, httpPolicy(WEB, [{ backends: [{ path: WEB }] }]));
    const proxy = await bed.start();
    const res = await get(proxy.port, '/big');
    expect(res.statusCode).toBe(200);
    // Not reading for a while fills every buffer on the way: the endpoint's connection is paused.
    res.pause();
    await new Promise((r) => setTimeout(r, 300));
    const hash = createHash('sha256');
    let bytes = 0;
    res.on('data', (c: Buffer) => {
      hash.update(c);
      bytes += c.length;
    });
    res.resume();
    await withTimeout(once(res, 'end'), 10_000, 'the body');
    expect(bytes).toBe(count * size);
    expect(hash.digest('hex')).toBe(expected.digest('hex'));
  });

  it('drops the body of a retried response (larger than what is kept before relaying) and relays the retry', async () => {
    let calls = 0;
    const flaky = await bed.server('127.0.1.41', (_req, res) => {
      calls++;
      if (calls % 2 === 1) {
        res.statusCode = 503;
        void writeChunks(res, 8, 64 * 1024);
      } else res.end(`ok ${calls}`);
    });
    bed.cp.setEndpoints(WEB, [flaky]);
    bed.cp.setPolicy(
      WEB,
      httpPolicy(WEB, [{ backends: [{ path: WEB }], retry: { maxRetries: 1, statuses: [[503, 503]] } }]),
    );
    const proxy = await bed.start();
    for (let i = 0; i < 5; i++) {
      const res = await withTimeout(requestVia(proxy.port, WEB, `/r/${i}`), 10_000, `request ${i}`);
      expect(res.status).toBe(200);
      expect(res.body).toBe(`ok ${2 * i + 2}`);
    }
  });

  it('ends a body that stalls past the route idle timeout', async () => {
    const stalled = await bed.server('127.0.1.42', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first chunk');
      setTimeout(() => res.end('late'), 5000).unref();
    });
    bed.cp.setEndpoints(WEB, [stalled]);
    const policy = httpPolicy(WEB, [{ backends: [{ path: WEB }] }]);
    const rule = (
      policy.protocol as { detect: { http1: { routes: { rules: Record<string, unknown>[] }[] } } }
    ).detect.http1.routes[0]?.rules[0];
    if (rule) rule.timeouts = { idle: duration(300) };
    bed.cp.setPolicy(WEB, policy);
    const proxy = await bed.start();
    const started = Date.now();
    const res = await get(proxy.port, '/stall');
    expect(res.statusCode).toBe(200);
    let body = '';
    res.on('data', (c: Buffer) => (body += c.toString()));
    // The client sees the response cut short ('aborted' error, then close).
    res.on('error', () => undefined);
    await withTimeout(new Promise((r) => res.once('close', r)), 3000, 'the end of the stalled response');
    expect(res.complete).toBe(false);
    expect(body).toBe('first chunk');
    expect(Date.now() - started).toBeLessThan(2500);
  });

  it('cancels the endpoint request when the client goes away mid-body', async () => {
    let upstreamClosed: Promise<unknown> | undefined;
    const holding = await bed.server('127.0.1.43', (_req, res) => {
      upstreamClosed = once(res, 'close');
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first chunk');
      // Never ends on its own: only the proxy cancelling the request closes it.
    });
    bed.cp.setEndpoints(WEB, [holding]);
    bed.cp.setPolicy(WEB, httpPolicy(WEB, [{ backends: [{ path: WEB }] }]));
    const proxy = await bed.start();
    const res = await get(proxy.port, '/hold');
    expect(res.statusCode).toBe(200);
    await withTimeout(once(res, 'data'), 3000, 'the first chunk');
    res.destroy();
    await withTimeout(
      upstreamClosed ?? Promise.reject(new Error('no upstream request')),
      3000,
      'upstream close',
    );
    // The endpoint is not ejected for it: the next request is served.
    holding.server.removeAllListeners('request');
    holding.server.on('request', (_req: IncomingMessage, r: ServerResponse) => r.end('again'));
    const again = await requestVia(proxy.port, WEB, '/again');
    expect(again.body).toBe('again');
  });
});
