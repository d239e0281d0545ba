// One HTTP/1 attempt of the mesh outbound over the raw-socket engine's keep-alive connections
// (http/raw-h1), instead of undici (http1-attempt.ts, kept for TSMESH_PROXY_HTTP1_ENGINE=node):
// the same contract. The request head is written from the attempt's header object, its body as a
// length (a buffer, or a stream whose client gave one) or chunked (a stream without one). The
// response's body is framed by the engine and handed over decoded (chunk framing removed): kept,
// up to a bound beyond which the connection is paused, from the head until the logical level
// relays it to the client (a BodySink the raw client side writes directly, or a Writable; with
// its backpressure) or drops it (a retry: read to its end, so the connection goes back to the
// pool).
import type { Readable, Writable } from 'node:stream';
import { ProxyError, ProxyErrorCode } from '../../errors/index.js';
import { headersFromRaw } from '../../http/index.js';
import {
  BodyFramer,
  IDEMPOTENT,
  isToken,
  UpstreamExchange,
  type ChunkedSink,
  type MessageFraming,
  type ResponseHead,
  type TargetConnections,
} from '../../http/raw-h1/index.js';
import type { AbortHook } from '../abort-hook.js';
import {
  failAttemptLater,
  toConnectError,
  type AttemptReceiver,
  type AttemptRequest,
  type AttemptResponse,
  type BodySink,
  type BodySource,
  type Headers,
} from './attempt.js';

/** Decoded body bytes kept before the response is relayed, beyond which the connection is paused. */
const MAX_PENDING_BYTES = 64 * 1024;
const CHUNKED_END = '0\r\n\r\n';
const NO_HEADERS: Headers = Object.freeze({}) as Headers;
const noop = () => undefined;

// What may not be in a request target or authority. The authority may come from the control plane
// (an endpoint's authority override) and must not be able to start another header line or
// request. Header names and values need no check here: the client's were checked by the engine
// that parsed them, and a route's edits when its policy was compiled (http/header-edits.ts).
const BAD_TARGET = /[^\x21-\x7e\x80-\xff]/;

/**
 * The request head for the endpoint, or why it cannot be written. `length`: the body's
 * content-length; `chunked`: a streamed body without one.
 */
function requestHead(req: AttemptRequest, length: number | undefined, chunked: boolean): string | Error {
  if (!isToken(req.method) || BAD_TARGET.test(req.path) || BAD_TARGET.test(req.authority))
    return new Error(`invalid request line or authority: ${JSON.stringify(`${req.method} ${req.path}`)}`);
  let text = `${req.method} ${req.path} HTTP/1.1\r\nhost: ${req.authority}\r\n`;
  const h = req.headers;
  for (const k in h) {
    // Framing is this hop's own; the exchange dropped the other hop-by-hop headers.
    if (k === 'host' || k === 'content-length' || k === 'transfer-encoding') continue;
    const v = h[k] as string | string[];
    if (typeof v === 'string') text += `${k}: ${v}\r\n`;
    else for (const x of v) text += `${k}: ${x}\r\n`;
  }
  if (length !== undefined) text += `content-length: ${length}\r\n`;
  else if (chunked) text += 'transfer-encoding: chunked\r\n';
  return `${text}\r\n`;
}

/** A stream body's declared length, when the client gave a usable one. */
function declaredLength(headers: Headers): number | undefined {
  const v = headers['content-length'];
  if (typeof v !== 'string' || !/^\d{1,15}$/.test(v)) return undefined;
  return Number(v);
}

/** A streamed request body's listeners (made only for such a body). */
interface RequestListeners {
  readonly data: (d: Buffer | string) => void;
  readonly end: () => void;
  readonly error: (err: Error) => void;
  readonly close: () => void;
}

/**
 * The attempts of one endpoint client still in flight (closed with it): a list through the
 * attempts themselves, since a Set's table grew and shrank with the load.
 */
export class LiveAttempts {
  head: RawHttp1Attempt | undefined = undefined;

  add(a: RawHttp1Attempt): void {
    a.liveNext = this.head;
    a.livePrev = undefined;
    if (this.head !== undefined) this.head.livePrev = a;
    this.head = a;
    a.isLive = true;
  }

  delete(a: RawHttp1Attempt): void {
    if (!a.isLive) return;
    a.isLive = false;
    const { livePrev: prev, liveNext: next } = a;
    if (prev === undefined) this.head = next;
    else prev.liveNext = next;
    if (next !== undefined) next.livePrev = prev;
    a.livePrev = undefined;
    a.liveNext = undefined;
  }

  /** Ends every attempt in flight (the endpoint client closes, not gracefully). */
  terminateAll(): void {
    const all: RawHttp1Attempt[] = [];
    for (let a = this.head; a !== undefined; a = a.liveNext) all.push(a);
    for (const a of all) a.terminate();
  }
}

