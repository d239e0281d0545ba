// The plain HTTP/2 path (createHttp2Proxy: a client's stream forwarded to the target's HTTP/2
// session, no discovery) sends a bodiless request again when the upstream provably did not
// process it (RFC 9113 §8.7): RST_STREAM REFUSED_STREAM, or a GOAWAY whose last stream id is below
// the stream's. At most MAX_UNPROCESSED_RESENDS times, never a request with a body, never once a
// response head went to the client; the request is reported (onResponse) once whatever happened.
import { once } from 'node:events';
import {
  connect as h2connect,
  constants,
  createServer as createH2Server,
  type ClientHttp2Session,
  type Http2Server,
  type IncomingHttpHeaders,
  type ServerHttp2Session,
} from 'node:http2';
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { ProxyErrorLabel } from '@tsmesh/core/data-plane';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttp2Proxy, MAX_UNPROCESSED_RESENDS, type UpstreamTarget } from '../../src/http/index.js';

const HOST = '127.0.0.1';
/** Bound on every exchange of a test: a hang fails with its name instead of the test's timeout. */
const EXCHANGE_MS = 5000;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function listen(server: Server | Http2Server): Promise<number> {
  server.listen(0, HOST);
  await once(server, 'listening');
  return (server.address() as { port: number }).port;
}

/** How the upstream treats one stream (1-based count over the endpoint's life). */
type StreamPolicy = 'answer' | 'refuse' | 'answer-then-refuse';

interface Upstream {
  readonly target: UpstreamTarget;
  /** Streams the endpoint received (answered or refused). */
  streams: number;
}

/**
 * A node:http2 endpoint. 'refuse' resets the stream with REFUSED_STREAM before reading anything (a
 * server shutting down); 'answer-then-refuse' sends a response head and some body first, so the
 * stream was processed whatever its reset says.
 */
async function h2Upstream(policy: (n: number) => StreamPolicy): Promise<Upstream & { server: Http2Server }> {
  const server = createH2Server();
  const self = { target: { host: HOST, port: 0 }, streams: 0, server };
  const sessions = new Set<ServerHttp2Session>();
  server.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
  server.on('stream', (stream) => {
    const what = policy(++self.streams);
    stream.on('error', () => undefined);
    if (what === 'refuse') {
      stream.close(constants.NGHTTP2_REFUSED_STREAM);
      return;
    }
    if (what === 'answer-then-refuse') {
      // waitForTrailers: close() ends the writable side first, which would otherwise send
      // END_STREAM before the reset.
      stream.respond({ ':status': 200, 'content-type': 'text/plain' }, { waitForTrailers: true });
      stream.write('partial', () => stream.close(constants.NGHTTP2_REFUSED_STREAM));
      return;
    }
    stream.respond({ ':status': 200, 'content-type': 'text/plain' });
    stream.end(`stream ${self.streams}`);
  });
  self.target.port = await listen(server);
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // The proxy's upstream sessions stay open until the proxy closes: do not wait for them.
        for (const s of sessions) s.destroy();
      }),
  );
  return self;
}

/** An HTTP/2 frame: 9-byte header (length, type, flags, stream id 0) and payload. */
function frame(type: number, flags: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head.writeUInt8(type, 3);
  head.writeUInt8(flags, 4);
  return Buffer.concat([head, payload]);
}

const SETTINGS = 0x4;
const HEADERS = 0x1;
const GOAWAY = 0x7;
const ACK = 0x1;
const PREFACE_LENGTH = 24;

/**
 * Answers the first HEADERS of a connection with GOAWAY (last stream id 0, NO_ERROR) and ends it:
 * a peer going away that did not process the stream. Hand-written frames, because node:http2
 * never announces a last stream id below one it received.
 */
function goAwayOnFirstStream(socket: Socket, onStream: () => void): void {
  socket.on('error', () => undefined);
  socket.write(frame(SETTINGS, 0, Buffer.alloc(0)));
  let pending = Buffer.alloc(0);
  let prefaceRead = false;
  socket.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    if (!prefaceRead) {
      if (pending.length < PREFACE_LENGTH) return;
      pending = pending.subarray(PREFACE_LENGTH);
      prefaceRead = true;
    }
    while (pending.length >= 9) {
      const length = pending.readUIntBE(0, 3);
      if (pending.length < 9 + length) return;
      const type = pending.readUInt8(3);
      const flags = pending.readUInt8(4);
      pending = pending.subarray(9 + length);
      if (type === SETTINGS && (flags & ACK) === 0) socket.write(frame(SETTINGS, ACK, Buffer.alloc(0)));
      if (type === HEADERS) {
        onStream();
        socket.end(frame(GOAWAY, 0, Buffer.alloc(8)));
        return;
      }
    }
  });
}

interface Reported {
  readonly status: number | undefined;
  readonly error: string | undefined;
}

/** createHttp2Proxy sending every stream to `target`, fed by a TCP listener on port 0. */
async function startProxy(target: UpstreamTarget) {
  const reported: Reported[] = [];
  const proxy = createHttp2Proxy<object>({
    route: () => ({
      target,
      onResponse: (status, _grpc, error) => reported.push({ status, error }),
    }),
    connectTimeoutMs: 2000,
  });
  const listener = createNetServer((s) => proxy.accept(s, Buffer.alloc(0), {}));
  const port = await listen(listener);
  const client = h2connect(`http://${HOST}:${port}`);
  client.on('error', () => undefined);
  cleanups.push(async () => {
    client.destroy();
    await proxy.close();
    await new Promise<void>((resolve) => listener.close(() => resolve()));
  });
  return { client, reported };
}

