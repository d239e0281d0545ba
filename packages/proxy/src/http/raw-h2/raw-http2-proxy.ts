// The HTTP/2 proxy on the raw engine: accepted connections are served by H2Connection, each stream
// routed as createHttp2Proxy (http2-proxy.ts) routes node:http2's — redirects, policy rejections
// (gRPC callers get a trailers-only answer with the gRPC status), Linkerd's HTTP/1 carriage
// downgraded to the app, everything else forwarded on the target's shared upstream connection.
import type { Socket } from 'node:net';
import { ProxyErrorLabel } from '@tsmesh/core/data-plane';
import { formatGrpcMessage } from '../../errors/index.js';
import { L5D_PROXY_ERROR } from '../headers.js';
import type { Http2Proxy, Http2ProxyOptions } from '../http2-proxy.js';
import { L5D_ORIG_PROTO, parseOrigProto } from '../orig-proto.js';
import { UpstreamConnections } from '../raw-h1/upstream-connections.js';
import { H2Connection, type H2ConnectionOwner, type H2LocalSettings } from './connection.js';
import { RawDowngradedExchange } from './downgraded-stream.js';
import { headersOfFields, forwardedFields } from './field-list.js';
import { proxyErrorFields, RawH2Forward } from './forward.js';
import { H2Error } from './frames.js';
import type { H2Stream } from './stream.js';
import { RawH2Sessions } from './upstream-sessions.js';

/** One accepted connection: its owner, knowing the connection's context for routing. */
class AcceptedConnection<C> implements H2ConnectionOwner {
  constructor(
    readonly proxy: RawHttp2Proxy<C>,
    readonly conn: C,
  ) {}

  h2Stream(_connection: H2Connection, stream: H2Stream, fields: string[], endStream: boolean): void {
    this.proxy.stream(this.conn, stream, fields, endStream);
  }

  h2Goaway(): void {}

  h2Closed(connection: H2Connection): void {
    this.proxy.accepted.delete(connection);
  }

  h2ProtocolError(_connection: H2Connection, message: string): void {
    this.proxy.options.onClientError?.(new Error(`HTTP/2 client: ${message}`));
  }
}

class RawHttp2Proxy<C> implements Http2Proxy<C> {
  readonly accepted = new Set<H2Connection>();
  readonly #settings: Partial<H2LocalSettings>;
  readonly #sessions: RawH2Sessions;
  // HTTP/1 upstream for streams a peer proxy upgraded (l5d-orig-proto), made on first use.
  #rawUpstreams: UpstreamConnections | undefined;

  constructor(readonly options: Http2ProxyOptions<C>) {
    const settings: Partial<H2LocalSettings> = {};
    if (options.initialStreamWindowSize !== undefined)
      settings.initialWindowSize = options.initialStreamWindowSize;
    if (options.initialConnectionWindowSize !== undefined) {
      settings.connectionWindowSize = options.initialConnectionWindowSize;
    }
    this.#settings = settings;
    this.#sessions = new RawH2Sessions({
      connectTimeoutMs: options.connectTimeoutMs,
      meshTls: options.meshTls,
      settings,
      onError: options.onClientError,
    });
  }

  accept(socket: Socket, head: Buffer, conn: C): void {
    const connection = new H2Connection(socket, new AcceptedConnection(this, conn), true, this.#settings, {
      keepAlive: this.options.keepAlive,
    });
    this.accepted.add(connection);
    connection.receiveInitial(head);
    // Detection may have left the socket paused.
    socket.resume();
  }

  stream(conn: C, stream: H2Stream, fields: string[], endStream: boolean): void {
    const unclaimed = stream.handler;
    this.#route(conn, stream, fields, endStream);
    // Answered without the body: the client may stop sending it (RFC 9113 §8.1).
    if (!endStream && stream.handler === unclaimed && !stream.closed) stream.reset(H2Error.NO_ERROR);
  }

  #route(conn: C, stream: H2Stream, fields: string[], endStream: boolean): void {
    const headers = headersOfFields(fields);
    const options = this.options;
    const ctx = options.route(headers, conn);
    if (ctx.redirect !== undefined) {
      ctx.onResponse?.(ctx.redirect.statusCode, undefined, undefined);
      stream.respond([':status', String(ctx.redirect.statusCode), 'location', ctx.redirect.location], true);
      return;
    }
    if (ctx.reject !== undefined) {
      // gRPC clients get a trailers-only response with the error's gRPC status (an unauthorized
      // call is PERMISSION_DENIED); others the error's HTTP status.
      const err = ctx.reject;
      const grpc = String(headers['content-type'] ?? '').startsWith('application/grpc');
      ctx.onResponse?.(grpc ? 200 : err.httpStatus, grpc ? err.info.grpcStatus : undefined, undefined);
      stream.respond(
        grpc
          ? [
              ':status',
              '200',
              'content-type',
              'application/grpc',
              'grpc-status',
              String(err.info.grpcStatus),
              'grpc-message',
              formatGrpcMessage(err.message),
              L5D_PROXY_ERROR,
              err.headerValue(),
            ]
          : [':status', String(err.httpStatus), L5D_PROXY_ERROR, err.headerValue()],
        true,
      );
      return;
    }
    if (ctx.target === undefined) {
      ctx.onResponse?.(400, undefined, ProxyErrorLabel.Unexpected);
      stream.respond(
        proxyErrorFields(400, 'no target for this request (missing or invalid :authority)'),
        true,
      );
      return;
    }
    const orig = headers[L5D_ORIG_PROTO];
    if (options.downgradeOrigProto !== false && orig !== undefined) {
      const proto = parseOrigProto(orig);
      if (proto !== undefined) {
        this.#rawUpstreams ??= new UpstreamConnections({ connectTimeoutMs: options.connectTimeoutMs });
        const pool = this.#rawUpstreams.for(ctx.target, ctx.serverIdentity);
        new RawDowngradedExchange(stream, headers, endStream, ctx, proto, pool).start();
        return;
      }
    }
    const reqFields = forwardedFields(fields, ctx.removeHeaders, ctx.addHeaders, L5D_ORIG_PROTO);
    new RawH2Forward(stream, ctx, ctx.target, reqFields, this.#sessions, endStream).start();
  }

  close(): Promise<void> {
    this.#sessions.close();
    for (const c of this.accepted) c.destroy();
    this.accepted.clear();
    this.#rawUpstreams?.close();
    return Promise.resolve();
  }
}

/** createHttp2Proxy on the raw engine (options.http1Engine 'node' is not offered here). */
export function createRawHttp2Proxy<C>(options: Http2ProxyOptions<C>): Http2Proxy<C> {
  return new RawHttp2Proxy(options);
}
