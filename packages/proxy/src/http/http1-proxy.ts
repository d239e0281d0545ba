// HTTP/1.1 forwarding built for speed: the client side is Node's http server (fed sockets that
// detection already classified), the upstream side is undici's Pool — keep-alive connections
// reused per target, about twice the throughput of Node's http client. Bodies stream both ways
// (chunked or sized, any length); Upgrade (WebSocket) becomes a raw socket pipe after the
// request head. To a peer proxy that accepts HTTP/2 (discovery's h2 hint), requests travel as
// streams on one HTTP/2 connection instead, marked with Linkerd's `l5d-orig-proto`.
import { constants as h2constants, type ClientHttp2Stream, type IncomingHttpHeaders } from 'node:http2';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { ProxyErrorLabel } from '@tsmesh/core/data-plane';
import { connectTcp } from '../transport/index.js';
import { forwardTcp } from '../transport/index.js';
import { connectionNamed, isHopByHop, L5D_PROXY_ERROR } from './headers.js';
import { corkForTick, hasRequestBody } from './http1-message.js';
import { canCarryOverHttp2, L5D_ORIG_PROTO, upgradedRequestHeaders } from './orig-proto.js';
import { http2RequestOptions } from './http2-request-options.js';
import { ResponseRelay } from './response-relay.js';
import { MAX_UNPROCESSED_RESENDS, unprocessedStream } from './unprocessed-stream.js';
import { carriageSessions, createHttp1Pools } from './upstream-pools.js';
import type { MeshTls } from '../tls/index.js';
import type { Http1RequestView, HttpRequestContext } from './request-context.js';
import type { UpstreamTarget } from './upstream-target.js';

export type { Http1RequestView, HttpRequestContext } from './request-context.js';

export interface Http1ProxyOptions<C> {
  /** Called once per request with its connection's context, before anything is sent upstream. */
  route(req: Http1RequestView, conn: C | undefined): HttpRequestContext;
  readonly connectTimeoutMs: number;
  /** Idle upstream connections are closed after this (linkerd2-proxy: 3s). */
  readonly idleTimeoutMs?: number;
  /** Most upstream connections per target. */
  readonly maxConnectionsPerTarget?: number;
  /** A malformed request or another client-side error. */
  onClientError?(err: Error): void;
  /** Mesh TLS for targets with a serverIdentity. */
  readonly meshTls?: MeshTls;
  /** HTTP/2 settings of the sessions that carry upgraded requests. */
  readonly initialStreamWindowSize?: number;
  readonly initialConnectionWindowSize?: number;
}

export interface Http1Proxy<C> {
  /** Feed an accepted socket to the server, with the bytes detection already read from it. */
  accept(socket: Socket, head: Buffer, conn: C): void;
  close(): Promise<void>;
}

function fail(res: ServerResponse, ctx: HttpRequestContext, status: number, label: string, message: string) {
  ctx.onResponse?.(status, undefined, label);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { 'content-type': 'text/plain', [L5D_PROXY_ERROR]: message, connection: 'close' });
  res.end(`${message}\n`);
}

const latin1 = (b: Buffer | string | undefined): string =>
  b === undefined ? '' : typeof b === 'string' ? b : b.toString('latin1');

/** The client's headers for upstream, as a flat [name, value, …] list (no object per request). */
function requestHeaders(
  raw: readonly string[],
  remove: readonly string[] | undefined,
  add: Readonly<Record<string, string>> | undefined,
): string[] {
  const out: string[] = [];
  const named = connectionNamed(raw);
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    const lower = name.toLowerCase();
    if (isHopByHop(lower) || named?.has(lower) || remove?.includes(lower)) continue;
    out.push(name, raw[i + 1] as string);
  }
  if (add) for (const k in add) out.push(k, add[k] as string);
  return out;
}

/**
 * One forwarded request, as undici's dispatch handler: the response is written to the client as
 * it arrives.
 */
class ForwardHandler extends ResponseRelay<ServerResponse> {
  onHeaders(statusCode: number, raw: Buffer[], resume: () => void): boolean {
    if (statusCode < 200) return true; // 1xx: the client's server sends its own 100-continue.
    this.status = statusCode;
    this.resume = resume;
    const res = this.out;
    if (res.destroyed) return false;
    // Head and body of a small response leave in one write (one TLS record, one syscall):
    // corked until res.end() or, for a streamed body, the end of this tick.
    corkForTick(res);
    try {
      res.writeHead(statusCode, responseHeaders(raw, this));
    } catch {
      // A header Node refuses to send (the parser let it through): answer 502, keep serving.
      this.status = undefined;
      this.onError(new Error('invalid response header from upstream'));
      this.abort?.();
      return false;
    }
    return true;
  }

  /** Seen while copying response headers (a trailers-only gRPC error over HTTP/1). */
  setGrpcStatus(value: string) {
    this.grpcStatus = value;
  }