interface Exchange {
  readonly status: number | undefined;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** The stream's reset code as the client saw it (0: ended cleanly). */
  readonly rstCode: number | undefined;
}

/** One request on `client`: a GET, or a POST whose `body` chunks are written one by one. */
async function exchange(
  client: ClientHttp2Session,
  path: string,
  body?: readonly string[],
): Promise<Exchange> {
  const req = client.request(
    { ':method': body === undefined ? 'GET' : 'POST', ':path': path },
    { endStream: body === undefined },
  );
  req.on('error', () => undefined);
  let status: number | undefined;
  let headers: IncomingHttpHeaders = {};
  let text = '';
  req.on('response', (h) => {
    headers = h;
    status = Number(h[':status']);
  });
  req.setEncoding('utf8');
  req.on('data', (chunk: string) => (text += chunk));
  if (body !== undefined) {
    for (const chunk of body) req.write(chunk);
    req.end();
  }
  const timer = setTimeout(() => req.close(constants.NGHTTP2_CANCEL), EXCHANGE_MS);
  await once(req, 'close');
  clearTimeout(timer);
  if (req.rstCode === constants.NGHTTP2_CANCEL && status === undefined)
    throw new Error(`${path}: no response through the proxy within ${EXCHANGE_MS} ms`);
  return { status, headers, body: text, rstCode: req.rstCode };
}

describe('plain HTTP/2 proxy: a request the upstream did not process is sent again', () => {
  it('every GET succeeds against an upstream refusing every other stream', async () => {
    const upstream = await h2Upstream((n) => (n % 2 === 1 ? 'refuse' : 'answer'));
    const { client, reported } = await startProxy(upstream.target);
    const N = 10;
    for (let i = 0; i < N; i++) {
      const res = await exchange(client, `/alternating/${i}`);
      expect(res.status, String(res.headers['l5d-proxy-error'])).toBe(200);
      // Sequential requests: request i is refused on stream 2i+1 and answered on 2i+2.
      expect(res.body).toBe(`stream ${2 * i + 2}`);
    }
    expect(upstream.streams).toBe(2 * N);
    expect(reported).toEqual(Array.from({ length: N }, () => ({ status: 200, error: undefined })));
  });

  it(`gives up after 1 + MAX_UNPROCESSED_RESENDS (${1 + MAX_UNPROCESSED_RESENDS}) streams against an always-refusing upstream`, async () => {
    const upstream = await h2Upstream(() => 'refuse');
    const { client, reported } = await startProxy(upstream.target);
    const res = await exchange(client, '/refused');
    expect(res.status).toBe(502);
    expect(res.headers['l5d-proxy-error']).toMatch(/REFUSED_STREAM/);
    expect(upstream.streams).toBe(1 + MAX_UNPROCESSED_RESENDS);
    expect(reported).toEqual([{ status: 502, error: ProxyErrorLabel.Io }]);
  });

  it('does not resend a POST whose body was streamed into the refused stream', async () => {
    const upstream = await h2Upstream((n) => (n === 1 ? 'refuse' : 'answer'));
    const { client, reported } = await startProxy(upstream.target);
    const res = await exchange(client, '/post', ['first part, ', 'second part']);
    expect(res.status).toBe(502);
    expect(upstream.streams).toBe(1);
    expect(reported).toEqual([{ status: 502, error: ProxyErrorLabel.Io }]);
    // The session is still usable: the next request is answered by the second stream.
    const next = await exchange(client, '/after-post');
    expect(next.status).toBe(200);
    expect(next.body).toBe('stream 2');
    expect(upstream.streams).toBe(2);
  });

  it('does not resend once a response head reached the client, whatever the reset says', async () => {
    const upstream = await h2Upstream(() => 'answer-then-refuse');
    const { client, reported } = await startProxy(upstream.target);
    const res = await exchange(client, '/half-answered');
    expect(res.status).toBe(200);
    // The truncated response is reset, not ended as if complete; REFUSED_STREAM becomes CANCEL.
    expect(res.rstCode).toBe(constants.NGHTTP2_CANCEL);
    expect(upstream.streams).toBe(1);
    expect(reported).toEqual([{ status: 200, error: ProxyErrorLabel.Io }]);
  });

  it('resends a stream above the last id of a GOAWAY on a new connection to the same port', async () => {
    // The first connection's first stream gets GOAWAY(last stream id 0); later connections are
    // served by a node:http2 server behind the same listener.
    const healthy = await h2Upstream(() => 'answer');
    let connections = 0;
    let goneAwayStreams = 0;
    const listener = createNetServer((socket) => {
      if (++connections === 1) goAwayOnFirstStream(socket, () => goneAwayStreams++);
      else healthy.server.emit('connection', socket);
    });
    const port = await listen(listener);
    cleanups.push(() => new Promise<void>((resolve) => listener.close(() => resolve())));
    const { client, reported } = await startProxy({ host: HOST, port });
    const res = await exchange(client, '/after-goaway');
    expect(res.status, String(res.headers['l5d-proxy-error'])).toBe(200);
    expect(res.body).toBe('stream 1');
    expect(goneAwayStreams).toBe(1);
    expect(connections).toBe(2);
    expect(healthy.streams).toBe(1);
    expect(reported).toEqual([{ status: 200, error: undefined }]);
  });
});
