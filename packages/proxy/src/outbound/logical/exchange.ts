// One client request as the logical stack sees it, whichever protocol the app spoke: HTTP/1.1 on
// Node's http server or HTTP/2 on node:http2. The adapters give the stack the request head and
// body, and ways to answer with an endpoint's response or with a proxy error (Linkerd's
// `l5d-proxy-error` header; gRPC clients get a trailers-only response with grpc-status).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { constants, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import type { Readable } from 'node:stream';
import { PROXY_ERRORS, type ProxyError } from '../../errors/index.js';
import { corkForTick, hasRequestBody, L5D_PROXY_ERROR, stripHopByHop } from '../../http/index.js';
import { AbortHooks, type AbortHook } from '../abort-hook.js';
import type { AttemptResponse, Headers } from '../endpoint/index.js';

/** Who is told, once, how relaying a response to the client ended. */
export interface ResponseReceiver {
  /**
   * `streamError`: the body could not be relayed whole (the client or the endpoint went away);
   * `grpcStatus`: the response's grpc-status (trailers first), undefined when none or when the
   * response was never started.
   */
  responded(streamError: boolean, grpcStatus: number | undefined): void;
}

export interface Exchange {
  readonly method: string;
  readonly path: string;
  readonly authority: string;
  /** Lower-case names, no pseudo-headers, no hop-by-hop headers. */
  readonly headers: Headers;
  readonly http2: boolean;
  readonly grpc: boolean;
  /**
   * The request body, or null when there is none: a Buffer when it was whole before the stack saw
   * the request (nothing to read, and replayable as it is), else a stream.
   */
  readonly body: Readable | Buffer | null;
  /**
   * Aborted when the client goes away or when the stack ends the exchange (abort(), e.g. a route
   * timeout): the balancer's queue and the endpoint client listen to it.
   */
  readonly abortHook: AbortHook;
  /** True once the client went away (the hook is aborted then too). */
  readonly gone: boolean;
  /** Aborts the exchange's hook with a reason (route request and idle timeouts). */
  abort(reason: unknown): void;
  /** The client's address (read only when asked: tap). */
  peer(): { readonly ip: string; readonly port: number };
  readonly headersSent: boolean;
  /**
   * Streams an endpoint's response to the client with `headers` (the response's own, or those
   * with the route's edits applied); `to` is told when it is complete or broken.
   */
  respond(res: AttemptResponse, headers: Headers, to: ResponseReceiver): void;
  /** Answers with a proxy error, or resets when the response has started. */
  fail(err: ProxyError): void;
}

/** A header set's grpc-status as a number (undefined when absent or not a number). */
export function grpcStatusOf(h: Headers | undefined): number | undefined {
  const v = h?.['grpc-status'];
  if (v === undefined) return undefined;
  const n = Number(Array.isArray(v) ? v[0] : v);
  return Number.isFinite(n) ? n : undefined;
}

/** The grpc-status of a relayed response: its trailers', else its head's. */
export function relayedGrpcStatus(up: AttemptResponse): number | undefined {
  return grpcStatusOf(up.trailers()) ?? grpcStatusOf(up.headers);
}

function deliverResponded(to: ResponseReceiver, streamError: boolean, grpcStatus: number | undefined): void {
  to.responded(streamError, grpcStatus);
}

/** Tells `to` in a later tick (a receiver is never called from inside respond()). */
export function respondedLater(
  to: ResponseReceiver,
  streamError: boolean,
  grpcStatus: number | undefined,
): void {
  process.nextTick(deliverResponded, to, streamError, grpcStatus);
}

/** Whether the request's content type is gRPC's. */
export const isGrpc = (h: Record<string, unknown>) =>
  String(h['content-type'] ?? '').startsWith('application/grpc');

export type Peer = { readonly ip: string; readonly port: number };
const NO_PEER: Peer = Object.freeze({ ip: '', port: 0 });

/**
 * The request target in origin form and the authority it names. A client that treats the proxy as
 * an HTTP proxy (`HTTP_PROXY`, `curl -x`) sends the absolute form `http://host:port/path`
 * (RFC 9112 §3.2.2): routes match on the path, the authority comes from the target rather than
 * Host (RFC 9110 §7.2), and the request goes on in origin form, as a proxy forwards it to the
 * origin server (RFC 9112 §3.2.1).
 */