/** relay()'s Writable as a BodySink: the attempt's relay works on sinks only. */
class WritableSink implements BodySink {
  constructor(
    private readonly to: Writable,
    private readonly source: RawHttp1Attempt,
  ) {
    to.once('error', noop);
    to.once('close', () =>
      source.writableClosed((to as { writableFinished?: boolean }).writableFinished === true),
    );
  }

  bind(): void {
    // The source is given to the constructor.
  }

  write(chunk: Buffer): boolean {
    if (this.to.write(chunk)) return true;
    this.to.once('drain', () => this.source.resume());
    return false;
  }

  end(): boolean {
    // Settled when `to` closes.
    this.to.end();
    return true;
  }

  abort(): void {
    this.to.destroy();
  }
}

export class RawHttp1Attempt extends UpstreamExchange implements AttemptResponse, BodySource, ChunkedSink {
  // UpstreamExchange keeps the response's status (undefined until its head); read once resolved.
  declare status: number;
  headers: Headers = NO_HEADERS;
  readonly endStream = false;
  #settled = false;
  readonly #body: Buffer | Readable | null;
  /** A streamed body's content-length (undefined: chunked). */
  readonly #length: number | undefined;
  #written = 0;
  #requestDone: boolean;
  /** A streamed body's listeners while they are attached (none for a buffered body or none). */
  #requestListeners: RequestListeners | undefined;
  /** Decoded body chunks received before relay() (or discard()). */
  #pending: Buffer[] | undefined;
  #pendingBytes = 0;
  /** The connection is paused because too much body waits for relay(). */
  #pausedForPending = false;
  /** The connection is paused until `to` drains. */
  #waitingDrain = false;
  #ended = false;
  #failure: Error | undefined;
  /** Where the body goes once relayed: the client's sink, or relay()'s Writable. */
  #out: BodySink | undefined;
  #draining = false;
  /** relay()'s completion (relayToSink()'s sink learns it from its own calls). */
  #relayDone: ((failed: boolean) => void) | undefined;
  #dataListener: (() => void) | undefined;
  /** The response head came in the data being handled: `to` is told once that is done. */
  #headToDeliver = false;
  // LiveAttempts' list.
  isLive = false;
  livePrev: RawHttp1Attempt | undefined = undefined;
  liveNext: RawHttp1Attempt | undefined = undefined;

  private constructor(
    pool: TargetConnections,
    method: string,
    head: string,
    body: Buffer | Readable | null,
    length: number | undefined,
    private readonly abort: AbortHook,
    private readonly live: LiveAttempts,
    private readonly to: AttemptReceiver,
  ) {
    super(pool, method, head);
    this.#body = body;
    this.#length = length;
    this.#requestDone = body === null || Buffer.isBuffer(body);
  }

  /**
   * Sends `req` over a connection of `pool`; `to` is told of the final response head once the
   * data it came in is handled (body bytes with it are kept for the relay), or of the failure in
   * a later tick.
   */
  static send(
    pool: TargetConnections,
    req: AttemptRequest,
    abort: AbortHook,
    live: LiveAttempts,
    to: AttemptReceiver,
  ): void {
    if (abort.aborted) {
      failAttemptLater(to, abort.reason);
      return;
    }
    const body = req.body;
    const length =
      body === null ? undefined : Buffer.isBuffer(body) ? body.length : declaredLength(req.headers);
    // A request without a body keeps a `content-length: 0` its client sent (a POST, say).
    const head = requestHead(
      req,
      body === null ? (req.headers['content-length'] === undefined ? undefined : 0) : length,
      body !== null && length === undefined,
    );
    if (head instanceof Error) {
      failAttemptLater(
        to,
        new ProxyError(ProxyErrorCode.Unexpected, `cannot send the request: ${head.message}`),
      );
      return;
    }
    new RawHttp1Attempt(pool, req.method, head, body, length, abort, live, to).#start();
  }

