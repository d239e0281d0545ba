// Requests an endpoint provably did not process are sent again, whatever the route's retry policy:
// an HTTP/2 stream the endpoint refused (RST_STREAM REFUSED_STREAM), a stream above the last id of
// the endpoint's GOAWAY (a proxy shutting down), and a refused connection (a pod whose listener is
// gone). The resend goes to another endpoint when one is ready, at most MAX_UNPROCESSED_RESENDS
// times, and only when the body can be replayed. The plain path (no discovery, the peer's h2 hint
// from configuration) resends a refused bodiless request too.
import { once } from 'node:events';
import {
  constants,
  createServer,
  type Http2Server,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import { createServer as createNetServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { MAX_UNPROCESSED_RESENDS } from '../../src/http/index.js';
import { startHarness } from './proxy-harness.js';
import { meshTestbed, requestVia } from './support/mesh-outbound.js';
import { httpPolicy } from './support/policies.js';

const WEB = 'web.emojivoto.svc.cluster.local:80';
const bed = meshTestbed();

interface H2Endpoint {
  readonly host: string;
  readonly port: number;
  readonly h2: true;
  /** Streams the endpoint received (refused or answered). */
  streams: number;
  answered: number;
}

/**
 * A plaintext HTTP/2 server on `host` standing in for a meshed pod's proxy (hint h2). `refuse`
 * decides per stream (1-based count) whether to refuse it (RST_STREAM REFUSED_STREAM, as a proxy
 * shutting down does to streams after its GOAWAY) or answer 200 with its name.
 */
async function h2Endpoint(host: string, refuse: (n: number) => boolean, delayMs = 0): Promise<H2Endpoint> {
  const self = { host, port: 0, h2: true as const, streams: 0, answered: 0 };
  const server: Http2Server = createServer();
  const sessions = new Set<ServerHttp2Session>();
  server.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
  server.on('stream', (stream: ServerHttp2Stream) => {
    self.streams++;
    stream.on('error', () => undefined);
    if (refuse(self.streams)) {
      stream.close(constants.NGHTTP2_REFUSED_STREAM);
      return;
    }
    const answer = () => {
      self.answered++;
      stream.respond({ ':status': 200, 'content-type': 'text/plain' });
      stream.end(`from ${host}`);
    };
    if (delayMs > 0) setTimeout(answer, delayMs);
    else answer();
  });
  server.listen(0, host);
  await once(server, 'listening');
  self.port = (server.address() as { port: number }).port;
  bed.onClose(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Sessions the proxy keeps open would hold close() back.
        for (const s of sessions) s.destroy();
      }),
  );
  return self;
}

/**
 * An HTTP/2 endpoint that answers the first stream of every connection with GOAWAY (last stream
 * id 0, NO_ERROR) and closes: an endpoint going away that did not process the stream. Written as
 * frames by hand because node:http2 never sends a last stream id below the last one it received.
 */
async function goawayEndpoint(host: string): Promise<H2Endpoint> {
  const self = { host, port: 0, h2: true as const, streams: 0, answered: 0 };
  const frame = (type: number, flags: number, payload: Buffer) => {
    const head = Buffer.alloc(9);
    head.writeUIntBE(payload.length, 0, 3);
    head[3] = type;
    head[4] = flags;
    return Buffer.concat([head, payload]);
  };
  const server = createNetServer((socket) => {
    socket.on('error', () => undefined);
    socket.write(frame(0x4 /* SETTINGS */, 0, Buffer.alloc(0)));
    let buf = Buffer.alloc(0);
    let prefaceSeen = false;
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (!prefaceSeen) {
        if (buf.length < 24) return;
        buf = buf.subarray(24);
        prefaceSeen = true;
      }
      while (buf.length >= 9) {
        const length = buf.readUIntBE(0, 3);
        if (buf.length < 9 + length) return;
        const type = buf[3];
        const flags = buf[4] ?? 0;
        buf = buf.subarray(9 + length);
        if (type === 0x4 && (flags & 0x1) === 0) socket.write(frame(0x4, 0x1, Buffer.alloc(0)));
        if (type === 0x1 /* HEADERS */) {
          self.streams++;
          const goaway = Buffer.alloc(8); // last stream id 0, error code NO_ERROR
          socket.end(frame(0x7 /* GOAWAY */, 0, goaway));
          return;
        }
      }
    });
  });
  server.listen(0, host);
  await once(server, 'listening');
  self.port = (server.address() as { port: number }).port;
  bed.onClose(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return self;
}

