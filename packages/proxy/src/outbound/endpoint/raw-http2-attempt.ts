// One attempt as a stream of the raw HTTP/2 engine (http/raw-h2) on the endpoint's connection: an
// HTTP/2 request (gRPC), or an HTTP/1 request carried over HTTP/2 with Linkerd's `l5d-orig-proto`
// (the endpoint's protocol hint is h2). The attempt is its stream's handler: the response head,
// body and trailers reach it as calls, and the body goes on to a BodySink (the raw HTTP/1 client
// side) or a Writable (node's servers) with each side's backpressure.
import type { Readable, Writable } from 'node:stream';
import { ProxyError, ProxyErrorCode } from '../../errors/index.js';
import { plainHeadersOfFields } from '../../http/raw-h2/field-list.js';
import { L5D_ORIG_PROTO } from '../../http/orig-proto.js';
import { H2Error } from '../../http/raw-h2/frames.js';
import { ResetOrigin, type H2Stream, type H2StreamHandler } from '../../http/raw-h2/stream.js';
import type { UpstreamSession } from '../../http/raw-h2/upstream-sessions.js';
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
import { HTTP2_FORBIDDEN } from './http2-attempt.js';

const NO_HEADERS: Headers = Object.freeze({}) as Headers;

/** The request's field list: pseudo-fields first, then its headers. */
function requestFields(req: AttemptRequest, origProto: string | undefined): string[] {
  const fields = [':method', req.method, ':scheme', 'http', ':path', req.path, ':authority', req.authority];
  const from = req.headers;
  for (const k in from) {
    // The exchange's names are lower case already.
    if (k.charCodeAt(0) === 0x3a || HTTP2_FORBIDDEN.has(k)) continue;
    const v = from[k]!;
    if (typeof v === 'string') fields.push(k, v);
    else for (const x of v) fields.push(k, x);
  }
  if (origProto !== undefined) fields.push(L5D_ORIG_PROTO, origProto);
  // gRPC servers require `te: trailers` (the stack drops TE as hop-by-hop).
  const type = from['content-type'];
  if (typeof type === 'string' && type.startsWith('application/grpc')) fields.push('te', 'trailers');
  return fields;
}

function onWritableDrain(this: Writable & { [kRelay]?: RawHttp2Attempt }): void {
  this[kRelay]?.writableDrained();
}
function onWritableClose(this: Writable & { [kRelay]?: RawHttp2Attempt }): void {
  this[kRelay]?.writableClosed();
}
function onBodyData(this: Readable & { [kRelay]?: RawHttp2Attempt }, chunk: Buffer): void {
  this[kRelay]?.requestBody(chunk);
}
function onBodyEnd(this: Readable & { [kRelay]?: RawHttp2Attempt }): void {
  this[kRelay]?.requestBodyEnded();
}
function onBodyError(this: Readable & { [kRelay]?: RawHttp2Attempt }): void {
  this[kRelay]?.requestBodyFailed();
}
const kRelay = Symbol('tsmesh.rawHttp2Attempt');

const enum BodyState {
  Open = 0,
  Ended = 1,
  Broke = 2,
}

export class RawHttp2Attempt implements AttemptResponse, BodySource, H2StreamHandler {
  status = 0;
  headers: Headers = NO_HEADERS;
  endStream = false;
  #trailers: Headers | undefined = undefined;
  #stream: H2Stream | undefined = undefined;
  /** The receiver was told (the head, or the failure). */
  #settled = false;
  /** The body's end as received: open, ended whole (trailers or END_STREAM) or broke. */
  #body: BodyState = BodyState.Open;
  /** A consumer (sink, writable, discard) was told the end: nothing more goes on. */
  #bodyDone = false;
  /** Body bytes that came before a consumer was attached (the stream waits, paused). */
  #early: Buffer[] | undefined = undefined;
  #sink: BodySink | undefined = undefined;
  #writable: (Writable & { [kRelay]?: RawHttp2Attempt }) | undefined = undefined;
  #relayDone: ((failed: boolean) => void) | undefined = undefined;
  #dataListeners: (() => void)[] | undefined = undefined;
  #discarding = false;
  #reqBody: (Readable & { [kRelay]?: RawHttp2Attempt }) | undefined = undefined;
  readonly #onAbort = (): void => this.#aborted();

