// The mesh outbound's HTTP/1 attempts to one endpoint (outbound/endpoint), against real node:http
// servers and raw-socket servers on 127.0.0.1: what the logical level relies on (attempt.ts) holds
// for both engines — the raw-socket engine's connections (default) and undici (`http1Engine:
// 'node'`) — and the raw engine's own keep-alive behaviour (connection reuse, resending a request
// a reused connection lost) holds for it.
import { once } from 'node:events';
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { connect as h2connect, createServer as createH2Server } from 'node:http2';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { PassThrough, Readable, Writable } from 'node:stream';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Endpoint } from '../../src/discovery/index.js';
import { ProxyError, ProxyErrorCode } from '../../src/errors/index.js';
import { AbortHooks } from '../../src/outbound/abort-hook.js';
import {
  createEndpointClient,
  type AttemptRequest,
  type AttemptResponse,
  type EndpointClient,
} from '../../src/outbound/endpoint/index.js';
import { http1Exchange, http2Exchange } from '../../src/outbound/logical/index.js';
import { createMeshTls, createStaticCertificateSource, type MeshTls } from '../../src/tls/index.js';
import { createTestCa } from '../../src/tls/test-certs.test-support.js';

const WEB_ID = 'web.emojivoto.serviceaccount.identity.linkerd.cluster.local';
const CLIENT_ID = 'vote-bot.emojivoto.serviceaccount.identity.linkerd.cluster.local';
const IMPOSTOR_ID = 'emoji.emojivoto.serviceaccount.identity.linkerd.cluster.local';

const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

const ca = createTestCa();
afterAll(() => ca.dispose());

interface NodeEndpoint {
  readonly port: number;
  readonly server: Server;
  /** Connections the server accepted. */
  readonly sockets: Socket[];
}

async function nodeServer(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  tls?: MeshTls,
): Promise<NodeEndpoint> {
  const server = createServer(handler);
  server.keepAliveTimeout = 60_000;
  const sockets: Socket[] = [];
  server.on('connection', (s: Socket) => sockets.push(s));
  // With mesh TLS the connections are accepted by a TCP server and handed over once terminated.
  const listener: Server | NetServer = tls
    ? createNetServer((s) => {
        s.on('error', () => undefined);
        tls.accept(s).then(
          ({ socket }) => server.emit('connection', socket),
          () => s.destroy(),
        );
      })
    : server;
  listener.listen(0, '127.0.0.1');
  await once(listener, 'listening');
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        for (const s of sockets) s.destroy();
        listener.close(() => resolve());
      }),
  );
  return { port: (listener.address() as { port: number }).port, server, sockets };
}

/** A TCP server whose connections `onConnection` scripts (bytes as the test wants them). */
async function rawServer(onConnection: (socket: Socket, n: number) => void): Promise<{ port: number }> {
  let n = 0;
  const sockets = new Set<Socket>();
  const server = createNetServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    onConnection(s, ++n);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  );
  return { port: (server.address() as { port: number }).port };
}

function endpointAt(port: number, identity?: string): Endpoint {
  return {
    key: `127.0.0.1:${port}`,
    addr: { host: '127.0.0.1', port },
    weight: 1,
    identity,
    serverName: undefined,
    protocolHint: 'unknown',
    opaqueTransportPort: undefined,
    authorityOverride: undefined,
    labels: {},
  };
}

const request = (init: Partial<AttemptRequest> = {}): AttemptRequest => ({
  method: 'GET',
  path: '/',
  authority: 'web.emojivoto.svc.cluster.local:80',
  headers: {},
  body: null,
  http2: false,
  ...init,
});

/** A writable that collects what it is given; `delayMs` per chunk makes it slow. */
class Collector extends Writable {
  readonly chunks: Buffer[] = [];
  /** The most bytes it held unwritten at once (what the relay wrote past its backpressure). */
  maxBuffered = 0;

