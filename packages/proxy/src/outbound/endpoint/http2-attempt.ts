// One attempt as a stream on the endpoint's HTTP/2 session: an HTTP/2 request (gRPC), or an
// HTTP/1 request carried over HTTP/2 with Linkerd's `l5d-orig-proto` (the endpoint's protocol hint
// is h2). The response body is the stream itself.
import {
  constants,
  type ClientHttp2Session,
  type ClientHttp2Stream,
  type IncomingHttpHeaders,
} from 'node:http2';
import type { Readable, Writable } from 'node:stream';
import { ProxyError, ProxyErrorCode } from '../../errors/index.js';
import { http2RequestOptions, L5D_ORIG_PROTO, stripHopByHop, unprocessedStream } from '../../http/index.js';
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

/** Request fields HTTP/2 does not carry (Host becomes :authority). */
export const HTTP2_FORBIDDEN: ReadonlySet<string> = new Set([
  'host',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
  'proxy-connection',
]);

const noop = () => undefined;
const NO_HEADERS: Headers = Object.freeze({}) as Headers;

/**
 * Pipes a response body to the client and reports once whether it completed. Unlike
 * stream.pipeline this allocates no AbortController (whose DOMException showed up per request in
 * profiles); a failure on either side destroys the other.
 */
export function relayStream(from: Readable, to: Writable, done: (failed: boolean) => void): void {
  let settled = false;
  const settle = (failed: boolean) => {
    if (settled) return;
    settled = true;
    done(failed);
  };
  from.once('error', () => {
    to.destroy();
    settle(true);
  });
  to.once('error', noop);
  to.once('close', () => {
    const finished = (to as { writableFinished?: boolean }).writableFinished === true;
    if (!finished) from.destroy();
    settle(!finished);
  });
  from.pipe(to);
}

/** The attempt a stream belongs to: its event listeners are shared functions that look it up. */
const kAttempt = Symbol('tsmesh.http2Attempt');
type AttemptStream = ClientHttp2Stream & { [kAttempt]?: Http2Attempt };

function onStreamResponse(this: AttemptStream, h: IncomingHttpHeaders, flags: number): void {
  this[kAttempt]?.responseHead(h, flags);
}
function onStreamTrailers(this: AttemptStream, t: IncomingHttpHeaders): void {
  const a = this[kAttempt];
  if (a) a.trailerHeaders = stripHopByHop(t);
}
function onStreamError(this: AttemptStream, err: Error): void {
  this[kAttempt]?.streamError(err);
}
function onStreamClose(this: AttemptStream): void {
  this[kAttempt]?.streamClosed();
}
/** A sink's body data (relayToSink). */
function onStreamData(this: AttemptStream, chunk: Buffer): void {
  const a = this[kAttempt];
  if (a !== undefined && !a.toSink(chunk)) this.pause();
}
function onStreamEnd(this: AttemptStream): void {
  this[kAttempt]?.bodyEnded();
}

/**
 * One attempt as a stream: the receiver is told of the response head when it comes, or of the
 * failure (in a later tick); the response's body is relayed into a BodySink with the stream's
 * events going straight to it (no pipe and no Writable between them: pipe()'s listeners and the
 * Writable's state were per-request costs of the mesh with the h2 hint), or piped into a Writable.
 * State is in fields and the stream's listeners are shared functions (no closures per stream
 * beyond the abort hook's).
 */
class Http2Attempt implements AttemptResponse, BodySource {
  status = 0;
  headers: Headers = NO_HEADERS;
  endStream = false;
  trailerHeaders: Headers | undefined = undefined;
  /** The receiver was told (the head, or the failure). */
  #settled = false;
  /** relayToSink()'s sink, until the body ended or broke. */
  #sink: BodySink | undefined = undefined;
  readonly #onAbort = (): void => this.#aborted();

  constructor(
    private readonly stream: AttemptStream,
    private readonly session: ClientHttp2Session,
    private readonly abort: AbortHook,
    private readonly to: AttemptReceiver,
  ) {
    stream[kAttempt] = this;
    abort.addListener(this.#onAbort);
    stream.on('trailers', onStreamTrailers);
    stream.on('response', onStreamResponse);
    stream.on('error', onStreamError);
    stream.on('close', onStreamClose);
  }

  #fail(err: unknown): void {
    if (this.#settled) return;
    this.#settled = true;
    failAttemptLater(this.to, err);
  }

  #aborted(): void {
    const stream = this.stream;
    if (!stream.closed) stream.close(constants.NGHTTP2_CANCEL);
    this.#fail(this.abort.reason);
  }

