// Test helpers for the raw HTTP/2 engine: a server of H2Connections on a real listening socket (plain
// or TLS) with a small application behind it, a client-side recorder for streams, and a raw frame
// peer for what a well-behaved implementation cannot be made to send (malformed frames, floods).
import { createHash } from 'node:crypto';
import { expect } from 'vitest';
import { connect as connectHttp2, type ClientHttp2Session } from 'node:http2';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TlsOptions } from 'node:tls';
import {
  H2Connection,
  type H2ConnectionOptions,
  type H2ConnectionOwner,
  type H2LocalSettings,
} from './connection.js';
import { CLIENT_PREFACE, Flag, FRAME_HEADER_LENGTH, FrameType } from './frames.js';
import { fieldValue } from './fields.js';
import { ByteSink, HpackDecoder, HpackEncoder } from './hpack/index.js';
import type { H2Stream, H2StreamHandler, ResetOrigin } from './stream.js';

/** Resolves when `check` holds, polling; rejects with `what` after `ms`. */
export async function waitUntil(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Rejects after `ms` with `what`, else the promise's outcome. */
export function withTimeout<T>(p: Promise<T>, what: string, ms = 10_000): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

export const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** Deterministic pseudo-random bytes. */
export function pattern(n: number, seed = 1): Buffer {
  const b = Buffer.allocUnsafe(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

/** What one stream delivered to its handler. */
export interface StreamResult {
  head: string[] | undefined;
  body: Buffer;
  trailers: string[] | undefined;
  reset: { code: number; origin: ResetOrigin } | undefined;
  /** The peer's side ended normally (END_STREAM seen). */
  ended: boolean;
}

/** A stream handler that records everything (copying data) and settles when the stream is done. */
export class Collector implements H2StreamHandler {
  head: string[] | undefined;
  chunks: Buffer[] = [];
  received = 0;
  trailers: string[] | undefined;
  reset: { code: number; origin: ResetOrigin } | undefined;
  ended = false;
  drains = 0;
  readonly done: Promise<StreamResult>;
  #resolve!: (r: StreamResult) => void;
  /** Called for each chunk after it is recorded. */
  onData: ((stream: H2Stream, data: Buffer, end: boolean) => void) | undefined;
  onDrain: ((stream: H2Stream) => void) | undefined;

  constructor() {
    this.done = new Promise((r) => (this.#resolve = r));
  }

  result(): StreamResult {
    return {
      head: this.head,
      body: Buffer.concat(this.chunks),
      trailers: this.trailers,
      reset: this.reset,
      ended: this.ended,
    };
  }

  #settle(): void {
    this.#resolve(this.result());
  }

  h2Headers(_stream: H2Stream, fields: string[], endStream: boolean): void {
    this.head = fields;
    if (endStream) {
      this.ended = true;
      this.#settle();
    }
  }
  h2Data(stream: H2Stream, data: Buffer, endStream: boolean): void {
    this.chunks.push(Buffer.from(data));
    this.received += data.length;
    if (endStream) this.ended = true;
    this.onData?.(stream, data, endStream);
    if (endStream) this.#settle();
  }
  h2Trailers(_stream: H2Stream, fields: string[]): void {
    this.trailers = fields;
    this.ended = true;
    this.#settle();
  }
  h2Reset(_stream: H2Stream, code: number, origin: ResetOrigin): void {
    this.reset = { code, origin };
    this.#settle();
  }
  h2Drain(stream: H2Stream): void {
    this.drains++;
    this.onDrain?.(stream);
  }
}

/** An owner that records what its connection reports. */
export class RecordingOwner implements H2ConnectionOwner {
  protocolErrors: string[] = [];
  goaways: { code: number; lastStreamId: number }[] = [];
  closedWith: { error: Error | undefined } | undefined;
  readonly closed: Promise<Error | undefined>;
  #resolveClosed!: (e: Error | undefined) => void;
  onStream:
    ((connection: H2Connection, stream: H2Stream, fields: string[], endStream: boolean) => void) | undefined;

  constructor(onStream?: RecordingOwner['onStream']) {
    this.onStream = onStream;
    this.closed = new Promise((r) => (this.#resolveClosed = r));
  }

  h2Stream(connection: H2Connection, stream: H2Stream, fields: string[], endStream: boolean): void {
    if (this.onStream === undefined) throw new Error('a client connection got a stream');
    this.onStream(connection, stream, fields, endStream);
  }
  h2Goaway(_connection: H2Connection, code: number, lastStreamId: number): void {
    this.goaways.push({ code, lastStreamId });
  }
  h2Closed(_connection: H2Connection, error: Error | undefined): void {
    if (this.closedWith !== undefined) throw new Error('h2Closed called twice');
    this.closedWith = { error };
    this.#resolveClosed(error);
  }
  h2ProtocolError(_connection: H2Connection, message: string): void {
    this.protocolErrors.push(message);
  }
}

// ---- the test application ----

/** What the server side saw of one stream. */
export interface ServerStreamRecord {
  path: string;
  fields: string[];
  stream: H2Stream;
  collector: Collector;
}

export type StreamHook = (
  connection: H2Connection,
  stream: H2Stream,
  fields: string[],
  endStream: boolean,
  record: ServerStreamRecord,
) => boolean;

/**
 * Routes by :path:
 *  /echo       response head at once, request body echoed as it arrives (backpressure: the request is
 *              paused while the response queue is above its high water), request trailers echoed.
 *  /sha        after the request ends: JSON {bytes, sha256} of the request body.
 *  /grpc       after the request ends: head, the body echoed, trailers grpc-status 0.
 *  /trailers-only  one HEADERS with END_STREAM carrying grpc-status 5.
 *  /reset      RST_STREAM with the code in x-code.
 *  /big        x-size bytes of pattern(size) as the body.
 *  /wait       200 after x-delay ms, body "waited".
 *  /hold       never answers (the test does, through the record).
 *  anything else  200 "hello".
 */
function serveApp(stream: H2Stream, fields: string[], endStream: boolean, record: ServerStreamRecord): void {
  const c = record.collector;
  const path = record.path;
  const afterRequest = (f: () => void) => {
    if (endStream) {
      f();
      return;
    }
    void c.done.then((r) => {
      if (r.reset === undefined) f();
    });
  };
  switch (path) {
    case '/echo': {
      stream.respond([':status', '200', 'content-type', 'application/octet-stream'], false);
      c.onData = (s, data, end) => {
        const ok = s.write(Buffer.from(data));
        if (!ok) s.pause();
        if (end) s.end();
      };
      c.onDrain = (s) => s.resume();
      if (endStream) stream.end();
      void c.done.then((r) => {
        if (r.trailers !== undefined) stream.sendTrailers(r.trailers);
      });
      return;
    }
    case '/sha':
      afterRequest(() => {
        const body = Buffer.concat(c.chunks);
        stream.respond([':status', '200', 'content-type', 'application/json'], false);
        stream.end(Buffer.from(JSON.stringify({ bytes: body.length, sha256: sha256(body) })));
      });
      return;
    case '/grpc':
      afterRequest(() => {
        stream.respond([':status', '200', 'content-type', 'application/grpc'], false);
        stream.write(Buffer.concat(c.chunks));
        stream.sendTrailers(['grpc-status', '0', 'grpc-message', 'ok']);
      });
      return;
    case '/trailers-only':
      stream.respond([':status', '200', 'content-type', 'application/grpc', 'grpc-status', '5'], true);
      return;
    case '/reset':
      stream.reset(Number(fieldValue(fields, 'x-code') ?? '2'));
      return;
    case '/big': {
      const size = Number(fieldValue(fields, 'x-size') ?? '0');
      afterRequest(() => {
        stream.respond([':status', '200', 'content-length', String(size)], false);
        stream.end(pattern(size, 7));
      });
      return;
    }
    case '/wait': {
      const delay = Number(fieldValue(fields, 'x-delay') ?? '50');
      setTimeout(() => {
        stream.respond([':status', '200'], false);
        stream.end(Buffer.from('waited'));
      }, delay);
      return;
    }
    case '/hold':
      return;
    default:
      stream.respond([':status', '200', 'content-type', 'text/plain'], false);
      stream.end(Buffer.from('hello'));
  }
}

export interface TestServer {
  readonly port: number;
  readonly owners: RecordingOwner[];
  readonly connections: H2Connection[];
  readonly streams: ServerStreamRecord[];
  /** The most streams ever active at once on one connection (sampled as streams open). */
  maxActive: number;
  /** Replaces the application for the streams it returns true for. */
  hook: StreamHook | undefined;
  close(): Promise<void>;
}

/** Our HTTP/2 server on 127.0.0.1, plain or TLS (ALPN h2). */
export async function startServer(
  settings?: Partial<H2LocalSettings>,
  tls?: TlsOptions,
  options?: H2ConnectionOptions,
): Promise<TestServer> {
  const sockets = new Set<Socket>();
  const state: TestServer = {
    port: 0,
    owners: [],
    connections: [],
    streams: [],
    maxActive: 0,
    hook: undefined,
    close: async () => {},
  };
  const onSocket = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    const owner = new RecordingOwner((connection, stream, fields, endStream) => {
      const collector = new Collector();
      const record: ServerStreamRecord = {
        path: fieldValue(fields, ':path') ?? '',
        fields,
        stream,
        collector,
      };
      state.streams.push(record);
      stream.handler = collector;
      // The connection counts the new stream among its active ones already.
      state.maxActive = Math.max(state.maxActive, connection.activeStreams);
      if (state.hook?.(connection, stream, fields, endStream, record) === true) return;
      serveApp(stream, fields, endStream, record);
    });
    state.owners.push(owner);
    state.connections.push(new H2Connection(socket, owner, true, settings, options));
  };
  const server: Server =
    tls === undefined ? createServer(onSocket) : createTlsServer({ ...tls, ALPNProtocols: ['h2'] }, onSocket);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  (state as { port: number }).port = (server.address() as AddressInfo).port;
  state.close = async () => {
    for (const c of state.connections) c.destroy();
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  };
  return state;
}

// ---- our client ----

export interface TestClient {
  readonly connection: H2Connection;
  readonly owner: RecordingOwner;
  readonly socket: Socket;
  /** One exchange: the request head, then body chunks, then trailers or the end. */
  fetch(
    fields: readonly string[],
    body?: Buffer | Buffer[],
    trailers?: string[],
  ): { stream: H2Stream; collector: Collector; done: Promise<StreamResult> };
  close(): void;
}

export function requestHead(
  path: string,
  method = 'GET',
  extra: string[] = [],
  authority = 'localhost',
): string[] {
  return [':method', method, ':scheme', 'http', ':authority', authority, ':path', path, ...extra];
}

/** Our client on `socket` (already connecting/connected). */
export function ourClient(socket: Socket, settings?: Partial<H2LocalSettings>): TestClient {
  const owner = new RecordingOwner();
  const connection = new H2Connection(socket, owner, false, settings);
  return {
    connection,
    owner,
    socket,
    fetch(fields, body, trailers) {
      const collector = new Collector();
      const chunks = body === undefined ? [] : Array.isArray(body) ? body : [body];
      const noBody = chunks.length === 0 && trailers === undefined;
      const stream = connection.request(fields, noBody, collector);
      if (!noBody) {
        // Writes as backpressure allows: after false, the rest waits for h2Drain.
        let i = 0;
        const pump = () => {
          while (i < chunks.length) {
            if (!stream.write(chunks[i++]!)) return;
          }
          if (trailers !== undefined) stream.sendTrailers(trailers);
          else stream.end();
        };
        collector.onDrain = pump;
        pump();
      }
      return { stream, collector, done: collector.done };
    },
    close() {
      connection.destroy();
      socket.destroy();
    },
  };
}

/** A listening socket on 127.0.0.1 handing each connection to a RawPeer acting as the server. */
export async function startRawServer(): Promise<{ port: number; peers: RawPeer[]; close(): Promise<void> }> {
  const peers: RawPeer[] = [];
  const server = createServer((socket) => peers.push(new RawPeer(socket)));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    peers,
    close: async () => {
      for (const p of peers) p.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

export function connectPlain(port: number): Socket {
  return connect({ port, host: '127.0.0.1' });
}

// ---- raw frame peer ----

export interface Frame {
  type: number;
  flags: number;
  id: number;
  payload: Buffer;
}

export function frame(
  type: number,
  flags: number,
  id: number,
  payload: Buffer | number[] = Buffer.alloc(0),
): Buffer {
  const p = Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
  const h = Buffer.alloc(FRAME_HEADER_LENGTH);
  h.writeUIntBE(p.length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(id >>> 0, 5);
  return Buffer.concat([h, p]);
}

export function settingsFrame(entries: [number, number][] = []): Buffer {
  const p = Buffer.alloc(entries.length * 6);
  entries.forEach(([k, v], i) => {
    p.writeUInt16BE(k, i * 6);
    p.writeUInt32BE(v >>> 0, i * 6 + 2);
  });
  return frame(FrameType.Settings, 0, 0, p);
}

export function u32(...values: number[]): Buffer {
  const b = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => b.writeUInt32BE(v >>> 0, i * 4));
  return b;
}

export function goawayPayload(f: Frame): { lastStreamId: number; code: number; debug: string } {
  return {
    lastStreamId: f.payload.readUInt32BE(0) & 0x7fffffff,
    code: f.payload.readUInt32BE(4),
    debug: f.payload.subarray(8).toString('utf8'),
  };
}

/**
 * A peer writing frames by hand and parsing what comes back: a client (given a port) or a server
 * (given an accepted socket, whose first bytes must be the client preface).
 */
export class RawPeer {
  readonly socket: Socket;
  readonly frames: Frame[] = [];
  readonly encoder = new HpackEncoder();
  readonly decoder = new HpackDecoder();
  /** Header blocks decoded per stream id, in order. */
  readonly headers = new Map<number, string[][]>();
  ended = false;
  readonly closed: Promise<void>;
  #pending = Buffer.alloc(0);
  #sink = new ByteSink(256);
  #block: Buffer[] = [];
  /** A server peer: whether the client preface arrived (and was right). */
  preface: boolean | undefined;

  constructor(target: number | Socket) {
    if (typeof target === 'number') {
      this.socket = connect({ port: target, host: '127.0.0.1' });
    } else {
      this.socket = target;
      this.preface = false;
    }
    this.socket.on('data', (chunk: Buffer) => this.#receive(chunk));
    this.socket.on('error', () => {});
    this.socket.on('end', () => (this.ended = true));
    this.closed = new Promise((r) => this.socket.once('close', () => r()));
  }

  connected(): Promise<void> {
    if (!this.socket.connecting) return Promise.resolve();
    return new Promise((r) => this.socket.once('connect', () => r()));
  }

  #receive(chunk: Buffer): void {
    let buf = Buffer.concat([this.#pending, chunk]);
    if (this.preface === false) {
      if (buf.length < CLIENT_PREFACE.length) {
        this.#pending = buf;
        return;
      }
      if (!buf.subarray(0, CLIENT_PREFACE.length).equals(CLIENT_PREFACE))
        throw new Error('no client preface');
      this.preface = true;
      buf = buf.subarray(CLIENT_PREFACE.length);
    }
    while (buf.length >= FRAME_HEADER_LENGTH) {
      const length = buf.readUIntBE(0, 3);
      if (buf.length < FRAME_HEADER_LENGTH + length) break;
      const f: Frame = {
        type: buf[3]!,
        flags: buf[4]!,
        id: buf.readUInt32BE(5) & 0x7fffffff,
        payload: Buffer.from(buf.subarray(FRAME_HEADER_LENGTH, FRAME_HEADER_LENGTH + length)),
      };
      this.frames.push(f);
      if (f.type === FrameType.Headers || f.type === FrameType.Continuation) {
        this.#block.push(f.payload);
        if ((f.flags & Flag.EndHeaders) !== 0) {
          const out: string[] = [];
          this.decoder.decode(Buffer.concat(this.#block), out);
          this.#block = [];
          const list = this.headers.get(f.id) ?? [];
          list.push(out);
          this.headers.set(f.id, list);
        }
      }
      buf = buf.subarray(FRAME_HEADER_LENGTH + length);
    }
    this.#pending = buf;
  }

  send(...bufs: Buffer[]): void {
    if (!this.socket.destroyed) this.socket.write(Buffer.concat(bufs));
  }

  /** Preface and an empty SETTINGS (or the given entries). */
  start(entries: [number, number][] = []): void {
    this.send(CLIENT_PREFACE, settingsFrame(entries));
  }

  /** A header block with our encoder. */
  block(fields: readonly string[]): Buffer {
    this.#sink.reset();
    this.encoder.encode(fields, this.#sink);
    return Buffer.from(this.#sink.buf.subarray(0, this.#sink.length));
  }

  headersFrame(id: number, fields: readonly string[], endStream: boolean): Buffer {
    return frame(
      FrameType.Headers,
      Flag.EndHeaders | (endStream ? Flag.EndStream : 0),
      id,
      this.block(fields),
    );
  }

  async waitFrame(pred: (f: Frame) => boolean, what: string, ms = 5000): Promise<Frame> {
    let found: Frame | undefined;
    await waitUntil(() => (found = this.frames.find(pred)) !== undefined, what, ms);
    return found!;
  }

  async goaway(ms = 5000): Promise<{ lastStreamId: number; code: number; debug: string }> {
    return goawayPayload(await this.waitFrame((f) => f.type === FrameType.Goaway, 'GOAWAY', ms));
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** A raw peer connected to `srv`, with the server side's owner and connection (kept in `peers` for cleanup). */
export async function rawConnect(
  srv: TestServer,
  peers: RawPeer[],
): Promise<{ peer: RawPeer; owner: RecordingOwner; conn: H2Connection }> {
  const before = srv.owners.length;
  const peer = new RawPeer(srv.port);
  peers.push(peer);
  await peer.connected();
  await waitUntil(() => srv.owners.length > before, 'the server connection');
  return { peer, owner: srv.owners[before]!, conn: srv.connections[before]! };
}

/** A node:http2 client connected to `port`, counting the PINGs it gets (node:http2 answers them). */
export async function nodeClient(
  port: number,
): Promise<{ session: ClientHttp2Session; pings: () => number }> {
  const session = connectHttp2(`http://127.0.0.1:${port}`);
  let pings = 0;
  session.on('ping', () => pings++);
  await new Promise<void>((resolve, reject) =>
    session.once('connect', () => resolve()).once('error', reject),
  );
  return { session, pings: () => pings };
}

/** A fresh connection (our client) to `srv` still gets an answer. */
export async function stillServes(srv: TestServer): Promise<void> {
  const client = ourClient(connectPlain(srv.port));
  try {
    const r = await withTimeout(client.fetch(requestHead('/')).done, 'a request on a new connection');
    expect(r.body.toString()).toBe('hello');
  } finally {
    client.close();
  }
}