  constructor(
    private readonly delayMs = 0,
    highWaterMark = 16 * 1024,
  ) {
    super({ highWaterMark });
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error) => void): void {
    this.maxBuffered = Math.max(this.maxBuffered, this.writableLength);
    this.chunks.push(chunk);
    if (this.delayMs > 0) setTimeout(cb, this.delayMs);
    else cb();
  }

  text(): string {
    return Buffer.concat(this.chunks).toString();
  }
}

/** Relays `res` into `to`; resolves with relay's `failed` once done. */
const relay = (res: AttemptResponse, to: Writable): Promise<boolean> =>
  new Promise((resolve) => res.relay(to, resolve));

const until = async (what: string, cond: () => boolean, ms = 3000): Promise<void> => {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms}ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

const rejection = async (p: Promise<unknown>): Promise<unknown> => {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
};

/** A loopback port nothing listens on (bound, then closed). */
async function refusedPort(): Promise<number> {
  const s = createNetServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address() as { port: number };
  await new Promise((r) => s.close(r));
  return port;
}

describe.each(['raw', 'node'] as const)('outbound endpoint HTTP/1 attempts, %s engine', (engine) => {
  const client = (port: number, meshTls?: MeshTls, identity?: string): EndpointClient => {
    const c = createEndpointClient({
      endpoint: endpointAt(port, identity),
      meshTls,
      connectTimeoutMs: 1000,
      http1Engine: engine,
    });
    closers.push(() => c.close());
    return c;
  };

  it('relays a content-length response: status, lower-case headers without hop-by-hop ones, body', async () => {
    const ep = await nodeServer((req, res) => {
      res.writeHead(201, {
        'X-Echo-Host': req.headers.host ?? '',
        'X-Echo-Custom': String(req.headers['x-custom']),
        'Keep-Alive': 'timeout=60',
        Connection: 'keep-alive, x-hop',
        'X-Hop': 'dropped',
        'Content-Length': '5',
      });
      res.end('hello');
    });
    const res = await client(ep.port).send(
      request({ path: '/greet?x=1', headers: { 'x-custom': ['a', 'b'], host: 'ignored' } }),
      new AbortHooks(),
    );
    expect(res.status).toBe(201);
    expect(res.endStream).toBe(false);
    expect(res.headers).toMatchObject({
      'x-echo-host': 'web.emojivoto.svc.cluster.local:80',
      'x-echo-custom': 'a, b',
      'content-length': '5',
    });
    expect(res.headers['keep-alive']).toBeUndefined();
    expect(res.headers.connection).toBeUndefined();
    expect(res.headers['x-hop']).toBeUndefined();
    const out = new Collector();
    expect(await relay(res, out)).toBe(false);
    expect(out.text()).toBe('hello');
    expect(res.trailers()).toBeUndefined();
  });

  it('relays a HEAD response without a body, its content-length kept', async () => {
    const ep = await nodeServer((_req, res) => {
      res.setHeader('content-length', '5');
      res.end();
    });
    const c = client(ep.port);
    for (let i = 0; i < 2; i++) {
      const res = await c.send(request({ method: 'HEAD' }), new AbortHooks());
      expect(res.headers['content-length']).toBe('5');
      const out = new Collector();
      expect(await relay(res, out)).toBe(false);
      expect(out.chunks.length).toBe(0);
    }
    // The raw engine keeps the connection (undici closes it after a HEAD, whatever the answer).
    expect(ep.sockets.length).toBe(engine === 'raw' ? 1 : 2);
  });

  it('relays a chunked response decoded, with its trailers, after skipping a 1xx head', async () => {
    const ep = await rawServer((s) => {
      s.once('data', () => {
        s.write('HTTP/1.1 103 Early Hints\r\nlink: </a.css>\r\n\r\n');
        s.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ntrailer: x-sum\r\n\r\n');
        s.write('5;ext=1\r\nhello\r\n');
        setTimeout(() => s.write('6\r\n world\r\n0\r\nx-sum: 42\r\ngrpc-status: 0\r\n\r\n'), 20);
      });
    });
    const res = await client(ep.port).send(request(), new AbortHooks());
    expect(res.status).toBe(200);
    expect(res.headers['transfer-encoding']).toBeUndefined();
    const out = new Collector();
    expect(await relay(res, out)).toBe(false);
    expect(out.text()).toBe('hello world');
    expect(res.trailers()).toEqual({ 'x-sum': '42', 'grpc-status': '0' });
  });

  it('pauses the endpoint while the response waits, then streams a large body to a slow writable', async () => {
    const size = 8 * 1024 * 1024;
    let written = 0;
    const ep = await nodeServer((_req, res) => {
      res.writeHead(200, { 'content-length': String(size) });
      const piece = Buffer.alloc(64 * 1024, 'x');
      const pump = () => {
        while (written < size) {
          written += piece.length;
          if (!res.write(piece)) {
            res.once('drain', pump);
            return;
          }
        }
        res.end();
      };
      pump();
    });
    const res = await client(ep.port).send(request(), new AbortHooks());
    // Nobody reads the body yet: the endpoint is held back by backpressure, not buffered for.
    await new Promise((r) => setTimeout(r, 300));
    const stalled = written;
    await new Promise((r) => setTimeout(r, 200));
    expect(written).toBe(stalled);
    expect(written).toBeLessThan(size);
    const out = new Collector(1);
    expect(await relay(res, out)).toBe(false);
    expect(Buffer.concat(out.chunks).length).toBe(size);
    // What the relay wrote beyond the writable's high-water mark is one read of the socket at most.
    expect(out.maxBuffered).toBeLessThanOrEqual(16 * 1024 + 256 * 1024);
  });

  it('discard() reads the body to its end: the next request reuses the connection', async () => {
    let sent = false;
    const ep = await nodeServer((req, res) => {
      res.on('finish', () => (sent = true));
      res.end(req.url === '/big' ? Buffer.alloc(300 * 1024, 'y') : 'small');
    });
    const c = client(ep.port);
    const first = await c.send(request({ path: '/big' }), new AbortHooks());
    // More than is kept before a relay: the connection was paused, discard() resumes it.
    await new Promise((r) => setTimeout(r, 50));
    first.discard();
    // The pool has the connection back once the body was read (nothing tells the caller).
    await until('the body sent', () => sent);
    await new Promise((r) => setTimeout(r, 100));
    const second = await c.send(request({ path: '/small' }), new AbortHooks());
    const out = new Collector();
    await relay(second, out);
    expect(out.text()).toBe('small');
    expect(ep.sockets.length).toBe(1);
  });

  it('cancel() closes the connection: the endpoint sees its request end', async () => {
    let closed: Promise<unknown> | undefined;
    const ep = await nodeServer((req, res) => {
      closed = once(res, 'close');
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first');
    });
    const c = client(ep.port);
    const res = await c.send(request(), new AbortHooks());
    res.cancel();
    await closed;
    expect(ep.sockets[0]?.destroyed).toBe(true);
  });

  it('abort before the request is sent rejects with the reason, and nothing reaches the endpoint', async () => {
    let requests = 0;
    const ep = await nodeServer((_req, res) => {
      requests++;
      res.end();
    });
    const hook = new AbortHooks();
    const reason = new ProxyError(ProxyErrorCode.RequestTimeout, 'too late');
    hook.abort(reason);
    await expect(client(ep.port).send(request(), hook)).rejects.toBe(reason);
    // While connecting: aborted in the same tick as the send.
    const hook2 = new AbortHooks();
    const sent = client(ep.port).send(request(), hook2);
    hook2.abort(reason);
    await expect(sent).rejects.toBe(reason);
    await new Promise((r) => setTimeout(r, 100));
    expect(requests).toBe(0);
  });

  it('abort while waiting for the head rejects with the reason and closes the connection', async () => {
    let got: (() => void) | undefined;
    const arrived = new Promise<void>((r) => (got = r));
    const ep = await nodeServer(() => got?.()); // never answers
    const hook = new AbortHooks();
    const sent = client(ep.port).send(request(), hook);
    await arrived;
    const reason = new ProxyError(ProxyErrorCode.ResponseTimeout, 'no head');
    hook.abort(reason);
    await expect(sent).rejects.toBe(reason);
    await until('the connection closed', () => ep.sockets[0]?.destroyed === true);
  });

  it('abort during the body destroys the writable and closes the connection', async () => {
    const ep = await nodeServer((_req, res) => {
      res.writeHead(200);
      res.write('part');
    });
    const hook = new AbortHooks();
    const res = await client(ep.port).send(request(), hook);
    const out = new Collector();
    const relayed = relay(res, out);
    await until('the first part', () => out.chunks.length > 0);
    hook.abort(new ProxyError(ProxyErrorCode.IdleTimeout, 'idle'));
    expect(await relayed).toBe(true);
    expect(out.destroyed).toBe(true);
    await until('the connection closed', () => ep.sockets[0]?.destroyed === true);
  });

  it('a client that goes away mid-body (the writable closes) closes the connection', async () => {
    const ep = await nodeServer((_req, res) => {
      res.writeHead(200);
      res.write('part');
    });
    const res = await client(ep.port).send(request(), new AbortHooks());
    const out = new Collector();
    const relayed = relay(res, out);
    await until('the first part', () => out.chunks.length > 0);
    out.destroy();
    expect(await relayed).toBe(true);
    await until('the connection closed', () => ep.sockets[0]?.destroyed === true);
  });

  it('onBodyData() is told of every body chunk', async () => {
    const ep = await nodeServer((_req, res) => {
      res.writeHead(200);
      res.write('a');
      setTimeout(() => res.write('b'), 20);
      setTimeout(() => res.end('c'), 40);
    });
    const res = await client(ep.port).send(request(), new AbortHooks());
    let seen = 0;
    res.onBodyData(() => seen++);
    const out = new Collector();
    await relay(res, out);
    expect(out.text()).toBe('abc');
    expect(seen).toBeGreaterThanOrEqual(2);
  });

  it('a refused connection is ConnectFailed and unprocessed (the logical level resends it)', async () => {
    const err = await rejection(client(await refusedPort()).send(request(), new AbortHooks()));
    expect(ProxyError.is(err)).toBe(true);
    expect(err).toMatchObject({ code: ProxyErrorCode.ConnectFailed, unprocessed: true });
  });

  it('streams a request body without content-length chunked, and keeps a content-length given', async () => {
    const seen: { te?: string; cl?: string; body: string }[] = [];
    const ep = await nodeServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({
          te: req.headers['transfer-encoding'],
          cl: req.headers['content-length'],
          body: Buffer.concat(chunks).toString(),
        });
        res.end('ok');
      });
    });
    const c = client(ep.port);
    const body = new PassThrough();
    const sent = c.send(request({ method: 'POST', body }), new AbortHooks());
    const big = 'z'.repeat(200 * 1024);
    body.write('first,');
    setTimeout(() => body.end(`${big},last`), 20);
    const res = await sent;
    await relay(res, new Collector());
    expect(seen[0]).toEqual({ te: 'chunked', cl: undefined, body: `first,${big},last` });

    const sized = await c.send(
      request({
        method: 'PUT',
        headers: { 'content-length': '11' },
        body: Readable.from([Buffer.from('hello '), Buffer.from('world')]),
      }),
      new AbortHooks(),
    );
    await relay(sized, new Collector());
    expect(seen[1]).toEqual({ te: undefined, cl: '11', body: 'hello world' });

    const buffered = await c.send(
      request({ method: 'POST', body: Buffer.from('buffered') }),
      new AbortHooks(),
    );
    await relay(buffered, new Collector());
    expect(seen[2]).toEqual({ te: undefined, cl: '8', body: 'buffered' });
  });

  /** Answers a chunked body with trailers, slowly enough that the head is relayed first. */
  const trailersEndpoint = () =>
    nodeServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', trailer: 'x-sum' });
      res.write('hello ');
      setTimeout(() => {
        res.addTrailers({ 'x-sum': '42' });
        res.end('world');
      }, 20);
    });

  it("relays into the logical level's node:http response", async () => {
    const ep = await trailersEndpoint();
    const c = client(ep.port);
    const outcomes: { streamError: boolean; status: number }[] = [];
    const front = createServer((req, res) => {
      const ex = http1Exchange(req, res);
      void c.send(request({ path: ex.path, headers: ex.headers }), ex.abortHook).then((up) =>
        ex.respond(up, up.headers, {
          responded: (streamError) => outcomes.push({ status: up.status, streamError }),
        }),
      );
    });
    front.listen(0, '127.0.0.1');
    await once(front, 'listening');
    closers.push(() => new Promise<void>((r) => front.close(() => r())));
    const port = (front.address() as { port: number }).port;
    const res = await new Promise<IncomingMessage>((resolve, reject) =>
      httpRequest({ host: '127.0.0.1', port, path: '/t', agent: false }, resolve).on('error', reject).end(),
    );
    const chunks: Buffer[] = [];
    for await (const chunk of res) chunks.push(chunk as Buffer);
    expect(res.statusCode).toBe(200);
    expect(res.headers['transfer-encoding']).toBe('chunked');
    expect(Buffer.concat(chunks).toString()).toBe('hello world');
    await until('the outcome', () => outcomes.length === 1);
    expect(outcomes[0]).toMatchObject({ status: 200, streamError: false });
  });

  it("relays into the logical level's HTTP/2 stream, trailers included", async () => {
    const ep = await trailersEndpoint();
    const c = client(ep.port);
    const front = createH2Server();
    front.on('stream', (stream, headers) => {
      const ex = http2Exchange(stream, headers);
      void c
        .send(request({ path: ex.path, headers: ex.headers }), ex.abortHook)
        .then((up) => ex.respond(up, up.headers, { responded: () => undefined }));
    });
    front.listen(0, '127.0.0.1');
    await once(front, 'listening');
    const session = h2connect(`http://127.0.0.1:${(front.address() as { port: number }).port}`);
    closers.push(
      () =>
        new Promise<void>((r) => {
          session.destroy();
          front.close(() => r());
        }),
    );
    const stream = session.request({ ':path': '/t' });
    stream.end();
    const [headers] = (await once(stream, 'response')) as [Record<string, unknown>];
    const trailers = once(stream, 'trailers') as Promise<[Record<string, unknown>]>;
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    expect(headers[':status']).toBe(200);
    expect(Buffer.concat(chunks).toString()).toBe('hello world');
    expect((await trailers)[0]).toMatchObject({ 'x-sum': '42' });
  });

  describe('mesh TLS', () => {
    const clientTls = createMeshTls(createStaticCertificateSource(ca.issue(CLIENT_ID)), ca.trustAnchorsPem);
    const webTls = createMeshTls(createStaticCertificateSource(ca.issue(WEB_ID)), ca.trustAnchorsPem);
    const impostorTls = createMeshTls(
      createStaticCertificateSource(ca.issue(IMPOSTOR_ID)),
      ca.trustAnchorsPem,
    );

    it('reaches an endpoint presenting the identity discovery named', async () => {
      const ep = await nodeServer((_req, res) => res.end('secure'), webTls);
      const c = client(ep.port, clientTls, WEB_ID);
      expect(c.tls).toBe(true);
      const res = await c.send(request(), new AbortHooks());
      const out = new Collector();
      await relay(res, out);
      expect(out.text()).toBe('secure');
    });

    it('refuses an endpoint presenting another identity: IdentityMismatch', async () => {
      const ep = await nodeServer((_req, res) => res.end('impostor'), impostorTls);
      const err = await rejection(client(ep.port, clientTls, WEB_ID).send(request(), new AbortHooks()));
      expect(err).toMatchObject({ code: ProxyErrorCode.IdentityMismatch, unprocessed: false });
    });
  });
});

