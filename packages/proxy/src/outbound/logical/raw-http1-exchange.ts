// One HTTP/1 client request of the outbound mesh served on the raw-socket engine's client
// connection (http/raw-h1/client-connection.ts) instead of node:http: the Exchange the logical
// stack sees (exchange.ts) and the ClientExchange the connection feeds. The request head comes
// parsed (head-parser.ts), its body framed by framing.ts and handed to the stack decoded (a chunked
// body's framing removed: the endpoint side frames it anew) through a Readable that pauses the
// client socket while it is full. The response is written as node:http's ServerResponse would:
// the upstream's Content-Length kept, otherwise chunked for an HTTP/1.1 client (trailers in the
// last chunk) and until-close for HTTP/1.0, no body for HEAD, 204 and 304; its head leaves with
// the first body bytes in one write. The endpoint's attempt writes the body straight into the
// ResponseSink (relayToSink; the undici engine's relays into a Writable over it), which tells the
// route's request how the relay ended. State lives in fields and behaviour in methods (no closures
// per request); methods work on `self`, since the gateway derives a copy of an exchange with
// Object.create.
import { STATUS_CODES } from 'node:http';
import { Writable, type Readable } from 'node:stream';
import type { ProxyError } from '../../errors/index.js';
import { L5D_PROXY_ERROR, stripHopByHop } from '../../http/index.js';
import { isHopByHop } from '../../http/headers.js';
import {
  BodyFramer,
  COALESCE_BYTES,
  headersObject,
  proxyResponse,
  type ChunkedSink,
  type ClientConnection,
  type ClientExchange,
  type HttpVersion,
  type MessageFraming,
  type RequestHead,
} from '../../http/raw-h1/index.js';
import { AbortHooks } from '../abort-hook.js';
import type { AttemptResponse, BodySink, BodySource, Headers } from '../endpoint/index.js';
import {
  isGrpc,
  originForm,
  relayedGrpcStatus,
  respondedLater,
  type Exchange,
  type Peer,
  type ResponseReceiver,
} from './exchange.js';
import { RequestBody } from './request-body.js';

const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';

/** Starts serving an exchange once the client connection holds it (the mesh's dispatch). */
export type RawExchangeStart = (ex: RawHttp1Exchange) => void;

/** A header object as node:http gives it (repeats joined, set-cookie an array), no hop-by-hop ones. */
function requestHeaders(head: RequestHead, framing: MessageFraming): Headers {
  const all = headersObject(head.headers) as Headers;
  const named = framing.connectionOptions;
  // Most requests have none: one object, not a copy.
  for (const k in all)
    if (isHopByHop(k) || (named.length > 0 && named.includes(k))) return stripHopByHop(all);
  return all;
}

export class RawHttp1Exchange implements Exchange, ClientExchange, ChunkedSink {
  readonly abortHook = new AbortHooks();
  readonly method: string;
  readonly path: string;
  readonly authority: string;
  readonly headers: Headers;
  readonly http2 = false;
  readonly grpc: boolean;
  readonly body: Readable | null;
  requestDone: boolean;
  gone = false;
  /** The exchange itself: state is kept here when a method runs on a derived copy. */
  private readonly self: RawHttp1Exchange;
  readonly #framer: BodyFramer | undefined;
  readonly #keepAlive: boolean;
  readonly #version: HttpVersion;
  /** The response being written (respond() was called). */
  private out: ResponseSink | undefined = undefined;
  /** The proxy answered itself (fail(), or a malformed request body). */
  private answered = false;
  #over = false;

  constructor(
    readonly client: ClientConnection,
    head: RequestHead,
    framing: MessageFraming,
    private readonly onStart: RawExchangeStart,
  ) {
    this.self = this;
    this.method = head.method;
    const host = head.fields.host;
    const target = head.target;
    if (target.charCodeAt(0) === 0x2f /* '/' */) {
      this.path = target;
      this.authority = host ?? '';
    } else {
      const o = originForm(target, host);
      this.path = o.path;
      this.authority = o.authority;
    }
    const headers = requestHeaders(head, framing);
    this.headers = headers;
    this.grpc = isGrpc(headers);
    this.#keepAlive = framing.keepAlive;
    this.#version = head.version;
    this.requestDone = framing.body.kind === 'none';
    if (this.requestDone) {
      this.body = null;
      this.#framer = undefined;
    } else {
      this.body = new RequestBody(client.socket);
      this.#framer = new BodyFramer(framing.body, 'request', this);
      // As node:http's server: the proxy itself invites the body (Expect is hop-by-hop).
      if (head.version === '1.1') {
        if (expectsContinue(head.headers)) client.write(CONTINUE);
      }
    }
  }

  /** The HTTP version the client spoke (the response's framing depends on it). */
  get clientVersion(): HttpVersion {
    return this.#version;
  }