  #start(): void {
    this.live.add(this);
    this.abort.addListener(this.#onAbort);
    const body = this.#body;
    // A buffered body is held until the connection is had: a small one leaves with the head.
    if (Buffer.isBuffer(body)) {
      if (body.length > 0) this.toUpstream(body);
    } else if (body !== null) {
      if (body.readableEnded) this.#onRequestEnd();
      else {
        const l: RequestListeners = (this.#requestListeners = {
          data: (d) => this.#onRequestData(d),
          end: () => this.#onRequestEnd(),
          error: (err) => this.#onRequestError(err),
          close: () => this.#onRequestClose(),
        });
        body.on('data', l.data);
        body.on('end', l.end);
        body.on('error', l.error);
        body.on('close', l.close);
      }
    }
    if (!this.done) this.connect();
  }

  // --- the request -------------------------------------------------------------------------------

  protected get requestDone(): boolean {
    return this.#requestDone;
  }

  protected get requestHasBody(): boolean {
    return this.#body !== null;
  }

  protected get requesterPresent(): boolean {
    return !this.abort.aborted;
  }

  protected pauseRequest(): void {
    if (this.#requestListeners !== undefined) (this.#body as Readable).pause();
  }

  protected resumeRequest(): void {
    if (this.#requestListeners !== undefined) (this.#body as Readable).resume();
  }

  #onRequestData(d: Buffer | string): void {
    if (this.done) return; // the exchange ended first: the rest is read and dropped
    const chunk = typeof d === 'string' ? Buffer.from(d) : d;
    if (chunk.length === 0) return;
    if (this.#length === undefined) {
      const s = this.up?.socket;
      s?.cork();
      this.toUpstream(`${chunk.length.toString(16)}\r\n`);
      this.toUpstream(chunk);
      this.toUpstream('\r\n');
      s?.uncork();
      return;
    }
    this.#written += chunk.length;
    if (this.#written > this.#length) {
      this.fail(`the request body is longer than its content-length (${this.#length})`);
      return;
    }
    this.toUpstream(chunk);
  }

  #onRequestEnd(): void {
    this.#stopRequest();
    if (this.done) return;
    if (this.#length === undefined) this.toUpstream(CHUNKED_END);
    else if (this.#written !== this.#length) {
      this.fail(`the request body ended short of its content-length (${this.#length})`);
      return;
    }
    this.#requestDone = true;
    if (this.resBody?.done === true) this.complete();
  }

  #onRequestError(err: Error): void {
    this.#stopRequest();
    this.fail(`reading the request body failed: ${err.message}`);
  }

  #onRequestClose(): void {
    if (this.#requestDone) return;
    this.#stopRequest();
    this.fail('the request body was cut short');
  }

  /**
   * Stops forwarding the request body. A body not read to its end is drained (as node:http's
   * server does once it has answered), so that its client connection can carry the next request.
   */
  #stopRequest(): void {
    const l = this.#requestListeners;
    if (l === undefined) return;
    this.#requestListeners = undefined;
    const body = this.#body as Readable;
    body.off('end', l.end);
    body.off('error', l.error);
    body.off('close', l.close);
    if (body.readableEnded) body.off('data', l.data);
    else {
      // #onRequestData drops what comes once the exchange is done; an error is nobody's now.
      body.on('error', noop);
      body.resume();
    }
  }

  // --- the response ------------------------------------------------------------------------------

  protected responseHead(
    r: ResponseHead,
    framing: MessageFraming,
    buf: Buffer,
    bodyStart: number,
  ): number | undefined {
    this.status = r.status;
    this.headers = headersFromRaw(r.headers);
    const body = new BodyFramer(framing.body, 'response', this);
    this.resBody = body;
    if (!this.#settled) {
      this.#settled = true;
      this.#headToDeliver = true;
    }
    // Decoded data goes to data(): kept until relay() (`to` is told after this).
    return this.takeBody(body, buf, bodyStart);
  }

  override onUpstreamData(d: Buffer): void {
    super.onUpstreamData(d);
    if (this.#headToDeliver) {
      this.#headToDeliver = false;
      this.to.attemptResponded(this);
    }
  }

  protected responseBytes(): void {
    // Never called: the framer always decodes into data().
  }

  /** Decoded body data (ChunkedSink): kept, relayed or dropped. */
  data(buf: Buffer, start: number, end: number): void {
    this.#dataListener?.();
    if (this.#draining) return;
    const chunk = start === 0 && end === buf.length ? buf : buf.subarray(start, end);
    const out = this.#out;
    if (out !== undefined) {
      this.#write(out, chunk);
      return;
    }
    (this.#pending ??= []).push(chunk);
    this.#pendingBytes += chunk.length;
    if (this.#pendingBytes >= MAX_PENDING_BYTES && !this.#pausedForPending) {
      this.#pausedForPending = true;
      this.pauseResponse();
    }
  }

  #write(out: BodySink, chunk: Buffer): void {
    if (out.write(chunk) || this.#waitingDrain) return;
    // The sink calls resume() once the client drains.
    this.#waitingDrain = true;
    this.pauseResponse();
  }

  /** BodySource: the client drained. */
  resume(): void {
    if (!this.#waitingDrain) return;
    this.#waitingDrain = false;
    this.resumeResponse();
  }

  /** BodySource: the client went away (or refused the body): the endpoint's connection is closed. */
  stop(): void {
    this.writableClosed(false);
  }

  /**
   * relay()'s Writable closed (or, from stop(), the sink's client went away): finished, or cut
   * off before the body ended, when the endpoint's connection is closed.
   */
  writableClosed(finished: boolean): void {
    if (!finished && !this.done) {
      this.#finish();
      this.abandon();
    }
    this.#settleRelay(!finished);
  }

  /** The body ended: `out` ends too (relay()'s Writable settles the relay when it closes). */
  #endOut(out: BodySink): void {
    out.end(this.trailers());
  }

  protected completed(): void {
    this.#finish();
    this.#ended = true;
    const out = this.#out;
    if (out !== undefined) this.#endOut(out);
  }

  protected failed(message: string): void {
    this.#finish();
    if (!this.#settled) {
      this.#settled = true;
      failAttemptLater(this.to, this.#errorBeforeHead(message));
      return;
    }
    this.#failBody(new Error(message));
  }

  /** The exchange is over: nothing more to listen to. */
  #finish(): void {
    this.live.delete(this);
    this.abort.removeListener(this.#onAbort);
    this.#stopRequest();
  }

  /** The proxy's error for a failure before the response head (as http1AttemptError). */
  #errorBeforeHead(message: string): ProxyError {
    const err = this.connectError;
    if (err !== undefined) {
      // connectTcp wraps the socket's error (ECONNREFUSED: unprocessed) as its cause; a failed
      // mesh TLS handshake is the endpoint client's IdentityMismatch already (tlsError).
      const cause = (err as { cause?: unknown }).cause;
      return toConnectError(
        !ProxyError.is(err) && (cause as { code?: unknown } | undefined)?.code !== undefined ? cause : err,
      );
    }
    // A reused connection closed before any response byte: the engine resends a request that
    // is safe to resend (bodiless, idempotent) itself, a bounded number of times; one still
    // failing so the endpoint did not process either, and the logical level may try another.
    const unprocessed = this.closedUnanswered && this.#body === null && IDEMPOTENT.has(this.method);
    return new ProxyError(ProxyErrorCode.EndpointReset, `the endpoint failed the request: ${message}`, {
      unprocessed,
    });
  }

  readonly #onAbort = (): void => {
    const reason = this.abort.reason;
    const err = reason instanceof Error ? reason : new Error('the request was aborted');
    this.live.delete(this);
    this.#stopRequest();
    if (!this.#settled) {
      this.#settled = true;
      failAttemptLater(this.to, reason ?? err);
    }
    // Before a connection was had, one that comes is released unused (the exchange is done).
    if (!this.done) this.abandon();
    this.#failBody(err);
  };

  /** Ends the attempt because its endpoint client closes (not gracefully). */
  terminate(): void {
    if (this.done) return;
    this.closedUnanswered = false;
    this.fail('the connection to the endpoint was closed by the proxy');
  }

  trailers(): Headers | undefined {
    const body = this.resBody;
    if (!this.#ended || body === undefined || !body.chunked) return undefined;
    const t = body.trailers;
    return t.length > 0 ? headersFromRaw(t) : undefined;
  }

  relay(to: Writable, done: (failed: boolean) => void): void {
    this.#relayDone = done;
    this.#attach(new WritableSink(to, this));
  }

  relayToSink(sink: BodySink): void {
    sink.bind(this);
    this.#attach(sink);
  }

  /** The body goes to `out` from now on: what was kept first, then the end if it came. */
  #attach(out: BodySink): void {
    this.#out = out;
    if (this.#failure) {
      out.abort();
      this.#settleRelay(true);
      return;
    }
    const pending = this.#pending;
    this.#pending = undefined;
    if (pending) for (const c of pending) this.#write(out, c);
    if (this.#ended) this.#endOut(out);
    else if (this.#pausedForPending) {
      this.#pausedForPending = false;
      if (!this.#waitingDrain) this.resumeResponse();
    }
  }

  onBodyData(listener: () => void): void {
    this.#dataListener = listener;
  }

  discard(): void {
    // Read to the end so the connection goes back to the pool.
    this.#draining = true;
    this.#pending = undefined;
    if (this.#pausedForPending) {
      this.#pausedForPending = false;
      this.resumeResponse();
    }
  }

  cancel(): void {
    this.#pending = undefined;
    if (this.done) return;
    this.#finish();
    this.abandon();
  }

  #failBody(err: Error): void {
    if (this.#ended || this.#failure) return;
    this.#failure = err;
    const out = this.#out;
    if (out) {
      out.abort();
      this.#settleRelay(true);
    }
  }

  #settleRelay(failed: boolean): void {
    const done = this.#relayDone;
    if (!done) return;
    this.#relayDone = undefined;
    done(failed);
  }
}
