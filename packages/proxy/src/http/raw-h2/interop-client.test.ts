// Our HTTP/2 client (H2Connection, client role) against node:http2's server (nghttp2): bodies both
// ways, flow control against a small peer window and its changes, trailers, 1xx heads, the peer's
// concurrency limit, GOAWAY and RST_STREAM from the server.
import http2, {
  type Http2Server,
  type ServerHttp2Stream,
  type IncomingHttpHeaders,
  type Settings,
} from 'node:http2';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { H2Error } from './frames.js';
import {
  connectPlain,
  ourClient,
  pattern,
  requestHead,
  sha256,
  waitUntil,
  withTimeout,
  type TestClient,
} from './h2-peers.test-support.js';
import { ResetOrigin } from './stream.js';

type NodeHandler = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => void;

interface NodeServer {
  server: Http2Server;
  port: number;
  sessions: Set<http2.ServerHttp2Session>;
  active: { now: number; max: number };
}

/** node:http2 server: /echo echoes (with trailers), /sha hashes, /big sends x-size bytes, else `handler`. */
async function startNode(settings: Settings = {}, handler?: NodeHandler): Promise<NodeServer> {
  const server = http2.createServer({ settings });
  const sessions = new Set<http2.ServerHttp2Session>();
  const active = { now: 0, max: 0 };
  server.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
    s.on('error', () => {});
  });
  server.on('stream', (stream, headers) => {
    stream.on('error', () => {});
    active.now++;
    active.max = Math.max(active.max, active.now);
    stream.on('close', () => active.now--);
    if (handler !== undefined) {
      handler(stream, headers);
      return;
    }
    const path = headers[':path'];
    const chunks: Buffer[] = [];
    if (path === '/echo') {
      stream.respond({ ':status': 200 }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'x-echo-trailer': 'done', 'grpc-status': '0' }));
      stream.pipe(stream);
    } else if (path === '/sha') {
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const body = Buffer.concat(chunks);
        stream.respond({ ':status': 200 });
        stream.end(JSON.stringify({ bytes: body.length, sha256: sha256(body) }));
      });
    } else if (path === '/big') {
      stream.respond({ ':status': 200 });
      stream.end(pattern(Number(headers['x-size']), 7));
    } else {
      stream.respond({ ':status': 200, 'content-type': 'text/plain' });
      stream.end('hello');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port, sessions, active };
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(
  settings: Settings = {},
  handler?: NodeHandler,
  local?: Parameters<typeof ourClient>[1],
) {
  const node = await startNode(settings, handler);
  cleanups.push(async () => {
    for (const s of node.sessions) s.destroy();
    await new Promise<void>((r) => node.server.close(() => r()));
  });
  const client: TestClient = ourClient(connectPlain(node.port), local);
  cleanups.push(() => client.close());
  return { node, client };
}