export function originForm(target: string, host: string | undefined): { path: string; authority: string } {
  if (target.charCodeAt(0) === 0x2f /* '/' */ || !/^https?:\/\//i.test(target))
    return { path: target, authority: host ?? '' };
  // Written out rather than through URL, which drops a default port (`:80`) and would rewrite
  // the path's escapes; the authority keeps what the client wrote, the path its exact bytes.
  const start = target.indexOf('//') + 2;
  let end = start;
  while (end < target.length && target[end] !== '/' && target[end] !== '?') end++;
  const authority = target.slice(start, end);
  const rest = target.slice(end);
  return {
    path: rest === '' ? '/' : rest.charCodeAt(0) === 0x3f /* '?' */ ? `/${rest}` : rest,
    authority: authority === '' ? (host ?? '') : authority,
  };
}

/** The abort hook of one exchange, which also knows whether the client went away. */
export class ExchangeAbort extends AbortHooks {
  gone = false;

  clientGone(): void {
    if (this.gone) return;
    this.gone = true;
    this.abort(new Error('the client went away'));
  }
}

/**
 * What both exchanges share: their state is in fields and their behaviour in methods (no closures
 * per request). The hook is an object of its own so that an exchange derived with Object.create
 * (the gateway's rewritten authority) shares it.
 */
abstract class BaseExchange {
  readonly abortHook = new ExchangeAbort();

  get gone(): boolean {
    return this.abortHook.gone;
  }

  abort(reason: unknown): void {
    this.abortHook.abort(reason);
  }
}

const kExchange = Symbol('tsmesh.exchange');
type WithExchange = { [kExchange]?: ExchangeAbort; writableFinished: boolean };

/** The client-side writable's 'close' (one listener function for all exchanges). */
function onClientClose(this: WithExchange): void {
  // A response closes after a complete exchange too; only a close before it ended is the client
  // going away.
  if (!this.writableFinished) this[kExchange]?.clientGone();
}

class Http1Exchange extends BaseExchange implements Exchange {
  readonly method: string;
  readonly path: string;
  readonly authority: string;
  readonly headers: Headers;
  readonly http2 = false;
  readonly grpc: boolean;
  readonly body: Readable | null;

  constructor(
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
  ) {
    super();
    (res as unknown as WithExchange)[kExchange] = this.abortHook;
    res.on('close', onClientClose);
    const headers = stripHopByHop(req.headers);
    this.headers = headers;
    this.method = req.method ?? 'GET';
    const url = req.url ?? '/';
    if (url.charCodeAt(0) === 0x2f /* '/' */) {
      this.path = url;
      this.authority = req.headers.host ?? '';
    } else {
      const target = originForm(url, req.headers.host);
      this.path = target.path;
      this.authority = target.authority;
    }
    this.grpc = isGrpc(headers);
    this.body = hasRequestBody(req) ? req : null;
  }

  peer(): Peer {
    return { ip: this.req.socket.remoteAddress ?? '', port: this.req.socket.remotePort ?? 0 };
  }

  get headersSent(): boolean {
    return this.res.headersSent;
  }

  respond(up: AttemptResponse, headers: Headers, to: ResponseReceiver): void {
    const res = this.res;
    // Corked until the end of this tick: the head and the body's first chunk (usually already
    // received) leave in one write.
    corkForTick(res);
    res.writeHead(up.status, headers);
    up.relay(res, (failed) => to.responded(failed, relayedGrpcStatus(up)));
  }

  fail(err: ProxyError): void {
    const res = this.res;
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.writeHead(err.httpStatus, { 'content-type': 'text/plain', [L5D_PROXY_ERROR]: err.headerValue() });
    res.end(`${err.headerValue()}\n`);
  }
}

export function http1Exchange(req: IncomingMessage, res: ServerResponse): Exchange {
  return new Http1Exchange(req, res);
}

const noop = () => undefined;

class Http2Exchange extends BaseExchange implements Exchange {
  readonly method: string;
  readonly path: string;
  readonly authority: string;
  readonly headers: Headers;
  readonly http2 = true;
  readonly grpc: boolean;
  readonly body: Readable | null;

  constructor(
    private readonly stream: ServerHttp2Stream,
    reqHeaders: IncomingHttpHeaders,
    private readonly peerAddr: Peer,
  ) {
    super();
    stream.on('error', noop);
    (stream as unknown as WithExchange)[kExchange] = this.abortHook;
    stream.on('close', onClientClose);
    const headers = stripHopByHop(reqHeaders, true);
    this.headers = headers;
    this.authority = String(reqHeaders[':authority'] ?? reqHeaders.host ?? '');
    this.method = String(reqHeaders[':method'] ?? 'GET');
    this.path = String(reqHeaders[':path'] ?? '/');
    this.grpc = isGrpc(headers);
    this.body = stream.readableEnded ? null : stream;
  }

  peer(): Peer {
    return this.peerAddr;
  }

  get headersSent(): boolean {
    return this.stream.headersSent;
  }

  respond(up: AttemptResponse, headers: Headers, to: ResponseReceiver): void {
    const stream = this.stream;
    if (stream.destroyed || stream.closed) {
      up.cancel();
      respondedLater(to, true, undefined);
      return;
    }
    const out: Record<string, string | string[] | number> = {
      ...headers,
      ':status': up.status,
    };
    if (up.endStream) {
      stream.respond(out, { endStream: true });
      respondedLater(to, false, grpcStatusOf(up.headers));
      return;
    }
    stream.respond(out, { waitForTrailers: true });
    stream.once('wantTrailers', () => {
      const t = up.trailers();
      if (t && Object.keys(t).length > 0) stream.sendTrailers(t);
      else stream.close();
    });
    up.relay(stream, (failed) => to.responded(failed, relayedGrpcStatus(up)));
  }

  fail(err: ProxyError): void {
    const stream = this.stream;
    if (stream.destroyed || stream.closed) return;
    if (stream.headersSent) {
      stream.close(constants.NGHTTP2_CANCEL);
      return;
    }
    if (this.grpc) {
      // A gRPC client understands only grpc-status: a trailers-only response, as Linkerd sends.
      stream.respond(
        {
          ':status': 200,
          'content-type': 'application/grpc',
          'grpc-status': PROXY_ERRORS[err.code].grpcStatus,
          'grpc-message': encodeURIComponent(err.headerValue()),
          [L5D_PROXY_ERROR]: err.headerValue(),
        },
        { endStream: true },
      );
      return;
    }
    stream.respond({ ':status': err.httpStatus, [L5D_PROXY_ERROR]: err.headerValue() }, { endStream: true });
  }
}

/** `peer`: the client's address (the session's socket may be wrapped, e.g. in a replay stream). */
export function http2Exchange(
  stream: ServerHttp2Stream,
  reqHeaders: IncomingHttpHeaders,
  peer: Peer = NO_PEER,
): Exchange {
  return new Http2Exchange(stream, reqHeaders, peer);
}
