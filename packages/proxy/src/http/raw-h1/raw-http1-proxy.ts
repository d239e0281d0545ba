// The raw-socket HTTP/1.1 engine (issue #5): the same contract as ../http1-proxy.ts (route() per
// request, onResponse once per request, proxy-made answers, Upgrade tunnels, HTTP/2 carriage to a
// peer proxy), without node:http or undici. Heads are parsed by head-parser.ts and bodies forwarded
// as bytes by their framing (framing.ts, chunked-decoder.ts), which costs about half the CPU per
// request of node:http + undici (bench/README.md, "How fast a Node.js proxy pair can be").
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import { ProxyErrorLabel } from '@tsmesh/core/data-plane';
import { connectTcp, forwardTcp } from '../../transport/index.js';
import type { Http1Proxy, Http1ProxyOptions } from '../http1-proxy.js';
import { L5D_PROXY_ERROR } from '../headers.js';
import { canCarryOverHttp2 } from '../orig-proto.js';
import type { HttpRequestContext } from '../request-context.js';
import { RawH2Sessions } from '../raw-h2/upstream-sessions.js';
import { ClientConnection, type ClientDispatcher, type ClientExchange } from './client-connection.js';
import { sweepClients, type ClientTimeouts } from './client-sweeper.js';
import { proxyResponse, upgradeRequestHead } from './forwarded-head.js';
import type { MessageFraming } from './framing.js';
import { H1Exchange } from './h1-exchange.js';
import { H2CarriedExchange } from './h2-carriage.js';
import type { RequestHead } from './head-parser.js';
import { RawRequestView } from './request-view.js';
import { UpstreamConnections } from './upstream-connections.js';

export interface RawHttp1ProxyOptions<C> extends Http1ProxyOptions<C>, ClientTimeouts {}

export function createRawHttp1Proxy<C>(options: RawHttp1ProxyOptions<C>): Http1Proxy<C> {
  const upstreams = new UpstreamConnections({
    connectTimeoutMs: options.connectTimeoutMs,
    idleTimeoutMs: options.idleTimeoutMs,
    maxConnectionsPerTarget: options.maxConnectionsPerTarget,
    meshTls: options.meshTls,
  });
  // HTTP/2 connections to peers that take HTTP/1 carried over HTTP/2, made on first use.
  let sessions: RawH2Sessions | undefined;
  const carriage = (): RawH2Sessions =>
    (sessions ??= new RawH2Sessions({
      connectTimeoutMs: options.connectTimeoutMs,
      meshTls: options.meshTls,
      settings: {
        ...(options.initialStreamWindowSize === undefined
          ? {}
          : { initialWindowSize: options.initialStreamWindowSize }),
        ...(options.initialConnectionWindowSize === undefined
          ? {}
          : { connectionWindowSize: options.initialConnectionWindowSize }),
      },
      onError: options.onClientError,
    }));
  const clients = new Set<ClientConnection>();
  const stopSweeper = sweepClients(clients, options, options.onClientError);

  /** Answers without forwarding; the connection ends after it unless it can carry another request. */
  const answer = (
    client: ClientConnection,
    framing: MessageFraming,
    status: number,
    headers: Record<string, string | number>,
    body: string,
  ) => {
    client.write(proxyResponse(status, headers, body, !framing.keepAlive || framing.body.kind !== 'none'));
  };

  const answered = (client: ClientConnection, framing: MessageFraming, ctx: HttpRequestContext): boolean => {
    if (ctx.redirect !== undefined) {
      ctx.onResponse?.(ctx.redirect.statusCode, undefined, undefined);
      answer(client, framing, ctx.redirect.statusCode, { location: ctx.redirect.location }, '');
      return true;
    }
    if (ctx.reject !== undefined) {
      const status = ctx.reject.httpStatus;
      ctx.onResponse?.(status, undefined, undefined);
      answer(
        client,
        framing,
        status,
        { 'content-type': 'text/plain', [L5D_PROXY_ERROR]: ctx.reject.headerValue() },
        `${ctx.reject.message}\n`,
      );
      return true;
    }
    if (ctx.target === undefined) {
      const message = 'no target for this request (missing or invalid Host)';
      ctx.onResponse?.(400, undefined, ProxyErrorLabel.Unexpected);
      answer(
        client,
        framing,
        400,
        { 'content-type': 'text/plain', [L5D_PROXY_ERROR]: message },
        `${message}\n`,
      );
      return true;
    }
    return false;
  };

  const dispatcher: ClientDispatcher = {
    dispatch(client, head, framing): ClientExchange | null {
      const ctx = options.route(new RawRequestView(head), client.conn as C);
      if (answered(client, framing, ctx)) return null;
      const target = ctx.target as NonNullable<HttpRequestContext['target']>;
      if (ctx.upgradeToHttp2 === true && canCarryOverHttp2(head.method, undefined)) {
        return new H2CarriedExchange(client, head, framing, ctx, target, carriage);
      }
      return new H1Exchange(client, head, framing, ctx, upstreams.for(target, ctx.serverIdentity));
    },
    upgrade(client, head, rest) {
      tunnel(client, head, rest);
    },
    clientError(err) {
      options.onClientError?.(err);
    },
    forget(client) {
      clients.delete(client);
    },
  };

  /** An Upgrade request: its head goes upstream, then bytes flow both ways untouched. */
  const tunnel = (client: ClientConnection, head: RequestHead, rest: Buffer) => {
    const socket = client.socket;
    const ctx = options.route(new RawRequestView(head), client.conn as C);
    const target = ctx.target;
    if (target === undefined || ctx.reject !== undefined) {
      const status = ctx.reject?.httpStatus ?? 400;
      ctx.onResponse?.(status, undefined, ctx.reject === undefined ? ProxyErrorLabel.Unexpected : undefined);
      socket.end(proxyResponse(status, {}, '', true), 'latin1');
      return;
    }
    const preamble = Buffer.concat([
      Buffer.from(upgradeRequestHead(head, ctx.removeHeaders, ctx.addHeaders), 'latin1'),
      rest,
    ]);
    const { meshTls } = options;
    const serverIdentity = ctx.serverIdentity;
    connectTcp({ host: target.host, port: target.port, timeoutMs: options.connectTimeoutMs })
      .then((s): Promise<Duplex> | Duplex =>
        serverIdentity !== undefined && meshTls !== undefined
          ? meshTls.connect(s, serverIdentity, { alpn: ['http/1.1'] }).catch((e: unknown) => {
              s.destroy();
              throw e;
            })
          : s,
      )
      .then(
        (upstream: Duplex) => {
          ctx.onResponse?.(101, undefined, undefined);
          void forwardTcp(socket, upstream, preamble);
          socket.resume();
        },
        () => {
          ctx.onResponse?.(502, undefined, ProxyErrorLabel.Io);
          socket.end(
            proxyResponse(502, { [L5D_PROXY_ERROR]: 'upstream connection failed' }, '', true),
            'latin1',
          );
        },
      );
  };

  return {
    accept(socket, head, conn) {
      const client = new ClientConnection(socket as Socket, conn, dispatcher);
      clients.add(client);
      client.start(head);
    },
    async close() {
      stopSweeper();
      for (const c of clients) c.destroy();
      clients.clear();
      upstreams.close();
      sessions?.close();
      await Promise.resolve();
    },
  };
}