  constructor(
    private readonly session: UpstreamSession,
    private readonly abort: AbortHook,
    private readonly to: AttemptReceiver,
  ) {}

  /**
   * Sends `req` on the endpoint's connection; `origProto` marks an HTTP/1 request carried over
   * HTTP/2. `to` is told of the response head, or of the failure in a later tick.
   */
  static send(
    session: UpstreamSession,
    req: AttemptRequest,
    abort: AbortHook,
    origProto: string | undefined,
    to: AttemptReceiver,
  ): void {
    if (abort.aborted) {
      failAttemptLater(to, abort.reason);
      return;
    }
    const attempt = new RawHttp2Attempt(session, abort, to);
    const body = req.body;
    const bodiless = body === null || (Buffer.isBuffer(body) && body.length === 0);
    let stream: H2Stream;
    try {
      stream = session.connection.request(requestFields(req, origProto), bodiless, attempt);
    } catch (err) {
      failAttemptLater(to, toConnectError(err));
      return;
    }
    attempt.#stream = stream;
    abort.addListener(attempt.#onAbort);
    if (bodiless) return;
    if (Buffer.isBuffer(body)) {
      stream.end(body);
      return;
    }
    const readable = body as Readable & { [kRelay]?: RawHttp2Attempt };
    attempt.#reqBody = readable;
    readable[kRelay] = attempt;
    readable.on('data', onBodyData);
    readable.on('end', onBodyEnd);
    readable.on('error', onBodyError);
  }

  // ---- the request body (a stream) ----

  requestBody(chunk: Buffer): void {
    const stream = this.#stream;
    if (stream === undefined || stream.closed) return;
    if (!stream.write(chunk)) this.#reqBody?.pause();
  }

  requestBodyEnded(): void {
    this.#stream?.end();
  }

  requestBodyFailed(): void {
    const stream = this.#stream;
    if (stream !== undefined && !stream.closed) stream.reset(H2Error.CANCEL);
    this.#fail(new ProxyError(ProxyErrorCode.EndpointReset, 'the request body failed before its end'));
  }

  // ---- the stream (H2StreamHandler) ----

  h2Headers(_stream: H2Stream, fields: string[], endStream: boolean): void {
    if (this.#settled) return;
    this.#settled = true;
    this.abort.removeListener(this.#onAbort);
    this.status = Number(fields[1]);
    this.headers = plainHeadersOfFields(fields, L5D_ORIG_PROTO);
    this.endStream = endStream;
    if (endStream) this.#body = BodyState.Ended;
    this.to.attemptResponded(this);
  }

  h2Data(stream: H2Stream, data: Buffer, endStream: boolean): void {
    const listeners = this.#dataListeners;
    if (listeners !== undefined) for (let i = 0; i < listeners.length; i++) listeners[i]!();
    if (data.length > 0 && !this.#discarding) {
      if (this.#sink !== undefined) {
        if (!this.#sink.write(data)) stream.pause();
      } else if (this.#writable !== undefined) {
        if (!this.#writable.write(data)) stream.pause();
      } else {
        (this.#early ??= []).push(data);
        stream.pause();
      }
    }
    if (endStream) {
      this.#body = BodyState.Ended;
      this.#deliverEnd();
    }
  }

  h2Trailers(_stream: H2Stream, fields: string[]): void {
    this.#trailers = plainHeadersOfFields(fields, L5D_ORIG_PROTO);
    this.#body = BodyState.Ended;
    this.#deliverEnd();
  }

  h2Drain(): void {
    this.#reqBody?.resume();
  }

  h2Reset(stream: H2Stream, code: number, origin: ResetOrigin): void {
    this.abort.removeListener(this.#onAbort);
    if (!this.#settled) this.#fail(this.#resetError(stream, code, origin));
    // Reset or cut off before its end: the client sees the response cut short.
    if (this.#body === BodyState.Open) this.#body = BodyState.Broke;
    this.#deliverEnd();
  }

  #resetError(stream: H2Stream, code: number, origin: ResetOrigin): ProxyError {
    const session = this.session;
    if (origin === ResetOrigin.Connection && !session.connected) {
      return toConnectError(
        session.connection.error ?? new Error('the connection closed before it was established'),
      );
    }
    const unprocessed = session.unprocessed(stream, origin);
    const message =
      origin === ResetOrigin.Refused
        ? 'the endpoint refused the stream without processing it (REFUSED_STREAM)'
        : origin === ResetOrigin.Connection
          ? `the connection closed${stream.id === 0 ? ' before the stream was opened' : ''}: ${session.connection.error?.message ?? 'closed'}`
          : `the endpoint closed the stream (code ${code})`;
    return new ProxyError(ProxyErrorCode.EndpointReset, message, {
      cause: session.connection.error,
      unprocessed,
    });
  }

  #fail(err: unknown): void {
    if (this.#settled) return;
    this.#settled = true;
    failAttemptLater(this.to, err);
  }

  #aborted(): void {
    const stream = this.#stream;
    if (stream !== undefined && !stream.closed) stream.reset(H2Error.CANCEL);
    this.#fail(this.abort.reason);
  }

  /** Tells the consumer, once there is one, how the body ended (whole, or cut short). */
  #deliverEnd(): void {
    if (this.#bodyDone || this.#body === BodyState.Open) return;
    const sink = this.#sink;
    const w = this.#writable;
    if (sink === undefined && w === undefined && !this.#discarding) return;
    this.#bodyDone = true;
    if (sink !== undefined) {
      this.#sink = undefined;
      if (this.#body === BodyState.Ended) sink.end(this.#trailers);
      else sink.abort();
    } else if (w !== undefined) {
      if (this.#body === BodyState.Ended) w.end();
      else {
        w.destroy();
        this.#settleRelay(true);
      }
    }
  }

  /** Writes what came before the consumer, then lets the stream go on. */
  #flushEarly(write: (chunk: Buffer) => unknown): void {
    const early = this.#early;
    if (early !== undefined) {
      this.#early = undefined;
      for (const chunk of early) write(chunk);
    }
    if (this.#body === BodyState.Open) this.#stream?.resume();
    else this.#deliverEnd();
  }

  // ---- AttemptResponse ----

  trailers(): Headers | undefined {
    return this.#trailers;
  }

  relayToSink(sink: BodySink): void {
    sink.bind(this);
    this.#sink = sink;
    this.#flushEarly((chunk) => sink.write(chunk));
  }

  relay(to: Writable, done: (failed: boolean) => void): void {
    const w = to as Writable & { [kRelay]?: RawHttp2Attempt };
    this.#relayDone = done;
    w[kRelay] = this;
    this.#writable = w;
    w.on('drain', onWritableDrain);
    w.on('close', onWritableClose);
    w.on('error', noop);
    this.#flushEarly((chunk) => w.write(chunk));
  }

  writableDrained(): void {
    this.#stream?.resume();
  }

  writableClosed(): void {
    const w = this.#writable;
    const finished = (w as { writableFinished?: boolean } | undefined)?.writableFinished === true;
    if (!finished) {
      this.#bodyDone = true;
      const stream = this.#stream;
      if (stream !== undefined && !stream.closed) stream.reset(H2Error.CANCEL);
    }
    this.#settleRelay(!finished);
  }

  #settleRelay(failed: boolean): void {
    const done = this.#relayDone;
    if (done === undefined) return;
    this.#relayDone = undefined;
    done(failed);
  }

  onBodyData(listener: () => void): void {
    (this.#dataListeners ??= []).push(listener);
  }

  discard(): void {
    this.#discarding = true;
    this.#early = undefined;
    this.#bodyDone = true;
    this.#stream?.resume();
  }

  cancel(): void {
    this.#bodyDone = true;
    this.#sink = undefined;
    const stream = this.#stream;
    if (stream !== undefined && !stream.closed) stream.reset(H2Error.CANCEL);
  }

  // ---- BodySource ----

  /** The client drained. */
  resume(): void {
    this.#stream?.resume();
  }

  /** The client went away (or refused the body): the stream is cancelled. */
  stop(): void {
    this.cancel();
  }
}

function noop(): void {}
