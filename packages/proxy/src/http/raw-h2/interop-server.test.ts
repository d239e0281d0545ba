// Our HTTP/2 server (H2Connection, server role) against node:http2's client (nghttp2): bodies both
// ways with flow control, trailers, concurrency limits, resets both ways, graceful shutdown with
// streams in flight, and receive backpressure through stream.pause().
import http2, { type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders } from 'node:http2';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { H2Error } from './frames.js';
import {
  pattern,
  sha256,
  startServer,
  waitUntil,
  withTimeout,
  type TestServer,
} from './h2-peers.test-support.js';
import { ResetOrigin } from './stream.js';

interface NodeResult {
  status: number | undefined;
  headers: IncomingHttpHeaders | undefined;
  body: Buffer;
  trailers: IncomingHttpHeaders | undefined;
  rstCode: number;
  error: Error | undefined;
}

function collect(req: ClientHttp2Stream): Promise<NodeResult> {
  return new Promise((resolve) => {
    const r: NodeResult = {
      status: undefined,
      headers: undefined,
      body: Buffer.alloc(0),
      trailers: undefined,
      rstCode: 0,
      error: undefined,
    };
    const chunks: Buffer[] = [];
    req.on('response', (h) => {
      r.headers = h;
      r.status = Number(h[':status']);
    });
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('trailers', (t) => (r.trailers = t));
    req.on('error', (e) => (r.error = e));
    req.on('close', () => {
      r.body = Buffer.concat(chunks);
      r.rstCode = req.rstCode ?? 0;
      resolve(r);
    });
  });
}

function nodeFetch(
  session: ClientHttp2Session,
  path: string,
  opts: {
    method?: string;
    body?: Buffer;
    headers?: Record<string, string>;
    trailers?: Record<string, string>;
  } = {},
): { req: ClientHttp2Stream; done: Promise<NodeResult> } {
  const hasBody = opts.body !== undefined || opts.trailers !== undefined;
  const req = session.request(
    { ':method': opts.method ?? (hasBody ? 'POST' : 'GET'), ':path': path, ...opts.headers },
    { endStream: !hasBody, waitForTrailers: opts.trailers !== undefined },
  );
  if (opts.trailers !== undefined) req.on('wantTrailers', () => req.sendTrailers(opts.trailers!));
  const done = collect(req);
  if (hasBody) req.end(opts.body);
  return { req, done };
}

let server: TestServer;
let session: ClientHttp2Session;

function connectNode(): Promise<ClientHttp2Session> {
  const s = http2.connect(`http://127.0.0.1:${server.port}`);
  s.on('error', () => {});
  return new Promise((resolve, reject) => {
    s.once('remoteSettings', () => resolve(s));
    s.once('error', reject);
  });
}

async function closeSession(s: ClientHttp2Session | undefined): Promise<void> {
  if (s === undefined || s.destroyed) return;
  await new Promise<void>((r) => {
    s.once('close', () => r());
    s.destroy();
  });
}

