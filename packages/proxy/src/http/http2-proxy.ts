// HTTP/2 forwarding with node:http2: each client stream becomes a stream on a shared upstream
// session per target, so flow control is HTTP/2's own on both sides (pipes respect backpressure).
// Trailers are carried (gRPC status), trailers-only responses stay trailers-only, and a reset on
// either side cancels the other (gRPC cancellation and deadlines).
import {
  constants,
  createServer,
  type ClientHttp2Session,
  type ClientHttp2Stream,
  type Http2Server,
  type IncomingHttpHeaders,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import type { Duplex } from 'node:stream';
import { ProxyErrorLabel } from '@tsmesh/core/data-plane';
import { formatGrpcMessage } from '../errors/index.js';
import { http2RequestOptions } from './http2-request-options.js';
import { L5D_PROXY_ERROR, stripHopByHop } from './headers.js';
import type { Socket } from 'node:net';
import type { MeshTls } from '../tls/index.js';
import type { HttpRequestContext } from './request-context.js';
import { L5D_ORIG_PROTO, parseOrigProto } from './orig-proto.js';
import { forwardDowngraded } from './orig-proto-downgrade.js';
import { MAX_UNPROCESSED_RESENDS, unprocessedStream } from './unprocessed-stream.js';
import {
  createHttp1Pools,
  createHttp2Sessions,
  type Http1Pools,
  type Http2Sessions,
} from './upstream-pools.js';
import type { UpstreamTarget } from './upstream-target.js';
import { DowngradedExchange } from './raw-h1/downgraded-exchange.js';
import { UpstreamConnections } from './raw-h1/upstream-connections.js';

export interface Http2ProxyOptions<C> {
  route(headers: IncomingHttpHeaders, conn: C | undefined): HttpRequestContext;
  readonly connectTimeoutMs: number;
  readonly initialStreamWindowSize?: number;
  readonly initialConnectionWindowSize?: number;
  onClientError?(err: Error): void;
  /** Mesh TLS for targets with a serverIdentity. */
  readonly meshTls?: MeshTls;
  /**
   * Streams carrying `l5d-orig-proto` (HTTP/1 requests a peer proxy upgraded) go to the target
   * as HTTP/1 again, and their responses say the app's version in `l5d-orig-proto`. On by
   * default (the inbound side); the outbound side turns it off.
   */
  readonly downgradeOrigProto?: boolean;
  /**
   * The HTTP/1.1 client of those downgraded streams: `raw` (raw-h1's keep-alive connections, the
   * default) or `node` (undici pools).
   */
  readonly http1Engine?: 'raw' | 'node';
  /**
   * Keep-alive PINGs on accepted connections (linkerd2-proxy's
   * `*_SERVER_HTTP2_KEEP_ALIVE_{INTERVAL,TIMEOUT}`): after `intervalMs` (the raw engine: without a
   * read; node:http2: every interval) a PING, and a connection whose PING is not acknowledged
   * within `timeoutMs` is closed.
   */
  readonly keepAlive?: Http2KeepAlive;
}

export interface Http2KeepAlive {
  readonly intervalMs: number;
  readonly timeoutMs: number;
}

export interface Http2Proxy<C> {
  /** Feed an accepted socket to the server, with the bytes detection already read from it. */
  accept(socket: Socket, head: Buffer, conn: C): void;
  close(): Promise<void>;
}

const { NGHTTP2_CANCEL, NGHTTP2_REFUSED_STREAM } = constants;

/** node:http2's side of Http2ProxyOptions.keepAlive: a PING every interval, closed when unanswered. */
function keepSessionAlive(session: ServerHttp2Session, { intervalMs, timeoutMs }: Http2KeepAlive): void {
  let deadline: NodeJS.Timeout | undefined;
  const timer = setInterval(() => {
    if (deadline !== undefined || session.destroyed) return;
    deadline = setTimeout(
      () =>
        session.destroy(
          new Error(
            `HTTP/2 keep-alive: a PING left unanswered for ${timeoutMs}ms (sent every ${intervalMs}ms)`,
          ),
        ),
      timeoutMs,
    );
    deadline.unref();
    try {
      session.ping(() => {
        clearTimeout(deadline);
        deadline = undefined;
      });
    } catch {
      // Too many PINGs in flight, or the session is closing: the deadline decides.
    }
  }, intervalMs);
  timer.unref();
  session.once('close', () => {
    clearInterval(timer);
    clearTimeout(deadline);
  });
}
const noop = () => undefined;
const NO_TRAILERS: IncomingHttpHeaders = Object.freeze({}) as IncomingHttpHeaders;

/** What the client is told (l5d-proxy-error) when an upstream stream failed before its response. */
function upstreamFailure(upstream: ClientHttp2Stream): string {
  if (unprocessedStream(upstream) === 'refused')
    return 'upstream refused the stream without processing it (REFUSED_STREAM)';
  const code = upstream.id === undefined ? undefined : upstream.rstCode;
  return code ? `upstream reset the stream (code ${code})` : 'upstream connection failed';
}

/** The forward a client stream or an upstream stream belongs to (the listeners are shared). */
const kForward = Symbol('tsmesh.http2Forward');
type ForwardStream = (ServerHttp2Stream | ClientHttp2Stream) & { [kForward]?: Http2Forward };

function onClientWantTrailers(this: ForwardStream): void {
  this[kForward]?.clientWantsTrailers();
}
function onClientClose(this: ForwardStream): void {
  this[kForward]?.clientClosed();
}
function onClientData(this: ForwardStream, chunk: Buffer): void {
  this[kForward]?.requestData(chunk);
}
function onClientEnd(this: ForwardStream): void {
  this[kForward]?.current?.end();
}
function onClientDrain(this: ForwardStream): void {
  this[kForward]?.clientDrained();
}
function onUpstreamResponse(this: ClientHttp2Stream, h: IncomingHttpHeaders, flags: number): void {
  (this as ForwardStream)[kForward]?.upstreamResponse(this, h, flags);
}
function onUpstreamTrailers(this: ClientHttp2Stream, t: IncomingHttpHeaders): void {
  const f = (this as ForwardStream)[kForward];
  if (f !== undefined && f.current === this) f.trailers = t;
}
function onUpstreamError(this: ClientHttp2Stream): void {
  (this as ForwardStream)[kForward]?.upstreamError(this);
}
function onUpstreamClose(this: ClientHttp2Stream): void {
  (this as ForwardStream)[kForward]?.upstreamClosed(this);
}
function onUpstreamData(this: ClientHttp2Stream, chunk: Buffer): void {
  (this as ForwardStream)[kForward]?.responseData(this, chunk);
}
function onUpstreamEnd(this: ClientHttp2Stream): void {
  (this as ForwardStream)[kForward]?.upstreamEnd(this);
}
function onUpstreamDrain(this: ClientHttp2Stream): void {
  (this as ForwardStream)[kForward]?.upstreamDrained(this);
}

/**
 * The client's stream as a stream on the target's session, the response relayed back. A request
 * whose HEADERS ended it (no body: it can be sent again as it is) goes again, on the target's
 * live session, when the upstream closed its stream before any response and provably did not
 * process it (RFC 9113 §8.7: REFUSED_STREAM, above a GOAWAY's last stream id, never opened) — at
 * most MAX_UNPROCESSED_RESENDS times, and not once the client has gone away. The request is
 * reported (onResponse) once, whatever happened.
 *
 * One object per request: the streams' listeners are module functions that find it through a
 * symbol on the stream, and the bodies are relayed by them with each side's backpressure (pipe()
 * made seven closures per direction and stream; closures per request were most of what the
 * HTTP/2 path kept alive across young-generation collections).
 */
class Http2Forward {
  status: number | undefined = undefined;
  trailers: IncomingHttpHeaders = NO_TRAILERS;
  /** The upstream stream of the request's current sending (a resend replaces it). */
  current: ClientHttp2Stream | undefined = undefined;
  #session: ClientHttp2Session | undefined = undefined;
  #reported = false;
  /** Once the upstream response is complete there is nothing to cancel. */
  #upstreamEnded = false;
  #resends = 0;
  /** The response relay waits for the client to drain. */
  #waitingClient = false;
  /** The request body relay waits for the upstream to drain. */
  #waitingUpstream = false;
  readonly #bodiless: boolean;

  constructor(
    readonly stream: ServerHttp2Stream,
    private readonly ctx: HttpRequestContext,
    private readonly target: UpstreamTarget,
    private readonly reqHeaders: Record<string, string | string[]>,
    private readonly sessions: Http2Sessions,
  ) {
    this.#bodiless = stream.endAfterHeaders;
    (stream as ForwardStream)[kForward] = this;
    stream.on('wantTrailers', onClientWantTrailers);
    stream.on('close', onClientClose);
  }

  #report(error: string | undefined, code = this.status): void {
    if (this.#reported) return;
    this.#reported = true;
    const grpc = this.trailers['grpc-status'] as string | undefined;
    this.ctx.onResponse?.(code, grpc === undefined ? undefined : Number(grpc), error);
  }

  /** A 502 before the response head; after it, the client's stream is reset with `rstCode`. */
  #fail(message: string, rstCode = NGHTTP2_CANCEL): void {
    this.#report(ProxyErrorLabel.Io, this.status ?? 502);
    const stream = this.stream;
    if (stream.destroyed || stream.closed) return;
    if (stream.headersSent) stream.close(rstCode);
    else stream.respond({ ':status': 502, [L5D_PROXY_ERROR]: message }, { endStream: true });
  }

  /** Sends the request upstream and relays its body there (a bodiless one's empty end is read). */
  start(): void {
    this.#send();
    const stream = this.stream;
    if (this.#bodiless) {
      stream.resume();
      return;
    }
    stream.on('data', onClientData);
    stream.on('end', onClientEnd);
  }

  /** Opens the upstream stream (again, for a resend). */
  #send(): void {
    let session: ClientHttp2Session;
    let upstream: ClientHttp2Stream;
    try {
      session = this.sessions.get(this.target, this.ctx.serverIdentity);
      upstream = session.request(this.reqHeaders, http2RequestOptions(this.#bodiless));
    } catch {
      this.#fail('upstream connection failed');
      return;
    }
    this.current = upstream;
    this.#session = session;
    (upstream as ForwardStream)[kForward] = this;
    upstream.on('response', onUpstreamResponse);
    upstream.on('trailers', onUpstreamTrailers);
    upstream.on('error', onUpstreamError);
    upstream.on('close', onUpstreamClose);
  }

  /** Request body bytes for the upstream (a request with a body is never resent). */
  requestData(chunk: Buffer): void {
    const up = this.current;
    if (up === undefined || up.destroyed) return;
    if (!up.write(chunk) && !this.#waitingUpstream) {
      this.#waitingUpstream = true;
      this.stream.pause();
      up.once('drain', onUpstreamDrain);
    }
  }

  upstreamDrained(upstream: ClientHttp2Stream): void {
    if (upstream !== this.current) return;
    this.#waitingUpstream = false;
    if (!this.stream.destroyed) this.stream.resume();
  }

  /** Sends the request again when `upstream` was not processed; true when it was (or is). */
  #resent(upstream: ClientHttp2Stream): boolean {
    if (upstream !== this.current) return true;
    const stream = this.stream;
    if (!this.#bodiless || this.#resends >= MAX_UNPROCESSED_RESENDS || this.status !== undefined)
      return false;
    if (this.#reported || stream.closed || stream.destroyed) return false;
    const why = unprocessedStream(upstream);
    // Never opened on a session that never connected is a failed connect, not a peer going
    // away: the same target would likely fail again, and a timeout would make the client wait
    // for it once more.
    if (why === undefined || (why === 'never-opened' && this.#session?.connecting === true)) return false;
    this.#resends++;
    this.#send();
    return true;
  }

  upstreamResponse(upstream: ClientHttp2Stream, h: IncomingHttpHeaders, flags: number): void {
    if (upstream !== this.current) return;
    const stream = this.stream;
    this.status = Number(h[':status']);
    const out = stripHopByHop(h);
    if ((flags & constants.NGHTTP2_FLAG_END_STREAM) !== 0) {
      // Trailers-only (e.g. a gRPC error): keep it one HEADERS frame with END_STREAM.
      this.trailers = h;
      this.#upstreamEnded = true;
      if (!stream.closed) stream.respond(out, { endStream: true });
      this.#report(undefined);
      return;
    }
    if (stream.closed) return;
    stream.respond(out, { waitForTrailers: true });
    upstream.on('data', onUpstreamData);
    // 'end' comes once: on() rather than once() (no wrapper per stream).
    upstream.on('end', onUpstreamEnd);
  }

  responseData(upstream: ClientHttp2Stream, chunk: Buffer): void {
    const stream = this.stream;
    if (stream.destroyed || stream.closed) return;
    if (!stream.write(chunk) && !this.#waitingClient) {
      this.#waitingClient = true;
      upstream.pause();
      stream.once('drain', onClientDrain);
    }
  }

  clientDrained(): void {
    this.#waitingClient = false;
    this.current?.resume();
  }

  upstreamEnd(upstream: ClientHttp2Stream): void {
    if (upstream !== this.current) return;
    this.#upstreamEnded = true;
    // The client's stream ends after its data; node:http2 then asks for its trailers.
    if (!this.stream.destroyed && !this.stream.closed) this.stream.end();
  }

  upstreamError(upstream: ClientHttp2Stream): void {
    if (!this.#resent(upstream)) this.#fail(upstreamFailure(upstream));
  }

  upstreamClosed(upstream: ClientHttp2Stream): void {
    if (this.#resent(upstream)) return;
    // A reset from upstream (e.g. the server cancelled) is passed on; REFUSED_STREAM is not,
    // as the stream was processed once its response began.
    const code = upstream.rstCode;
    if (code !== undefined && code !== 0)
      this.#fail(upstreamFailure(upstream), code === NGHTTP2_REFUSED_STREAM ? NGHTTP2_CANCEL : code);
  }

  clientWantsTrailers(): void {
    // No trailers: an empty set makes node:http2 end the stream with an empty DATA frame
    // flagged END_STREAM (close() would reset it, and clients count the request as failed).
    this.stream.sendTrailers(stripHopByHop(this.trailers));
    this.#report(undefined);
  }

  clientClosed(): void {
    // The client went away or cancelled: cancel upstream too. Once the upstream response is
    // complete there is nothing to cancel: a reset then would only cost a frame, and resets by
    // the thousand make a peer end the session (nghttp2's rapid-reset limit answers GOAWAY
    // INTERNAL_ERROR).
    const current = this.current;
    if (current !== undefined && !current.closed && !this.#upstreamEnded) current.close(NGHTTP2_CANCEL);
    this.#report(this.stream.rstCode ? ProxyErrorLabel.Io : undefined);
  }
}

export function createHttp2Proxy<C>(options: Http2ProxyOptions<C>): Http2Proxy<C> {
  // The server emits 'session' synchronously inside emit('connection'): that is where a session
  // learns its connection's context.
  const conns = new WeakMap<object, C>();
  let pending: { conn: C } | undefined;
  const settings = {
    initialWindowSize: options.initialStreamWindowSize ?? 65_535,
    enablePush: false,
  };
  const sessions = createHttp2Sessions({
    connectTimeoutMs: options.connectTimeoutMs,
    meshTls: options.meshTls,
    settings,
    initialConnectionWindowSize: options.initialConnectionWindowSize,
  });
  // HTTP/1 upstream for streams a peer proxy upgraded (l5d-orig-proto), made on first use.
  let http1Pools: Http1Pools | undefined;
  let rawUpstreams: UpstreamConnections | undefined;

  const onStream = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
    const ctx = options.route(headers, conns.get(stream.session as object));
    stream.on('error', noop);
    const respondError = (status: number, label: string, message: string) => {
      ctx.onResponse?.(status, undefined, label);
      if (stream.destroyed || stream.closed) return;
      if (stream.headersSent) {
        stream.close(NGHTTP2_CANCEL);
        return;
      }
      stream.respond({ ':status': status, [L5D_PROXY_ERROR]: message }, { endStream: true });
    };
    if (ctx.redirect !== undefined) {
      ctx.onResponse?.(ctx.redirect.statusCode, undefined, undefined);
      if (!stream.destroyed && !stream.closed) {
        stream.respond(
          { ':status': ctx.redirect.statusCode, location: ctx.redirect.location },
          { endStream: true },
        );
      }
      return;
    }
    if (ctx.reject !== undefined) {
      // gRPC clients get a trailers-only response with the error's gRPC status (e.g. an
      // unauthorized call is PERMISSION_DENIED); others the error's HTTP status.
      const err = ctx.reject;
      const grpc = String(headers['content-type'] ?? '').startsWith('application/grpc');
      ctx.onResponse?.(grpc ? 200 : err.httpStatus, grpc ? err.info.grpcStatus : undefined, undefined);
      if (stream.destroyed || stream.closed) return;
      stream.respond(
        grpc
          ? {
              ':status': 200,
              'content-type': 'application/grpc',
              'grpc-status': String(err.info.grpcStatus),
              'grpc-message': formatGrpcMessage(err.message),
              [L5D_PROXY_ERROR]: err.headerValue(),
            }
          : { ':status': err.httpStatus, [L5D_PROXY_ERROR]: err.headerValue() },
        { endStream: true },
      );
      return;
    }
    if (ctx.target === undefined) {
      respondError(
        400,
        ProxyErrorLabel.Unexpected,
        'no target for this request (missing or invalid :authority)',
      );
      return;
    }
    if (options.downgradeOrigProto !== false && headers[L5D_ORIG_PROTO] !== undefined) {
      const orig = parseOrigProto(headers[L5D_ORIG_PROTO]);
      if (orig !== undefined) {
        if (options.http1Engine === 'node') {
          http1Pools ??= createHttp1Pools({ connectTimeoutMs: options.connectTimeoutMs });
          forwardDowngraded(stream, headers, ctx, orig, http1Pools.get(ctx.target, ctx.serverIdentity));
        } else {
          rawUpstreams ??= new UpstreamConnections({ connectTimeoutMs: options.connectTimeoutMs });
          const upstream = rawUpstreams.for(ctx.target, ctx.serverIdentity);
          new DowngradedExchange(stream, headers, ctx, orig, upstream).start();
        }
        return;
      }
    }
    const reqHeaders = stripHopByHop(headers) as Record<string, string | string[]>;
    delete reqHeaders[L5D_ORIG_PROTO];
    for (const h of ctx.removeHeaders ?? []) delete reqHeaders[h];
    if (ctx.addHeaders) Object.assign(reqHeaders, ctx.addHeaders);
    new Http2Forward(stream, ctx, ctx.target, reqHeaders, sessions).start();
  };

  const server: Http2Server = createServer({ settings });
  server.on('stream', onStream);
  server.on('sessionError', (err) => options.onClientError?.(err));
  server.on('session', (session) => {
    if (pending) conns.set(session, pending.conn);
    session.on('error', (err) => options.onClientError?.(err));
    if (options.keepAlive) keepSessionAlive(session, options.keepAlive);
    if (options.initialConnectionWindowSize) {
      session.once('localSettings', () => {
        try {
          session.setLocalWindowSize(options.initialConnectionWindowSize as number);
        } catch {
          // The session may already be gone.
        }
      });
    }
  });
  const accepted = new Set<Duplex>();

  return {
    accept(socket, head, conn) {
      // node:http2 reads what is already buffered in the socket before its handle, so the bytes
      // detection read go back into the socket and the session runs on the native handle — a
      // TCP socket, or a mesh TLS socket (no JS stream in between: mesh TLS marks accepted
      // sockets as connected, which node:http2 waits for).
      const stream: Duplex = socket;
      if (head.length > 0) socket.unshift(head);
      accepted.add(stream);
      stream.once('close', () => accepted.delete(stream));
      pending = { conn };
      try {
        server.emit('connection', stream);
      } finally {
        pending = undefined;
      }
    },
    async close() {
      sessions.close();
      for (const s of accepted) s.destroy();
      rawUpstreams?.close();
      await http1Pools?.close();
    },
  };
}