  /** The connection may carry another request (HTTP/1.1 without `Connection: close`). */
  get keepAlive(): boolean {
    return this.#keepAlive;
  }

  /** The response was written whole, or the proxy answered: the client's leaving changes nothing. */
  get over(): boolean {
    return this.#over;
  }

  // --- ClientExchange -----------------------------------------------------------------------------

  start(): void {
    this.onStart(this);
  }

  requestData(buf: Buffer, offset: number): number {
    const n = (this.#framer as BodyFramer).take(buf, offset);
    if (typeof n !== 'number') {
      this.#refuseBody(n.status, n.message);
      return -1;
    }
    if ((this.#framer as BodyFramer).done) {
      this.requestDone = true;
      const body = this.body as RequestBody;
      if (!body.destroyed) body.push(null);
    }
    return n;
  }

  /** Decoded request body bytes (ChunkedSink; a sized body's bytes come here too). */
  data(buf: Buffer, start: number, end: number): void {
    const body = this.body as RequestBody;
    if (body.destroyed) return;
    body.pushBody(start === 0 && end === buf.length ? buf : buf.subarray(start, end));
  }

  clientGone(): void {
    if (this.gone) return;
    this.gone = true;
    const err = new Error('the client went away');
    const body = this.body;
    if (body !== null && !body.readableEnded) body.destroy(err);
    this.out?.clientGone();
    this.abortHook.abort(err);
  }

  /** A malformed request body: answered when no response began, else the client is cut off. */
  #refuseBody(status: number, message: string): void {
    const started = this.out !== undefined || this.answered;
    // The client's doing, as if it went away: the stack neither answers nor blames the endpoint.
    this.clientGone();
    if (started) {
      this.client.destroy();
      return;
    }
    this.answered = true;
    this.#over = true;
    this.client.write(proxyResponse(status, { 'content-type': 'text/plain' }, `${message}\n`, true));
    this.client.finished(this, true);
  }

  // --- Exchange -----------------------------------------------------------------------------------

  abort(reason: unknown): void {
    this.abortHook.abort(reason);
  }

  peer(): Peer {
    const s = this.client.socket;
    return { ip: s.remoteAddress ?? '', port: s.remotePort ?? 0 };
  }

  get headersSent(): boolean {
    const ex = this.self;
    return ex.out !== undefined || ex.answered;
  }

  respond(up: AttemptResponse, headers: Headers, to: ResponseReceiver): void {
    const ex = this.self;
    if (ex.gone || ex.out !== undefined || ex.answered) {
      up.cancel();
      respondedLater(to, true, undefined);
      return;
    }
    const out = new ResponseSink(ex, up, headers, to);
    ex.out = out;
    if (up.relayToSink !== undefined) {
      // What body came with the head (an HTTP/1 endpoint's) is written by relayToSink itself,
      // with the head. An HTTP/2 stream's first DATA frame usually came in the same read as its
      // HEADERS but reaches the stream in a callback of its own, after this one's ticks: the head
      // waits for it until the loop has run this read's callbacks (setImmediate), so that both
      // leave in one write (a tick was too early: two writes per response).
      up.relayToSink(out);
      if (out.headPending) setImmediate(flushHead, out);
      return;
    }
    // The head waits for the body's first bytes until this read's callbacks have run (one write).
    setImmediate(flushHead, out);
    out.settledByRelay = true;
    up.relay(new SinkWritable(out, up), (failed) => out.settle(failed));
  }

  fail(err: ProxyError): void {
    const ex = this.self;
    if (ex.gone || ex.answered) return;
    if (ex.out !== undefined) {
      // A response began: the client sees it broken.
      if (!ex.out.finished) ex.client.destroy();
      return;
    }
    ex.answered = true;
    ex.#over = true;
    const close = !ex.#keepAlive || !ex.requestDone;
    const headers = { 'content-type': 'text/plain', [L5D_PROXY_ERROR]: err.headerValue() };
    ex.client.write(
      proxyResponse(err.httpStatus, headers, ex.method === 'HEAD' ? '' : `${err.headerValue()}\n`, close),
    );
    ex.client.finished(ex, close);
  }

  /** The response was written whole (ResponseSink). */
  responseEnded(close: boolean): void {
    this.#over = true;
    this.client.finished(this, close || !this.#keepAlive || !this.requestDone);
  }
}

/** Whether a raw header list asks `Expect: 100-continue`. */
function expectsContinue(raw: readonly string[]): boolean {
  for (let i = 0; i < raw.length; i += 2)
    if (
      (raw[i] as string).length === 6 &&
      (raw[i] as string).toLowerCase() === 'expect' &&
      (raw[i + 1] as string).toLowerCase() === '100-continue'
    )
      return true;
  return false;
}

/** How the response body reaches the client. */
const Body = {
  /** HEAD, 204, 304: no body (written bytes are dropped). */
  None: 0,
  /** The upstream's Content-Length. */
  Length: 1,
  /** No length known yet: decided when the head is written. */
  Unknown: 2,
  /** Chunked (an HTTP/1.1 client). */
  Chunked: 3,
  /** Until the connection closes (an HTTP/1.0 client). */
  UntilClose: 4,
} as const;
type Body = (typeof Body)[keyof typeof Body];

/** A framing header the writer writes itself. */
const framingHeader = (k: string) =>
  k === 'content-length' || k === 'transfer-encoding' || k === 'connection';
/**
 * `headers` as head lines after `text`. No value is checked: the upstream's and the trailers were
 * checked by the head parser, a route's edits when its policy was compiled (http/header-edits.ts).
 */
function headerLines(text: string, headers: Headers): string {
  for (const k in headers) {
    if (framingHeader(k)) continue;
    const v = headers[k];
    if (v === undefined) continue;
    if (typeof v === 'string') text += `${k}: ${v}\r\n`;
    else for (const x of v) text += `${k}: ${x}\r\n`;
  }
  return text;
}

function flushHead(out: ResponseSink): void {
  out.flushHead();
}

/**
 * The client side of a response: its head and framing written on the client connection, with
 * the connection's backpressure. An attempt that can (RawHttp1Attempt.relayToSink) writes the body
 * here directly, and the sink tells the receiver how it ended (its end, an abort, its client
 * leaving); others relay into a SinkWritable over it, and relay()'s completion tells it.
 */
class ResponseSink implements BodySink {
  /** The head without its framing lines, until it is written. */
  private head: string | undefined;
  private mode: Body;
  /** The upstream's Content-Length (Length mode, or passed on as it is with no body). */
  private readonly length: string | undefined;
  private readonly expected: number;
  private written = 0;
  private close = false;
  /** end() wrote the body's end (the response is whole). */
  finished = false;
  /** The body could not be sent whole (abort(), or longer than its length): the client is cut off. */
  failed = false;
  /** Who writes the body here (told when the client drains or goes away). */
  source: BodySource | undefined = undefined;
  private onDrain: (() => void) | undefined = undefined;
  /** The receiver is told by relay()'s completion (a SinkWritable), not by this sink's own calls. */
  settledByRelay = false;
  #settled = false;

  constructor(
    private readonly ex: RawHttp1Exchange,
    private readonly up: AttemptResponse,
    headers: Headers,
    private readonly to: ResponseReceiver,
  ) {
    const status = up.status;
    this.head = headerLines(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n`, headers);
    // The framing is the endpoint's (a route cannot edit it: http/header-edits.ts).
    const cl = up.headers['content-length'];
    this.length = typeof cl === 'string' ? cl : cl?.[0];
    this.expected = this.length === undefined ? -1 : Number(this.length);
    if (ex.method === 'HEAD' || status === 204 || status === 304 || status < 200) this.mode = Body.None;
    else if (this.expected >= 0 && Number.isSafeInteger(this.expected)) this.mode = Body.Length;
    else this.mode = Body.Unknown;
  }

  /** Writes the pending head; `ended` when the body ended without a byte (no length known: 0). */
  #headText(ended: boolean): string {
    let text = this.head as string;
    this.head = undefined;
    switch (this.mode) {
      case Body.None:
        if (this.length !== undefined) text += `content-length: ${this.length}\r\n`;
        break;
      case Body.Length:
        text += `content-length: ${this.expected}\r\n`;
        break;
      default:
        if (ended && this.written === 0) {
          this.mode = Body.Length;
          text += 'content-length: 0\r\n';
        } else if (this.ex.clientVersion === '1.1') {
          this.mode = Body.Chunked;
          text += 'transfer-encoding: chunked\r\n';
        } else {
          this.mode = Body.UntilClose;
          this.close = true;
        }
    }
    if (this.close || !this.ex.keepAlive) text += 'connection: close\r\n';
    return `${text}\r\n`;
  }

  /** The head is not written yet. */
  get headPending(): boolean {
    return this.head !== undefined;
  }

  /** The head leaves with no body bytes yet (none came with it). */
  flushHead(): void {
    if (this.head === undefined || this.failed || this.ex.gone) return;
    this.ex.client.write(this.#headText(false));
  }

  /** Writes body bytes (and the head when still pending): false when the socket is full. */
  #send(chunks: readonly Buffer[], size: number): boolean {
    const client = this.ex.client;
    let prefix = this.head === undefined ? '' : this.#headText(false);
    const chunked = this.mode === Body.Chunked;
    if (chunked) prefix += `${size.toString(16)}\r\n`;
    const suffix = chunked ? '\r\n' : '';
    if (size <= COALESCE_BYTES) {
      let text = prefix;
      for (const c of chunks) text += c.toString('latin1');
      return client.write(text + suffix);
    }
    const socket = client.socket;
    socket.cork();
    if (prefix !== '') client.write(prefix);
    let ok = true;
    for (const c of chunks) ok = client.write(c);
    if (suffix !== '') ok = client.write(suffix);
    socket.uncork();
    return ok;
  }

  /**
   * Writes `chunks` (`size` bytes): false when the client is full (the source is resumed once it
   * drains). Bytes beyond the response's length cut the client off and stop the source.
   */
  writeChunks(chunks: readonly Buffer[], size: number): boolean {
    if (this.failed || this.finished || this.ex.gone) return true;
    if (size === 0 || this.mode === Body.None) return true;
    this.written += size;
    if (this.mode === Body.Length && this.written > this.expected) {
      this.abort();
      this.source?.stop();
      return true;
    }
    if (this.#send(chunks, size)) return true;
    this.ex.client.socket.once('drain', (this.onDrain ??= () => this.source?.resume()));
    return false;
  }

  bind(source: BodySource): void {
    this.source = source;
  }

  write(chunk: Buffer): boolean {
    return this.writeChunks([chunk], chunk.length);
  }

  /** Tells the receiver how the relay ended (once). */
  settle(failed: boolean): void {
    if (this.#settled) return;
    this.#settled = true;
    this.to.responded(failed, relayedGrpcStatus(this.up));
  }

  end(trailers: Headers | undefined): boolean {
    const whole = this.#end(trailers);
    if (!this.settledByRelay) this.settle(!whole);
    return whole;
  }

  #end(trailers: Headers | undefined): boolean {
    const ex = this.ex;
    if (this.finished) return true;
    if (this.failed || ex.gone) return false;
    if (this.head !== undefined) ex.client.write(this.#headText(true));
    else if (this.mode === Body.Chunked) ex.client.write(lastChunk(trailers));
    if (this.mode === Body.Length && this.written !== this.expected) {
      // Fewer bytes than the length said: the client would wait for the rest.
      this.abort();
      return false;
    }
    this.finished = true;
    ex.responseEnded(this.close);
    return true;
  }

  abort(): void {
    if (this.failed || this.finished) return;
    this.failed = true;
    if (this.onDrain !== undefined) this.ex.client.socket.off('drain', this.onDrain);
    // Cut short (the endpoint failed mid-body, a route timeout): the client sees it broken.
    if (!this.ex.gone) this.ex.client.destroy();
    if (!this.settledByRelay) this.settle(true);
  }

  /** The client went away: nothing more is written, the source stops. */
  clientGone(): void {
    if (this.onDrain !== undefined) this.ex.client.socket.off('drain', this.onDrain);
    this.source?.stop();
    if (!this.settledByRelay) this.settle(!this.finished);
  }
}

/** A ResponseSink as a Writable, for attempts that relay into node streams (HTTP/2 endpoints). */
class SinkWritable extends Writable {
  constructor(
    private readonly sink: ResponseSink,
    private readonly up: AttemptResponse,
  ) {
    super();
    sink.bind(this);
  }

  private waiting: ((err?: Error | null) => void) | undefined = undefined;

  /** BodySource: the client drained. */
  resume(): void {
    const cb = this.waiting;
    this.waiting = undefined;
    cb?.();
  }

  /** BodySource: the client went away, or the body was longer than its length. */
  stop(): void {
    this.destroy(
      this.sink.failed ? new Error('the response body is longer than its content-length') : undefined,
    );
  }

  #written(ok: boolean, cb: (err?: Error | null) => void): void {
    if (this.sink.failed) cb(new Error('the response could not be written whole'));
    else if (ok) cb();
    else this.waiting = cb;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.#written(this.sink.write(chunk), cb);
  }

  override _writev(
    chunks: { chunk: Buffer; encoding: BufferEncoding }[],
    cb: (err?: Error | null) => void,
  ): void {
    let size = 0;
    const list: Buffer[] = [];
    for (const c of chunks) {
      size += c.chunk.length;
      list.push(c.chunk);
    }
    this.#written(this.sink.writeChunks(list, size), cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.sink.end(this.up.trailers());
    cb(this.sink.finished ? null : new Error('the response could not be written whole'));
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.waiting = undefined;
    if (!this.sink.finished) this.sink.abort();
    cb(err);
  }
}

/** The last chunk of a chunked body, with the response's trailers. */
function lastChunk(trailers: Headers | undefined): string {
  if (trailers === undefined) return '0\r\n\r\n';
  return `${headerLines('0\r\n', trailers)}\r\n`;
}