describe('our server with the node:http2 client', () => {
  beforeEach(async () => {
    server = await startServer({ maxConcurrentStreams: 50 });
    session = await withTimeout(connectNode(), 'connect');
  });
  afterEach(async () => {
    await closeSession(session);
    await server.close();
  });

  it('answers a GET', async () => {
    const r = await withTimeout(nodeFetch(session, '/').done, 'GET');
    expect(r.status).toBe(200);
    expect(r.headers!['content-type']).toBe('text/plain');
    expect(r.body.toString()).toBe('hello');
    expect(r.rstCode).toBe(0);
    expect(server.owners[0]!.protocolErrors).toEqual([]);
  });

  it('echoes a small POST body', async () => {
    const r = await withTimeout(nodeFetch(session, '/echo', { body: Buffer.from('ping') }).done, 'POST');
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe('ping');
  });

  it('echoes 5 MB both ways through the flow-control windows', async () => {
    const body = pattern(5 * 1024 * 1024, 3);
    const r = await withTimeout(nodeFetch(session, '/echo', { body }).done, '5 MB echo', 15_000);
    expect(r.status).toBe(200);
    expect(r.body.length).toBe(body.length);
    expect(sha256(r.body)).toBe(sha256(body));
    // The request was far above both of our receive windows (256 KiB stream, 4 MiB connection).
    const rec = server.streams[0]!;
    expect(rec.collector.received).toBe(body.length);
  });

  it('hashes a 5 MB upload and sends a 5 MB download', async () => {
    const body = pattern(5 * 1024 * 1024, 9);
    const up = await withTimeout(nodeFetch(session, '/sha', { body }).done, 'upload', 15_000);
    expect(JSON.parse(up.body.toString())).toEqual({ bytes: body.length, sha256: sha256(body) });
    const down = await withTimeout(
      nodeFetch(session, '/big', { headers: { 'x-size': String(5 << 20) } }).done,
      'download',
      15_000,
    );
    expect(down.body.length).toBe(5 << 20);
    expect(sha256(down.body)).toBe(sha256(pattern(5 << 20, 7)));
  });

  it('carries gRPC-like trailers both ways', async () => {
    const msg = Buffer.from([0, 0, 0, 0, 3, 1, 2, 3]);
    const r = await withTimeout(
      nodeFetch(session, '/grpc', {
        body: msg,
        headers: { 'content-type': 'application/grpc', te: 'trailers' },
        trailers: { 'x-req-trailer': 'yes' },
      }).done,
      'grpc',
    );
    expect(r.status).toBe(200);
    expect(r.headers!['content-type']).toBe('application/grpc');
    expect(r.body).toEqual(msg);
    expect(r.trailers).toMatchObject({ 'grpc-status': '0', 'grpc-message': 'ok' });
    const rec = server.streams[0]!;
    expect(rec.collector.trailers).toEqual(['x-req-trailer', 'yes']);
  });

  it('echoes request trailers as response trailers', async () => {
    const r = await withTimeout(
      nodeFetch(session, '/echo', { body: Buffer.from('abc'), trailers: { 'x-t': '1' } }).done,
      'echo trailers',
    );
    expect(r.body.toString()).toBe('abc');
    expect(r.trailers).toMatchObject({ 'x-t': '1' });
  });

  it('sends and receives header blocks larger than a frame; a client table size of 0 is honoured', async () => {
    const big = 'h'.repeat(30_000);
    const s2 = http2.connect(`http://127.0.0.1:${server.port}`, { settings: { headerTableSize: 0 } });
    s2.on('error', () => {});
    try {
      server.hook = (_c, stream, _f, _e, rec) => {
        if (rec.path !== '/bighead') return false;
        stream.respond([':status', '200', 'x-big', big, 'x-repeat', 'same'], true);
        return true;
      };
      for (let i = 0; i < 3; i++) {
        const r = await withTimeout(
          nodeFetch(s2, '/bighead', { headers: { 'x-req-big': big, 'x-repeat': 'same' } }).done,
          'big heads',
        );
        expect(r.status).toBe(200);
        expect(r.headers!['x-big']).toBe(big);
        expect(r.error).toBeUndefined();
      }
      const rec = server.streams.at(-1)!;
      expect(rec.fields).toContain(big);
      expect(server.owners.at(-1)!.protocolErrors).toEqual([]);
    } finally {
      server.hook = undefined;
      await closeSession(s2);
    }
  });

  it('sends a trailers-only response', async () => {
    const r = await withTimeout(nodeFetch(session, '/trailers-only').done, 'trailers-only');
    expect(r.status).toBe(200);
    expect(r.headers!['grpc-status']).toBe('5');
    expect(r.body.length).toBe(0);
    expect(r.rstCode).toBe(0);
  });

  it('serves 500 parallel streams on one connection within its limit of 50', async () => {
    const all = Array.from(
      { length: 500 },
      (_, i) =>
        nodeFetch(session, i % 2 === 0 ? '/wait' : '/echo', {
          headers: { 'x-delay': '5' },
          body: i % 2 === 0 ? undefined : Buffer.from(`n${i}`),
        }).done,
    );
    const results = await withTimeout(Promise.all(all), '500 streams', 15_000);
    results.forEach((r, i) => {
      expect(r.status).toBe(200);
      expect(r.rstCode).toBe(0);
      expect(r.body.toString()).toBe(i % 2 === 0 ? 'waited' : `n${i}`);
    });
    expect(server.streams.length).toBe(500);
    expect(server.maxActive).toBeLessThanOrEqual(50);
    expect(server.maxActive).toBeGreaterThan(1);
    expect(server.owners[0]!.protocolErrors).toEqual([]);
  });

  it("tells the handler of the client's RST_STREAM (ResetOrigin.Peer)", async () => {
    const { req } = nodeFetch(session, '/hold');
    await waitUntil(() => server.streams.length === 1, 'the stream at the server');
    req.close(http2.constants.NGHTTP2_CANCEL);
    const r = await withTimeout(server.streams[0]!.collector.done, 'server reset');
    expect(r.reset).toEqual({ code: H2Error.CANCEL, origin: ResetOrigin.Peer });
    expect(server.streams[0]!.stream.closed).toBe(true);
    // The connection keeps serving.
    expect((await withTimeout(nodeFetch(session, '/').done, 'after reset')).body.toString()).toBe('hello');
  });

  it("resets a stream: the client sees the server's code", async () => {
    const r = await withTimeout(
      nodeFetch(session, '/reset', { headers: { 'x-code': String(H2Error.ENHANCE_YOUR_CALM) } }).done,
      'reset',
    );
    expect(r.rstCode).toBe(H2Error.ENHANCE_YOUR_CALM);
    expect(r.status).toBeUndefined();
    expect((await withTimeout(nodeFetch(session, '/').done, 'after reset')).status).toBe(200);
  });

  it('shuts down gracefully: streams in flight complete, the client sees GOAWAY, then the socket closes', async () => {
    const slow = [1, 2, 3].map(() => nodeFetch(session, '/wait', { headers: { 'x-delay': '200' } }).done);
    const upload = nodeFetch(session, '/sha', { body: pattern(1 << 20) }).done;
    await waitUntil(() => server.streams.length === 4, 'streams at the server');
    const goaway = new Promise<{ code: number; last: number }>((r) =>
      session.once('goaway', (code, last) => r({ code, last })),
    );
    const sessionClosed = new Promise<void>((r) => session.once('close', () => r()));
    server.connections[0]!.shutdown();
    expect(server.connections[0]!.available).toBe(false);
    const g = await withTimeout(goaway, 'GOAWAY');
    expect(g.code).toBe(0);
    const results = await withTimeout(Promise.all([...slow, upload]), 'in-flight streams');
    for (const r of results.slice(0, 3)) expect(r.body.toString()).toBe('waited');
    expect(JSON.parse(results[3]!.body.toString()).bytes).toBe(1 << 20);
    await withTimeout(server.owners[0]!.closed, 'server connection closed');
    expect(server.owners[0]!.closedWith!.error).toBeUndefined();
    await withTimeout(sessionClosed, 'client session closed');
    expect(server.owners[0]!.protocolErrors).toEqual([]);
  });

  it('applies receive backpressure while a stream is paused, then delivers every byte', async () => {
    server.hook = (_c, stream, _f, _e, record) => {
      if (record.path !== '/paused') return false;
      stream.pause();
      record.collector.onData = (s, _d, end) => {
        if (end) {
          s.respond([':status', '200'], false);
          s.end(Buffer.from(String(record.collector.received)));
        }
      };
      return true;
    };
    const body = pattern(3 * 1024 * 1024, 5);
    const up = session.request({ ':method': 'POST', ':path': '/paused' });
    const upDone = collect(up);
    up.end(body);
    await waitUntil(() => server.streams.length === 1, 'the paused stream at the server');
    const rec = server.streams[0]!;
    await waitUntil(() => rec.collector.received > 0, 'first bytes');
    await new Promise((r) => setTimeout(r, 300));
    // The client may send one stream window (256 KiB, our SETTINGS) and no more.
    const stalled = rec.collector.received;
    expect(stalled).toBeLessThanOrEqual(256 * 1024);
    const buffered = up.writableLength;
    expect(buffered).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 200));
    expect(rec.collector.received).toBe(stalled);
    expect(up.writableLength).toBe(buffered);
    rec.stream.resume();
    const r = await withTimeout(upDone, 'paused upload', 15_000);
    expect(r.body.toString()).toBe(String(body.length));
    expect(sha256(Buffer.concat(rec.collector.chunks))).toBe(sha256(body));
    // Other streams were not held up by the paused one.
    expect((await withTimeout(nodeFetch(session, '/').done, 'GET')).status).toBe(200);
  });
});