describe('our client with a node:http2 server', () => {
  it('GETs', async () => {
    const { client } = await setup();
    const r = await withTimeout(client.fetch(requestHead('/')).done, 'GET');
    expect(r.head!.slice(0, 2)).toEqual([':status', '200']);
    expect(r.head).toContain('content-type');
    expect(r.body.toString()).toBe('hello');
    expect(r.ended).toBe(true);
    expect(r.reset).toBeUndefined();
    expect(client.owner.protocolErrors).toEqual([]);
  });

  it('sends a body and receives the echo with trailers', async () => {
    const { client } = await setup();
    const r = await withTimeout(
      client.fetch(requestHead('/echo', 'POST'), [Buffer.from('a'), Buffer.from('bc')]).done,
      'echo',
    );
    expect(r.body.toString()).toBe('abc');
    expect(r.trailers).toEqual(['x-echo-trailer', 'done', 'grpc-status', '0']);
  });

  it('sends request trailers', async () => {
    let got: IncomingHttpHeaders | undefined;
    const { client } = await setup({}, (stream) => {
      stream.resume();
      stream.on('trailers', (t) => (got = t));
      stream.on('end', () => {
        stream.respond({ ':status': 200 });
        stream.end();
      });
    });
    const r = await withTimeout(
      client.fetch(requestHead('/t', 'POST', ['te', 'trailers']), Buffer.from('x'), [
        'grpc-status',
        '0',
        'x-a',
        'b',
      ]).done,
      'trailers',
    );
    expect(r.head![1]).toBe('200');
    expect(got).toMatchObject({ 'grpc-status': '0', 'x-a': 'b' });
  });

  it('moves 5 MB each way', async () => {
    const { client } = await setup();
    const body = pattern(5 << 20, 11);
    const up = await withTimeout(client.fetch(requestHead('/sha', 'POST'), body).done, 'upload', 15_000);
    expect(JSON.parse(up.body.toString())).toEqual({ bytes: body.length, sha256: sha256(body) });
    const down = await withTimeout(
      client.fetch(requestHead('/big', 'GET', ['x-size', String(5 << 20)])).done,
      'download',
      15_000,
    );
    expect(sha256(down.body)).toBe(sha256(pattern(5 << 20, 7)));
    const echo = await withTimeout(client.fetch(requestHead('/echo', 'POST'), body).done, 'echo', 15_000);
    expect(sha256(echo.body)).toBe(sha256(body));
  });

  it('keeps within a small peer window (initialWindowSize 1024) and follows changes of it', async () => {
    const { node, client } = await setup({ initialWindowSize: 1024 });
    const body = pattern(300_000, 2);
    const r = await withTimeout(client.fetch(requestHead('/sha', 'POST'), body).done, 'small window', 15_000);
    expect(JSON.parse(r.body.toString())).toEqual({ bytes: body.length, sha256: sha256(body) });
    // The server lowers, then raises, SETTINGS_INITIAL_WINDOW_SIZE mid-connection.
    const [session] = node.sessions;
    session!.settings({ initialWindowSize: 100 });
    const r2 = await withTimeout(client.fetch(requestHead('/sha', 'POST'), body).done, 'window 100', 15_000);
    expect(JSON.parse(r2.body.toString()).sha256).toBe(sha256(body));
    session!.settings({ initialWindowSize: 1 << 20 });
    const r3 = await withTimeout(
      client.fetch(requestHead('/echo', 'POST'), pattern(2 << 20, 4)).done,
      'window 1 MiB',
      15_000,
    );
    expect(sha256(r3.body)).toBe(sha256(pattern(2 << 20, 4)));
    expect(client.owner.protocolErrors).toEqual([]);
  });

  it('20 concurrent uploads share a small window (initialWindowSize 1024) without loss', async () => {
    const { client } = await setup({ initialWindowSize: 1024 });
    const bodies = Array.from({ length: 20 }, (_, i) => pattern(100_000 + i * 997, i + 1));
    const results = await withTimeout(
      Promise.all(
        bodies.map(
          (b) => client.fetch(requestHead('/sha', 'POST'), [b.subarray(0, 5000), b.subarray(5000)]).done,
        ),
      ),
      '20 uploads',
      15_000,
    );
    results.forEach((r, i) =>
      expect(JSON.parse(r.body.toString())).toEqual({ bytes: bodies[i]!.length, sha256: sha256(bodies[i]!) }),
    );
  });

  it('sends and receives header blocks larger than a frame, with the peer table size 0', async () => {
    const big = 'b'.repeat(30_000);
    let got: IncomingHttpHeaders | undefined;
    const { client } = await setup({ headerTableSize: 0, maxHeaderListSize: 1 << 20 }, (stream, headers) => {
      got = headers;
      stream.respond({ ':status': 200, 'x-big-response': big, 'x-n': '1' });
      stream.end();
    });
    for (let i = 0; i < 3; i++) {
      const r = await withTimeout(
        client.fetch(requestHead('/', 'GET', ['x-big', big, 'x-same', 'same-value'])).done,
        'big headers',
      );
      expect(r.head!.slice(0, 2)).toEqual([':status', '200']);
      expect(r.head).toContain(big);
      expect(got!['x-big']).toBe(big);
      expect(got!['x-same']).toBe('same-value');
    }
    expect(client.owner.protocolErrors).toEqual([]);
  });

  it('ignores 1xx heads before the final one', async () => {
    const { client } = await setup({}, (stream) => {
      stream.additionalHeaders({ ':status': 103, link: '</a.css>; rel=preload' });
      stream.additionalHeaders({ ':status': 100 });
      stream.respond({ ':status': 201 });
      stream.end('made');
    });
    const r = await withTimeout(client.fetch(requestHead('/')).done, '1xx');
    expect(r.head!.slice(0, 2)).toEqual([':status', '201']);
    expect(r.body.toString()).toBe('made');
  });

  it('receives a trailers-only response', async () => {
    const { client } = await setup({}, (stream) => {
      stream.respond(
        { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '7' },
        { endStream: true },
      );
    });
    const r = await withTimeout(client.fetch(requestHead('/')).done, 'trailers-only');
    expect(r.head).toContain('grpc-status');
    expect(r.ended).toBe(true);
    expect(r.body.length).toBe(0);
  });

  it('queues requests above the peer limit (maxConcurrentStreams 5): 100 complete', async () => {
    const { node, client } = await setup({ maxConcurrentStreams: 5 }, (stream) => {
      setTimeout(() => {
        if (stream.destroyed) return;
        stream.respond({ ':status': 200 });
        stream.end(String(stream.id));
      }, 2);
    });
    // The limit is known once the server's SETTINGS arrived; one exchange makes sure of it.
    await withTimeout(client.fetch(requestHead('/')).done, 'first');
    const all = Array.from({ length: 100 }, () => client.fetch(requestHead('/')));
    expect(client.connection.activeStreams).toBe(100);
    const results = await withTimeout(Promise.all(all.map((x) => x.done)), '100 requests', 15_000);
    for (const r of results) {
      expect(r.reset).toBeUndefined();
      expect(r.head![1]).toBe('200');
    }
    // Opened in order, ids increasing.
    const ids = all.map((x) => x.stream.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(node.active.max).toBeLessThanOrEqual(5);
    expect(client.connection.activeStreams).toBe(0);
  });

  it('queued requests keep their bodies and trailers until they open; a queued reset never opens', async () => {
    const seen: string[] = [];
    const { client } = await setup({ maxConcurrentStreams: 2 }, (stream, headers) => {
      const chunks: Buffer[] = [];
      let trailers = '';
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('trailers', (t) => (trailers = String(t['x-i'])));
      stream.on('end', () => {
        seen.push(String(headers[':path']));
        setTimeout(() => {
          if (stream.destroyed) return;
          stream.respond({ ':status': 200 });
          stream.end(`${Buffer.concat(chunks).toString()}|${trailers}`);
        }, 5);
      });
    });
    await withTimeout(client.fetch(requestHead('/warm')).done, 'first');
    const xs = Array.from({ length: 12 }, (_, i) =>
      client.fetch(
        requestHead(`/q${i}`, 'POST'),
        [Buffer.from(`body${i}-`), Buffer.from('end')],
        ['x-i', String(i)],
      ),
    );
    const cancelled = xs[7]!;
    expect(cancelled.stream.id).toBe(0);
    cancelled.stream.reset(H2Error.CANCEL);
    const rest = xs.filter((x) => x !== cancelled);
    const results = await withTimeout(Promise.all(rest.map((x) => x.done)), 'queued uploads');
    results.forEach((r) => expect(r.reset).toBeUndefined());
    rest.forEach((x, k) => {
      const i = xs.indexOf(x);
      expect(results[k]!.body.toString()).toBe(`body${i}-end|${i}`);
    });
    expect(seen).not.toContain('/q7');
    expect(cancelled.stream.id).toBe(0);
    expect(cancelled.collector.reset).toBeUndefined();
    expect(client.connection.activeStreams).toBe(0);
  });

  it('opens 100 requests at once before the peer SETTINGS arrive: each completes or is refused as retryable', async () => {
    const { client } = await setup({ maxConcurrentStreams: 5 }, (stream) => {
      setTimeout(() => {
        if (stream.destroyed) return;
        stream.respond({ ':status': 200 });
        stream.end();
      }, 2);
    });
    const all = Array.from({ length: 100 }, () => client.fetch(requestHead('/')).done);
    const results = await withTimeout(Promise.all(all), '100 requests', 15_000);
    for (const r of results) {
      if (r.reset !== undefined)
        expect(r.reset).toEqual({ code: H2Error.REFUSED_STREAM, origin: ResetOrigin.Refused });
      else expect(r.head![1]).toBe('200');
    }
    expect(results.filter((r) => r.reset === undefined).length).toBeGreaterThanOrEqual(5);
  });

  it('on GOAWAY: streams above the last id are refused (ResetOrigin.Refused), older ones finish, no new streams', async () => {
    const held: ServerHttp2Stream[] = [];
    const { node, client } = await setup({ maxConcurrentStreams: 100 }, (stream) => {
      held.push(stream);
    });
    await withTimeout(new Promise<void>((r) => client.socket.once('connect', () => r())), 'connect');
    const first = client.fetch(requestHead('/'));
    const second = client.fetch(requestHead('/'));
    await waitUntil(() => held.length === 2, 'two streams at the server');
    const third = client.fetch(requestHead('/'));
    const fourth = client.fetch(requestHead('/'));
    // GOAWAY naming stream 3 (the second) as the last one processed; 5 and 7 are refused.
    const [session] = node.sessions;
    session!.goaway(http2.constants.NGHTTP2_NO_ERROR, 3);
    const r3 = await withTimeout(third.done, 'third refused');
    const r4 = await withTimeout(fourth.done, 'fourth refused');
    expect(r3.reset).toEqual({ code: H2Error.REFUSED_STREAM, origin: ResetOrigin.Refused });
    expect(r4.reset).toEqual({ code: H2Error.REFUSED_STREAM, origin: ResetOrigin.Refused });
    expect(client.owner.goaways).toEqual([{ code: 0, lastStreamId: 3 }]);
    expect(client.connection.available).toBe(false);
    expect(() => client.connection.request(requestHead('/'), true, first.collector)).toThrow(
      /no new streams/,
    );
    for (const s of held) {
      s.respond({ ':status': 200 });
      s.end('late');
    }
    const [r1, r2] = await withTimeout(Promise.all([first.done, second.done]), 'old streams');
    expect(r1.body.toString()).toBe('late');
    expect(r2.body.toString()).toBe('late');
    // With nothing left, our client closes the connection.
    const err = await withTimeout(client.owner.closed, 'client closed');
    expect(err).toBeUndefined();
  });

  it('on session.close(): the open stream finishes, then the connection ends cleanly', async () => {
    let held: ServerHttp2Stream | undefined;
    const { node, client } = await setup({}, (stream) => (held = stream));
    const first = client.fetch(requestHead('/'));
    await waitUntil(() => held !== undefined, 'stream at the server');
    const [session] = node.sessions;
    session!.close();
    await waitUntil(() => client.owner.goaways.length > 0, 'GOAWAY');
    expect(client.connection.available).toBe(false);
    held!.respond({ ':status': 200 });
    held!.end('bye');
    const r = await withTimeout(first.done, 'finish');
    expect(r.body.toString()).toBe('bye');
    expect(await withTimeout(client.owner.closed, 'closed')).toBeUndefined();
  });

  it("hears the server's RST_STREAM with its code (ResetOrigin.Peer)", async () => {
    const { client } = await setup({}, (stream) => stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR));
    const r = await withTimeout(client.fetch(requestHead('/')).done, 'reset');
    expect(r.reset).toEqual({ code: H2Error.INTERNAL_ERROR, origin: ResetOrigin.Peer });
    // The connection is unharmed: a stream with a body, reset the same way.
    const again = await withTimeout(
      client.fetch(requestHead('/', 'POST'), Buffer.from('still here')).done,
      'after reset',
    );
    expect(again.reset).toEqual({ code: H2Error.INTERNAL_ERROR, origin: ResetOrigin.Peer });
    expect(client.connection.available).toBe(true);
  });

  it('resets a stream it no longer wants; the server sees the code', async () => {
    let code: number | undefined;
    const { client } = await setup({}, (stream) => {
      stream.on('close', () => (code = stream.rstCode));
    });
    const x = client.fetch(requestHead('/', 'POST'), Buffer.from('partial'));
    await waitUntil(() => x.stream.id !== 0, 'opened');
    await new Promise((r) => setTimeout(r, 20));
    x.stream.reset(H2Error.CANCEL);
    await waitUntil(() => code !== undefined, 'server saw the reset');
    expect(code).toBe(H2Error.CANCEL);
    expect(x.stream.closed).toBe(true);
    expect(client.connection.activeStreams).toBe(0);
  });

  it('stops reading a paused response; resuming delivers it all', async () => {
    const { client } = await setup({}, (stream) => {
      stream.respond({ ':status': 200 });
      stream.end(pattern(2 << 20, 8));
    });
    const x = client.fetch(requestHead('/'));
    let pausedOnce = false;
    x.collector.onData = (s) => {
      if (!pausedOnce) {
        pausedOnce = true;
        s.pause();
      }
    };
    await waitUntil(() => x.collector.received > 0, 'first bytes');
    await new Promise((r) => setTimeout(r, 200));
    // One stream window (256 KiB by default) at most while paused.
    expect(x.collector.received).toBeLessThanOrEqual(256 * 1024);
    const stalled = x.collector.received;
    await new Promise((r) => setTimeout(r, 100));
    expect(x.collector.received).toBe(stalled);
    x.stream.resume();
    const r = await withTimeout(x.done, 'resumed', 15_000);
    expect(sha256(r.body)).toBe(sha256(pattern(2 << 20, 8)));
  });
});