describe('outbound endpoint HTTP/1 attempts, raw engine: keep-alive connections', () => {
  const client = (port: number): EndpointClient => {
    const c = createEndpointClient({
      endpoint: endpointAt(port),
      meshTls: undefined,
      connectTimeoutMs: 1000,
    });
    closers.push(() => c.close());
    return c;
  };

  /**
   * Answers the first request of its first connection and then closes that connection when the
   * next request arrives on it, without answering (a server's idle timeout racing the request);
   * other connections are answered. `requests` counts request heads by connection.
   */
  async function closingServer(): Promise<{ port: number; requests: number[] }> {
    const requests: number[] = [];
    const ep = await rawServer((s, n) => {
      let seen = 0;
      let buf = '';
      s.on('data', (d: Buffer) => {
        buf += d.toString('latin1');
        for (;;) {
          const end = buf.indexOf('\r\n\r\n');
          if (end < 0) return;
          const head = buf.slice(0, end);
          const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
          if (buf.length < end + 4 + length) return;
          buf = buf.slice(end + 4 + length);
          requests.push(n);
          seen++;
          if (n === 1 && seen === 2) {
            s.destroy();
            return;
          }
          s.write(`HTTP/1.1 200 OK\r\ncontent-length: ${String(n).length}\r\n\r\n${n}`);
        }
      });
    });
    return { port: ep.port, requests };
  }

  it('resends a GET that a reused connection lost before any response byte', async () => {
    const ep = await closingServer();
    const c = client(ep.port);
    const first = new Collector();
    await relay(await c.send(request(), new AbortHooks()), first);
    expect(first.text()).toBe('1');
    const second = new Collector();
    await relay(await c.send(request(), new AbortHooks()), second);
    expect(second.text()).toBe('2');
    expect(ep.requests).toEqual([1, 1, 2]);
  });

  it('does not resend a POST with a body: EndpointReset, not unprocessed', async () => {
    const ep = await closingServer();
    const c = client(ep.port);
    await relay(await c.send(request(), new AbortHooks()), new Collector());
    const err = await rejection(
      c.send(request({ method: 'POST', body: Buffer.from('payload') }), new AbortHooks()),
    );
    expect(err).toMatchObject({ code: ProxyErrorCode.EndpointReset, unprocessed: false });
    expect(ep.requests).toEqual([1, 1]);
  });

  it('close() closes idle connections, and busy ones once their response ends when graceful', async () => {
    let hold: ServerResponse | undefined;
    const ep = await nodeServer((req, res) => {
      if (req.url === '/hold') {
        hold = res;
        res.writeHead(200);
        res.write('a');
      } else res.end('idle');
    });
    const c = client(ep.port);
    const busy = await c.send(request({ path: '/hold' }), new AbortHooks());
    const out = new Collector();
    const relayed = relay(busy, out);
    await relay(await c.send(request(), new AbortHooks()), new Collector());
    expect(ep.sockets.length).toBe(2);
    await new Promise((r) => setTimeout(r, 50));
    await c.close(true);
    await until('the idle connection closed', () => ep.sockets[1]?.destroyed === true);
    expect(ep.sockets[0]?.destroyed).toBe(false);
    hold?.end('b');
    expect(await relayed).toBe(false);
    expect(out.text()).toBe('ab');
    await until('the busy connection closed after its response', () => ep.sockets[0]?.destroyed === true);
    // A send after close never reaches the endpoint: unprocessed, for another endpoint to take.
    expect(await rejection(c.send(request(), new AbortHooks()))).toMatchObject({ unprocessed: true });
  });

  it('close() without grace fails the responses in flight', async () => {
    const ep = await nodeServer((_req, res) => {
      res.writeHead(200);
      res.write('a');
    });
    const c = client(ep.port);
    const res = await c.send(request(), new AbortHooks());
    const out = new Collector();
    const relayed = relay(res, out);
    await c.close();
    expect(await relayed).toBe(true);
    await until('the connection closed', () => ep.sockets[0]?.destroyed === true);
  });
});