  // undici passes the raw trailer lines (Buffers, though its types say strings).
  onComplete(trailers: readonly (Buffer | string)[] | null) {
    if (this.done) return;
    if (trailers) {
      for (let i = 0; i < trailers.length; i += 2) {
        if (latin1(trailers[i]).toLowerCase() === 'grpc-status') this.grpcStatus = latin1(trailers[i + 1]);
      }
    }
    this.out.end();
    this.finish(undefined);
  }

  onError(err: Error) {
    if (this.status !== undefined) {
      if (this.finish(ProxyErrorLabel.Io)) this.out.destroy();
      return;
    }
    if (this.done) return;
    this.done = true;
    const timeout = (err as { code?: string }).code === 'UND_ERR_CONNECT_TIMEOUT';
    fail(
      this.out,
      this.ctx,
      502,
      ProxyErrorLabel.Io,
      timeout ? 'connect timed out' : 'upstream connection failed',
    );
  }
}

/** Upstream response headers for the client, as a flat list without hop-by-hop ones. */
function responseHeaders(raw: Buffer[], handler: ForwardHandler): string[] {
  const out: string[] = [];
  let named: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = (raw[i] as Buffer).toString('latin1');
    const lower = name.toLowerCase();
    const value = (raw[i + 1] as Buffer).toString('latin1');
    if (lower === 'connection') {
      named ??= new Set();
      for (const n of value.split(',')) named.add(n.trim().toLowerCase());
      continue;
    }
    if (isHopByHop(lower)) continue;
    if (lower === 'grpc-status') handler.setGrpcStatus(value);
    out.push(name, value);
  }
  if (named === undefined) return out;
  const kept: string[] = [];
  for (let i = 0; i < out.length; i += 2)
    if (!named.has((out[i] as string).toLowerCase())) kept.push(out[i] as string, out[i + 1] as string);
  return kept;
}

/**
 * An HTTP/1 request carried as an HTTP/2 stream: the stream's response goes back to the client
 * in HTTP/1 (without `l5d-orig-proto`), and either side going away cancels the other. `resend`
 * (given when the request can be sent again) takes over when the peer did not process the stream;
 * it returns false when it cannot.
 */
function relayUpgraded(
  req: IncomingMessage,
  res: ServerResponse,
  ctx: HttpRequestContext,
  upstream: ClientHttp2Stream,
  body: boolean,
  resend: (() => boolean) | undefined,
): void {
  let status: number | undefined;
  let grpcStatus: number | undefined;
  let done = false;
  const report = (error: string | undefined) => {
    if (done) return;
    done = true;
    ctx.onResponse?.(status, grpcStatus, error);
  };
  const failed = (message: string) => {
    if (done) return;
    if (status === undefined) {
      done = true;
      fail(res, ctx, 502, ProxyErrorLabel.Io, message);
      return;
    }
    report(ProxyErrorLabel.Io);
    res.destroy();
  };
  upstream.on('response', (h: IncomingHttpHeaders, flags: number) => {
    const code = Number(h[':status']);
    if (res.destroyed) return;
    // A flat [name, value, …] list: writeHead stores it without per-header validation calls.
    const out: string[] = [];
    for (const k in h) {
      if (k.charCodeAt(0) === 58 /* : */ || k === L5D_ORIG_PROTO || isHopByHop(k)) continue;
      const v = h[k];
      if (typeof v === 'string') out.push(k, v);
      else if (v !== undefined) for (const x of v) out.push(k, x);
    }
    corkForTick(res);
    try {
      res.writeHead(code, out);
    } catch {
      failed('invalid response header from upstream');
      upstream.close(h2constants.NGHTTP2_CANCEL);
      return;
    }
    status = code;
    const g = h['grpc-status'];
    if (typeof g === 'string') grpcStatus = Number(g);
    if ((flags & h2constants.NGHTTP2_FLAG_END_STREAM) !== 0) {
      res.end();
      report(undefined);
      return;
    }
    upstream.pipe(res);
  });
  upstream.on('end', () => {
    if (status !== undefined) report(undefined);
  });
  const resent = () => {
    if (done || status !== undefined || resend === undefined || unprocessedStream(upstream) === undefined)
      return false;
    if (!resend()) return false;
    done = true;
    return true;
  };
  upstream.on('error', () => {
    if (!resent()) failed('upstream connection failed');
  });
  upstream.on('close', () => {
    if (!resent()) failed(`upstream reset the stream (code ${upstream.rstCode})`);
  });
  res.once('close', () => {
    // Only an unfinished exchange is cancelled: resetting streams that already ended would make
    // the peer's nghttp2 end the whole session after a burst of them (rapid-reset limit).
    if (done) return;
    if (!upstream.closed) upstream.close(h2constants.NGHTTP2_CANCEL);
    report(ProxyErrorLabel.Io);
  });
  if (body) req.pipe(upstream);
}