  responseHead(h: IncomingHttpHeaders, flags: number): void {
    if (this.#settled) return;
    this.#settled = true;
    const out = stripHopByHop(h, true);
    if (out[L5D_ORIG_PROTO] !== undefined) delete out[L5D_ORIG_PROTO];
    this.status = Number(h[':status']);
    this.headers = out;
    this.endStream = (flags & constants.NGHTTP2_FLAG_END_STREAM) !== 0;
    this.to.attemptResponded(this);
  }

  streamError(err: Error): void {
    if (!this.#settled) {
      const session = this.session;
      this.#fail(session.connecting || !session.socket ? toConnectError(err) : resetError(this.stream, err));
    }
    this.#sinkBroke();
  }

  streamClosed(): void {
    this.abort.removeListener(this.#onAbort);
    // The error is made only when it is needed: an Error's stack costs microseconds.
    if (!this.#settled) this.#fail(resetError(this.stream, undefined));
    // Reset or destroyed before its end: the client sees the response cut short.
    this.#sinkBroke();
  }

  trailers(): Headers | undefined {
    return this.trailerHeaders;
  }

  relay(to: Writable, done: (failed: boolean) => void): void {
    relayStream(this.stream, to, done);
  }

  relayToSink(sink: BodySink): void {
    this.#sink = sink;
    sink.bind(this);
    const stream = this.stream;
    if (stream.readableEnded) {
      this.bodyEnded();
      return;
    }
    stream.on('data', onStreamData);
    // 'end' comes once: on() rather than once() (no wrapper per stream).
    stream.on('end', onStreamEnd);
  }

  /** A body chunk for the sink: false when the client is full (resume() follows). */
  toSink(chunk: Buffer): boolean {
    const sink = this.#sink;
    return sink === undefined || sink.write(chunk);
  }

  bodyEnded(): void {
    const sink = this.#sink;
    if (sink === undefined) return;
    this.#sink = undefined;
    sink.end(this.trailerHeaders);
  }

  #sinkBroke(): void {
    const sink = this.#sink;
    if (sink === undefined) return;
    this.#sink = undefined;
    sink.abort();
  }

  /** BodySource: the client drained. */
  resume(): void {
    this.stream.resume();
  }

  /** BodySource: the client went away (or refused the body): the stream is cancelled. */
  stop(): void {
    this.#sink = undefined;
    this.stream.destroy();
  }

  onBodyData(listener: () => void): void {
    this.stream.on('data', listener);
  }

  discard(): void {
    this.stream.resume();
  }

  cancel(): void {
    this.stream.destroy();
  }
}

/**
 * The error of a stream that ended before its response head, marked unprocessed when the endpoint
 * provably did not process it (unprocessedStream): the logical level may send it again.
 */
function resetError(stream: ClientHttp2Stream, err: Error | undefined): ProxyError {
  const why = unprocessedStream(stream);
  const message =
    why === 'refused'
      ? 'the endpoint refused the stream without processing it (REFUSED_STREAM)'
      : why === 'never-opened'
        ? `the connection closed before the stream was opened${err ? `: ${err.message}` : ''}`
        : err
          ? `the endpoint reset the stream: ${err.message}`
          : `the endpoint closed the stream (code ${stream.rstCode})`;
  return new ProxyError(ProxyErrorCode.EndpointReset, message, {
    cause: err,
    unprocessed: why !== undefined,
  });
}

/**
 * Sends `req` as a stream on `session`; `origProto` marks an HTTP/1 request carried over HTTP/2.
 * `to` is told of the response head, or of the failure in a later tick.
 */
export function sendHttp2(
  session: ClientHttp2Session,
  req: AttemptRequest,
  abort: AbortHook,
  origProto: string | undefined,
  to: AttemptReceiver,
): void {
  if (abort.aborted) {
    failAttemptLater(to, abort.reason);
    return;
  }
  const headers: Headers = {};
  const from = req.headers;
  for (const k in from)
    if (!HTTP2_FORBIDDEN.has(k) && k.charCodeAt(0) !== 0x3a /* ':' */)
      headers[k] = from[k] as string | string[];
  headers[':method'] = req.method;
  headers[':path'] = req.path;
  headers[':authority'] = req.authority;
  headers[':scheme'] = 'http';
  if (origProto !== undefined) headers[L5D_ORIG_PROTO] = origProto;
  const body = req.body;
  let stream: ClientHttp2Stream;
  try {
    // Shared frozen options: a fresh literal kept every stream past its scavenges (61b4581).
    stream = session.request(
      headers,
      http2RequestOptions(body === null || (Buffer.isBuffer(body) && body.length === 0)),
    );
  } catch (err) {
    failAttemptLater(to, toConnectError(err));
    return;
  }
  new Http2Attempt(stream, session, abort, to);
  if (Buffer.isBuffer(body)) {
    if (body.length > 0) stream.end(body);
  } else if (body) {
    body.pipe(stream);
  }
}
