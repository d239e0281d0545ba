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
  toConnectError,
  type AttemptRequest,
  type AttemptResponse,
  type BodySink,
  type BodySource,
  type Headers,
} from './attempt.js';

const HTTP2_FORBIDDEN = new Set([
  'host',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
  'proxy-connection',
]);

const noop = () => undefined;

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

/**
 * A response stream's body written into a BodySink (the raw HTTP/1 client side): its data events
 * straight to the sink, paused while the client is full, with no pipe and no Writable between
 * them (pipe()'s listeners and the Writable's state were per-request costs of the mesh with the
 * h2 hint).
 */
class StreamToSink implements BodySource {
  #settled = false;

  constructor(
    private readonly stream: ClientHttp2Stream,
    private readonly sink: BodySink,
    private readonly response: Http2AttemptResponse,
  ) {
    sink.bind(this);
    if (stream.readableEnded) {
      this.#end();
      return;
    }
    stream.on('data', (chunk: Buffer) => {
      if (!this.sink.write(chunk)) this.stream.pause();
    });
    stream.once('end', () => this.#end());
    stream.once('error', () => this.#fail());
    // Reset or destroyed before its end: the client sees the response cut short.
    stream.once('close', () => this.#fail());
  }

  /** BodySource: the client drained. */
  resume(): void {
    this.stream.resume();
  }

  /** BodySource: the client went away (or refused the body): the stream is cancelled. */
  stop(): void {
    this.#settled = true;
    this.stream.destroy();
  }

  #end(): void {
    if (this.#settled) return;
    this.#settled = true;
    this.sink.end(this.response.trailers());
  }

  #fail(): void {
    if (this.#settled) return;
    this.#settled = true;
    this.sink.abort();
  }
}

class Http2AttemptResponse implements AttemptResponse {
  trailerHeaders: Headers | undefined;

  constructor(
    private readonly stream: ClientHttp2Stream,
    readonly status: number,
    readonly headers: Headers,
    readonly endStream: boolean,
  ) {}

  trailers(): Headers | undefined {
    return this.trailerHeaders;
  }

  relay(to: Writable, done: (failed: boolean) => void): void {
    relayStream(this.stream, to, done);
  }

  relayToSink(sink: BodySink): void {
    new StreamToSink(this.stream, sink, this);
  }

  onBodyData(listener: () => void): void {
    this.stream.on('data', listener);
  }

  discard(): void {
    this.stream.on('error', noop);
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

/** Sends `req` as a stream on `session`; `origProto` marks an HTTP/1 request carried over HTTP/2. */
export function sendHttp2(
  session: ClientHttp2Session,
  req: AttemptRequest,
  abort: AbortHook,
  origProto: string | undefined,
): Promise<AttemptResponse> {
  return new Promise((resolve, reject) => {
    if (abort.aborted) {
      reject(abort.reason);
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
      reject(toConnectError(err));
      return;
    }
    let response: Http2AttemptResponse | undefined;
    let settled = false;
    const onAbort = () => {
      if (!stream.closed) stream.close(constants.NGHTTP2_CANCEL);
      if (!settled) {
        settled = true;
        reject(abort.reason);
      }
    };
    abort.addListener(onAbort);
    stream.on('trailers', (t: IncomingHttpHeaders) => {
      if (response) response.trailerHeaders = stripHopByHop(t);
    });
    stream.on('response', (h: IncomingHttpHeaders, flags: number) => {
      if (settled) return;
      settled = true;
      const out = stripHopByHop(h, true);
      if (out[L5D_ORIG_PROTO] !== undefined) delete out[L5D_ORIG_PROTO];
      const endStream = (flags & constants.NGHTTP2_FLAG_END_STREAM) !== 0;
      response = new Http2AttemptResponse(stream, Number(h[':status']), out, endStream);
      resolve(response);
    });
    stream.on('error', (err) => {
      if (settled) return;
      settled = true;
      reject(session.connecting || !session.socket ? toConnectError(err) : resetError(stream, err));
    });
    stream.on('close', () => {
      abort.removeListener(onAbort);
      if (settled) return;
      settled = true;
      reject(resetError(stream, undefined));
    });
    if (Buffer.isBuffer(body)) {
      if (body.length > 0) stream.end(body);
    } else if (body) {
      body.pipe(stream);
    }
  });
}