export function createHttp1Proxy<C>(options: Http1ProxyOptions<C>): Http1Proxy<C> {
  const conns = new WeakMap<object, C>();
  const pools = createHttp1Pools(options);
  const sessions = carriageSessions(options);

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const ctx = options.route(req, conns.get(req.socket));
    if (ctx.redirect !== undefined) {
      ctx.onResponse?.(ctx.redirect.statusCode, undefined, undefined);
      res.writeHead(ctx.redirect.statusCode, { location: ctx.redirect.location, 'content-length': 0 });
      res.end();
      return;
    }
    if (ctx.reject !== undefined) {
      const status = ctx.reject.httpStatus;
      ctx.onResponse?.(status, undefined, undefined);
      const body = `${ctx.reject.message}\n`;
      res.writeHead(status, {
        'content-type': 'text/plain',
        'content-length': Buffer.byteLength(body),
        [L5D_PROXY_ERROR]: ctx.reject.headerValue(),
      });
      res.end(body);
      return;
    }
    if (ctx.target === undefined) {
      fail(res, ctx, 400, ProxyErrorLabel.Unexpected, 'no target for this request (missing or invalid Host)');
      return;
    }
    if (ctx.upgradeToHttp2 === true && canCarryOverHttp2(req.method, req.headers.upgrade)) {
      forwardOverHttp2(req, res, ctx, ctx.target);
      return;
    }
    const body = hasRequestBody(req) ? req : null;
    const handler = new ForwardHandler(res, ctx);
    pools.get(ctx.target, ctx.serverIdentity).dispatch(
      {
        path: req.url ?? '/',
        method: (req.method ?? 'GET') as 'GET',
        headers: requestHeaders(req.rawHeaders, ctx.removeHeaders, ctx.addHeaders),
        body,
      },
      handler,
    );
  };

  const forwardOverHttp2 = (
    req: IncomingMessage,
    res: ServerResponse,
    ctx: HttpRequestContext,
    target: UpstreamTarget,
    resends = 0,
  ) => {
    const body = hasRequestBody(req);
    let upstream: ClientHttp2Stream;
    try {
      const headers = upgradedRequestHeaders({
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        httpVersion: req.httpVersion,
        rawHeaders: req.rawHeaders,
        remove: ctx.removeHeaders,
        add: ctx.addHeaders,
        defaultAuthority: target.host.includes(':')
          ? `[${target.host}]:${target.port}`
          : `${target.host}:${target.port}`,
      });
      upstream = sessions.get().get(target, ctx.serverIdentity).request(headers, http2RequestOptions(!body));
    } catch {
      fail(res, ctx, 502, ProxyErrorLabel.Io, 'upstream connection failed');
      return;
    }
    relayUpgraded(
      req,
      res,
      ctx,
      upstream,
      body,
      // A body has been read into the refused stream: nothing to send again.
      body || resends >= MAX_UNPROCESSED_RESENDS
        ? undefined
        : () => {
            if (res.destroyed || req.socket.destroyed) return false;
            forwardOverHttp2(req, res, ctx, target, resends + 1);
            return true;
          },
    );
  };

  const upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const ctx = options.route(req, conns.get(req.socket));
    if (ctx.target === undefined) {
      socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      ctx.onResponse?.(400, undefined, ProxyErrorLabel.Unexpected);
      return;
    }
    const lines = [`${req.method} ${req.url} HTTP/1.1`];
    for (let i = 0; i < req.rawHeaders.length; i += 2)
      lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
    for (const [k, v] of Object.entries(ctx.addHeaders ?? {})) lines.push(`${k}: ${v}`);
    const preamble = Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1'), head]);
    socket.on('error', () => undefined);
    const target = ctx.target;
    const meshTls = options.meshTls;
    const serverIdentity = ctx.serverIdentity;
    connectTcp({ host: target.host, port: target.port, timeoutMs: options.connectTimeoutMs })
      .then((s): Promise<Duplex> | Duplex =>
        serverIdentity !== undefined && meshTls !== undefined
          ? meshTls.connect(s, serverIdentity, { alpn: ['http/1.1'] })
          : s,
      )
      .then(
        (upstream) => {
          ctx.onResponse?.(101, undefined, undefined);
          void forwardTcp(socket, upstream, preamble);
        },
        () => {
          ctx.onResponse?.(502, undefined, ProxyErrorLabel.Io);
          socket.end('HTTP/1.1 502 Bad Gateway\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
        },
      );
  };

  const server: Server = createServer(
    { keepAlive: true, noDelay: true, requestTimeout: 0, headersTimeout: 60_000 },
    handle,
  );
  server.keepAliveTimeout = 60_000;
  server.on('upgrade', upgrade);
  server.on('clientError', (err: Error & { code?: string }, socket: Duplex) => {
    options.onClientError?.(err);
    if ((socket as { writable?: boolean }).writable && err.code !== 'ECONNRESET') {
      socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    } else {
      socket.destroy();
    }
  });

  return {
    accept(socket, head, conn) {
      conns.set(socket, conn);
      // Node's HTTP server reads the JS stream when bytes are buffered in it: put them back.
      if (head.length > 0) socket.unshift(head);
      server.emit('connection', socket);
      socket.resume();
    },
    async close() {
      server.closeAllConnections();
      sessions.close();
      await pools.close();
    },
  };
}