/** A loopback port nothing listens on (bound, then closed). */
async function refusedPort(host: string): Promise<number> {
  const s = createNetServer();
  s.listen(0, host);
  await once(s, 'listening');
  const { port } = s.address() as { port: number };
  await new Promise((r) => s.close(r));
  return port;
}

const noRetryPolicy = () => httpPolicy(WEB, [{ backends: [{ path: WEB }] }]);

/**
 * How slowly the healthy endpoint of a pair answers: above the policy's default RTT (30 ms), which
 * stays the cost of the failing one (a failed attempt records no latency), so P2C picks the failing
 * endpoint first for every request and only the resend shows where it goes.
 */
const SLOWER_THAN_DEFAULT_RTT_MS = 60;

describe('outbound mesh: requests an endpoint did not process are sent again', () => {
  it('resends a refused stream to the other endpoint: every request succeeds on a route without retries', async () => {
    const refusing = await h2Endpoint('127.0.1.60', () => true);
    const healthy = await h2Endpoint('127.0.1.61', () => false, SLOWER_THAN_DEFAULT_RTT_MS);
    bed.cp.setEndpoints(WEB, [refusing, healthy]);
    bed.cp.setPolicy(WEB, noRetryPolicy());
    const proxy = await bed.start();
    for (let i = 0; i < 20; i++) {
      const res = await requestVia(proxy.port, WEB, `/r/${i}`);
      expect(res.status, res.headers['l5d-proxy-error']).toBe(200);
      expect(res.body).toBe('from 127.0.1.61');
    }
    expect(healthy.answered).toBe(20);
    // Once the healthy endpoint's latency is known P2C picks the refusing one first every time
    // (the very first pick is a coin toss); each resend went to the other one.
    expect(refusing.streams).toBeGreaterThanOrEqual(19);
    expect(refusing.streams).toBeLessThanOrEqual(20);
    // The route's retry metrics count policy retries only.
    expect(await proxy.metric('outbound_http_route_retry_requests_total')).toBe(0);
  });

  it('resends to the same endpoint when it is the only one, and gives up after the bound with REFUSED_STREAM named', async () => {
    // Odd streams refused, even ones answered: every request succeeds on its first resend.
    const alternating = await h2Endpoint('127.0.1.62', (n) => n % 2 === 1);
    bed.cp.setEndpoints(WEB, [alternating]);
    bed.cp.setPolicy(WEB, noRetryPolicy());
    const proxy = await bed.start();
    for (let i = 0; i < 10; i++) expect((await requestVia(proxy.port, WEB, `/a/${i}`)).status).toBe(200);
    expect(alternating.streams).toBe(20);

    const always = await h2Endpoint('127.0.1.63', () => true);
    bed.cp.setEndpoints(WEB, [always]);
    // Wait until discovery has replaced the endpoint.
    const deadline = Date.now() + 5000;
    while (always.streams === 0 && Date.now() < deadline) {
      const res = await requestVia(proxy.port, WEB, '/probe');
      if (res.status !== 200) {
        expect(res.status).toBe(502);
        expect(res.headers['l5d-proxy-error']).toMatch(/^ENDPOINT_RESET: .*REFUSED_STREAM/);
      }
    }
    const before = always.streams;
    const res = await requestVia(proxy.port, WEB, '/refused');
    expect(res.status).toBe(502);
    expect(res.headers['l5d-proxy-error']).toMatch(
      /^ENDPOINT_RESET: the endpoint refused the stream without processing it \(REFUSED_STREAM\)/,
    );
    expect(always.streams - before).toBe(1 + MAX_UNPROCESSED_RESENDS);
  });

  it('resends a stream above the last id of a GOAWAY to the other endpoint', async () => {
    const draining = await goawayEndpoint('127.0.1.64');
    const healthy = await h2Endpoint('127.0.1.68', () => false, SLOWER_THAN_DEFAULT_RTT_MS);
    bed.cp.setEndpoints(WEB, [draining, healthy]);
    bed.cp.setPolicy(WEB, noRetryPolicy());
    const proxy = await bed.start();
    for (let i = 0; i < 20; i++) {
      const res = await requestVia(proxy.port, WEB, `/g/${i}`);
      expect(res.status, res.headers['l5d-proxy-error']).toBe(200);
    }
    expect(healthy.answered).toBe(20);
    expect(draining.streams).toBeGreaterThanOrEqual(19);
    expect(draining.streams).toBeLessThanOrEqual(20);
  });

  it('does not resend a request whose streamed body cannot be replayed', async () => {
    const refusing = await h2Endpoint('127.0.1.65', () => true);
    bed.cp.setEndpoints(WEB, [refusing]);
    bed.cp.setPolicy(WEB, noRetryPolicy());
    const proxy = await bed.start();
    // No retry policy: the proxy does not buffer the body, so it has nothing to send again.
    const res = await requestVia(proxy.port, WEB, '/post', { method: 'POST', body: 'x'.repeat(1000) });
    expect(res.status).toBe(502);
    expect(res.headers['l5d-proxy-error']).toMatch(/^ENDPOINT_RESET: .*REFUSED_STREAM/);
    expect(refusing.streams).toBe(1);
  });

  it('resends a request whose connection was refused (HTTP/1 endpoint whose listener is gone)', async () => {
    const live = await bed.server('127.0.1.66', (_req, res) => {
      setTimeout(() => res.end('live'), SLOWER_THAN_DEFAULT_RTT_MS);
    });
    const gone = { host: '127.0.1.67', port: await refusedPort('127.0.1.67') };
    bed.cp.setEndpoints(WEB, [gone, live]);
    bed.cp.setPolicy(WEB, noRetryPolicy());
    const proxy = await bed.start();
    for (let i = 0; i < 20; i++) {
      const res = await requestVia(proxy.port, WEB, `/c/${i}`);
      expect(res.status, res.headers['l5d-proxy-error']).toBe(200);
      expect(res.body).toBe('live');
    }
    expect(live.hits).toBe(20);
  });

  it('the plain path (no discovery, h2 hint given) resends a refused bodiless request, at most twice', async () => {
    // Odd streams refused: every GET succeeds on its first resend.
    const alternating = await h2Endpoint('127.0.0.1', (n) => n % 2 === 1);
    const always = await h2Endpoint('127.0.0.1', () => true);
    const hinted = new Set([alternating.port, always.port]);
    const plain = await startHarness({}, { protocolHintFor: (t) => (hinted.has(t.port) ? 'h2' : undefined) });
    bed.onClose(() => plain.close());
    for (let i = 0; i < 5; i++) {
      const res = await requestVia(plain.outboundPort, `127.0.0.1:${alternating.port}`, `/p/${i}`);
      expect(res.status, res.body).toBe(200);
    }
    expect(alternating.streams).toBe(10);
    const refused = await requestVia(plain.outboundPort, `127.0.0.1:${always.port}`, '/refused');
    expect(refused.status).toBe(502);
    expect(always.streams).toBe(3);
    // A request with a body is not sent again (its body went into the refused stream).
    const before = always.streams;
    const post = await requestVia(plain.outboundPort, `127.0.0.1:${always.port}`, '/post', {
      method: 'POST',
      body: 'payload',
    });
    expect(post.status).toBe(502);
    expect(always.streams - before).toBe(1);
  });
});
