// The inbound proxy (:4143): connections redirected to the workload. Each is classified — opaque
// port (no detection), mesh TLS for our identity (terminated, client identity recorded), or
// plaintext — then HTTP/1, HTTP/2 or opaque TCP is forwarded to the app on localhost at the
// original port (or, without a redirect, to the configured forward address).
import type { IncomingHttpHeaders } from 'node:http2';
import type { Socket } from 'node:net';
import { isIP } from 'node:net';
import { NoTlsReason, ProxyErrorLabel, TlsLabel, TRANSPORT_HEADER_PROTOCOL } from '@tsmesh/core/data-plane';
import type { ProxyConfig } from '../config/index.js';
import { formatSocketAddr } from '../config/index.js';
import { detectProtocol, TLS_HANDSHAKE } from '../detect/index.js';
import {
  createHttp1Proxy,
  createRawHttp1Proxy,
  createHttp2Proxy,
  createRawHttp2Proxy,
  L5D_CLIENT_ID,
  rawHeaderValue,
  requestHost,
  type Http1RequestView,
  type HttpRequestContext,
} from '../http/index.js';
import type { ProxyMetrics, TargetLabels } from '../metrics/index.js';
import type { MeshTls } from '../tls/index.js';
import {
  bindListener,
  connectTcp,
  forwardTcp,
  isSelfTarget,
  onSocketClose,
  readOriginalDst,
  type Listener,
} from '../transport/index.js';
import type { Duplex } from 'node:stream';
import {
  createInboundHooks,
  type InboundConnection,
  type InboundHooks,
  type InboundRequestHead,
} from './inbound-hooks.js';
import type { TLSSocket } from 'node:tls';
import { readTransportHeader } from '../transport-header/index.js';
import { firstBytes } from './first-bytes.js';
import type { InboundGateway } from '../gateway/index.js';

export interface InboundOptions {
  readonly config: ProxyConfig;
  readonly metrics: ProxyMetrics;
  /** Mesh TLS; without it inbound TLS is passed through as opaque bytes. */
  readonly meshTls?: MeshTls;
  /** Policy, client address, tap and access logs; defaults to client-address headers only. */
  readonly hooks?: InboundHooks;
  /**
   * Gateway mode: mesh-TLS connections to the inbound port itself and opaque transport naming a
   * target go to it (see ../gateway). Without it they are refused.
   */
  readonly gateway?: InboundGateway;
}

export interface InboundServer {
  /** The main listener (LINKERD2_PROXY_INBOUND_LISTEN_ADDR). */
  readonly listener: Listener;
  /** The main listener, then one per TSMESH_PROXY_INBOUND_LISTEN_ADDRS address. */
  readonly listeners: readonly Listener[];
  close(): Promise<void>;
}

type Conn = InboundConnection;

const EMPTY = Buffer.alloc(0);
const ONLY_CLIENT_ID: readonly string[] = Object.freeze([L5D_CLIENT_ID]);
const clientIdHeaders = new Map<string, Readonly<Record<string, string>>>();

/**
 * The headers to add with the verified client identity: the request's own object extended (it is
 * fresh per request), or one shared frozen object per identity.
 */
function withClientId(
  add: Record<string, string> | undefined,
  clientId: string | undefined,
): Readonly<Record<string, string>> | undefined {
  if (clientId === undefined) return add;
  if (add !== undefined) {
    add[L5D_CLIENT_ID] = clientId;
    return add;
  }
  let shared = clientIdHeaders.get(clientId);
  if (shared === undefined) {
    // Bounded: one entry per client identity seen, a few hundred at most in a real mesh.
    if (clientIdHeaders.size >= 1024) clientIdHeaders.clear();
    clientIdHeaders.set(clientId, (shared = Object.freeze({ [L5D_CLIENT_ID]: clientId })));
  }
  return shared;
}

/**
 * An HTTP/1 request's head for the hooks. A class rather than an object literal with a getter
 * (V8 builds such a literal through the runtime, an accessor pair per request); the header
 * object is built only if something reads it (policies with header matches, tap, access logs).
 */
class Http1InboundHead implements InboundRequestHead {
  readonly method: string;
  readonly path: string;
  readonly authority: string;
  readonly scheme = 'http' as const;
  readonly version: string;

  constructor(private readonly req: Http1RequestView) {
    this.method = req.method ?? 'GET';
    this.path = req.url ?? '/';
    this.authority = requestHost(req) ?? '';
    const v = req.httpVersion;
    this.version = v === '1.1' ? 'HTTP/1.1' : v === '1.0' ? 'HTTP/1.0' : `HTTP/${v}`;
  }

  get headers(): IncomingHttpHeaders {
    return this.req.headers;
  }

  /** A function of its own: the client-address headers take it as their lookup. */
  readonly header = (lowerName: string): string | undefined => rawHeaderValue(this.req.rawHeaders, lowerName);
}

const h1Head = (req: Http1RequestView): InboundRequestHead => new Http1InboundHead(req);

function h2Head(headers: IncomingHttpHeaders): InboundRequestHead {
  return {
    method: String(headers[':method'] ?? 'GET'),
    path: String(headers[':path'] ?? '/'),
    authority: String(headers[':authority'] ?? headers.host ?? ''),
    scheme: headers[':scheme'] === 'https' ? 'https' : 'http',
    version: 'HTTP/2.0',
    headers,
  };
}

const isLoopback = (ip: string | undefined) =>
  ip !== undefined && (ip.startsWith('127.') || ip === '::1' || ip.startsWith('::ffff:127.'));

export async function startInbound(options: InboundOptions): Promise<InboundServer> {
  const { config, metrics, meshTls } = options;
  const connectTimeoutMs = config.inbound.connectTimeoutMs;
  const hooks =
    options.hooks ??
    createInboundHooks({
      forwarded: config.clientAddress.forwarded,
      proxyProtocolPorts: config.clientAddress.proxyProtocolPorts,
    });

  const route = (conn: Conn | undefined, head: InboundRequestHead): HttpRequestContext => {
    if (!conn) return { target: undefined };
    const req = hooks.request(conn, head);
    const labels = req.labels;
    const started = performance.now();
    metrics.request(labels);
    return {
      target: conn.target,
      reject: req.reject,
      redirect: req.redirect,
      // A spoofed l5d-client-id never reaches the app; the verified one is added.
      removeHeaders: req.removeHeaders.length === 0 ? ONLY_CLIENT_ID : [L5D_CLIENT_ID, ...req.removeHeaders],
      addHeaders: withClientId(req.addHeaders, conn.clientId),
      onResponse: (statusCode, grpcStatus, error) => {
        // A response the proxy made itself carries its stable code as the error label.
        const code = error ?? req.reject?.code;
        metrics.response(labels, {
          statusCode,
          grpcStatus,
          error: code,
          latencyMs: performance.now() - started,
        });
        req.done(statusCode, grpcStatus, code);
      },
    };
  };
  const onClientError = () => metrics.error('inbound', 'http', ProxyErrorLabel.Unexpected);
  const createHttp1 = config.http1Engine === 'raw' ? createRawHttp1Proxy : createHttp1Proxy;
  const http1 = createHttp1<Conn>({
    route: (req, conn) => route(conn, h1Head(req)),
    connectTimeoutMs,
    onClientError,
  });
  // The raw HTTP/2 engine serves downgraded carriage over the raw HTTP/1 engine only.
  const createHttp2 =
    config.http2Engine === 'raw' && config.http1Engine === 'raw' ? createRawHttp2Proxy : createHttp2Proxy;
  const http2 = createHttp2<Conn>({
    route: (headers, conn) => route(conn, h2Head(headers)),
    http1Engine: config.http1Engine,
    connectTimeoutMs,
    initialStreamWindowSize: config.http2.initialStreamWindowSize,
    initialConnectionWindowSize: config.http2.initialConnectionWindowSize,
    onClientError,
    keepAlive: config.inbound.http2KeepAlive,
  });

  const forwardOpaque = async (client: Duplex, conn: Conn, initial?: Buffer) => {
    // Connection-level authorization (TCP and opaque): a refused connection is closed.
    await hooks.ready(conn.target.port);
    if (!hooks.admitConnection(conn, client)) {
      client.destroy();
      return;
    }
    const preamble = hooks.opaquePreamble(conn);
    if (preamble) initial = Buffer.concat([preamble, initial ?? EMPTY]);
    connectTcp({ host: conn.target.host, port: conn.target.port, timeoutMs: connectTimeoutMs }).then(
      (upstream) => {
        onSocketClose(upstream, metrics.tcpOpen(conn.labels, 'dst'));
        void forwardTcp(client, upstream, initial);
      },
      () => {
        metrics.error('inbound', 'tcp', ProxyErrorLabel.Io);
        client.destroy();
      },
    );
  };

  // The Server's ProxyProtocol.Detect timeout when the policy sets one, else the configured one.
  const detectTimeoutFor = (port: number | undefined) =>
    (port === undefined ? undefined : hooks.detectTimeoutMs(port)) ?? config.inbound.detectTimeoutMs;

  // A Server that declares HTTP/1, HTTP/2 or gRPC: plaintext connections skip HTTP detection, as
  // in Linkerd (meshed HTTP/1 is the exception, see serve).
  const declaredHttp = (port: number): 'http1' | 'http2' | undefined => {
    const p = hooks.protocol(port);
    return p === 'http1' ? 'http1' : p === 'http2' || p === 'grpc' ? 'http2' : undefined;
  };

  // After mesh TLS: HTTP/2 and gRPC Servers skip detection; an HTTP/1 Server still detects, since
  // a peer proxy may carry HTTP/1 over HTTP/2 (Linkerd does the same).
  const serve = async (stream: Socket, conn: Conn) => {
    const declared = declaredHttp(conn.target.port) === 'http2' ? 'http2' : undefined;
    if (declared !== undefined) {
      // No detection, but the first bytes are read in JS before the HTTP server gets the stream
      // (a TLS socket handed over unread stalls in Node's HTTP servers).
      const first = await firstBytes(stream, detectTimeoutFor(conn.target.port));
      if (first.kind === 'closed') {
        stream.destroy();
        return;
      }
      const head = first.kind === 'data' ? first.chunk : EMPTY;
      http2.accept(stream, head, conn);
      return;
    }
    const d = await detectProtocol(stream, { timeoutMs: detectTimeoutFor(conn.target.port) });
    if (d.closed && d.buffered.length === 0) {
      stream.destroy();
      return;
    }
    if (hooks.protocol(conn.target.port) === 'opaque') void forwardOpaque(stream, conn, d.buffered);
    else if (d.protocol === 'http1') http1.accept(stream, d.buffered, conn);
    else if (d.protocol === 'http2') http2.accept(stream, d.buffered, conn);
    else void forwardOpaque(stream, conn, d.buffered);
    return d;
  };

  // Gateway mode: the policy of the inbound port itself (its Server's authorizations, or the
  // default policy) decides which clients may use the gateway, as Linkerd authorizes them.
  const admitToGateway = async (
    socket: Socket,
    stream: TLSSocket,
    labels: TargetLabels,
    peer: Conn['peer'],
    clientId: string | undefined,
  ): Promise<boolean> => {
    const port = socket.localPort ?? 0;
    const host = socket.localFamily === 'IPv6' ? '::1' : '127.0.0.1';
    await hooks.ready(port);
    if (hooks.admitConnection({ target: { host, port }, labels, clientId, peer }, stream)) return true;
    stream.destroy();
    return false;
  };

  // Opaque transport (ALPN transport.l5d.io/v1): the peer proxy names the target port in a
  // header; the session then goes to the app on localhost at that port, as HTTP when the header
  // says so (no re-detection), otherwise as opaque TCP. A bad header closes the connection.
  const serveTransportHeader = async (
    socket: Socket,
    tls: TLSSocket,
    labels: TargetLabels,
    peer: Conn['peer'],
    clientId?: string,
  ) => {
    let read;
    try {
      read = await readTransportHeader(tls, { timeoutMs: config.inbound.detectTimeoutMs });
    } catch {
      metrics.error('inbound', 'tcp', ProxyErrorLabel.Unexpected);
      tls.destroy();
      return;
    }
    const { port, protocol, name } = read.header;
    // As linkerd2-proxy's inbound: opaque transport must be mutually authenticated, and a header
    // naming a target asks for a gateway: served in gateway mode, refused otherwise.
    if (clientId !== undefined && name !== undefined && options.gateway) {
      if (await admitToGateway(socket, tls, labels, peer, clientId))
        options.gateway.transportHeader(tls, read.header, read.rest, clientId);
      return;
    }
    if (clientId === undefined || name !== undefined) {
      metrics.error('inbound', 'tcp', ProxyErrorLabel.Unexpected);
      tls.destroy();
      return;
    }
    const host = socket.localFamily === 'IPv6' ? '::1' : '127.0.0.1';
    const local = socket.localAddress ?? host;
    const target_addr = formatSocketAddr({ host: local, port });
    const conn: Conn = {
      target: { host, port },
      labels: { ...labels, target_addr, target_ip: local, target_port: String(port) },
      clientId,
      peer,
    };
    await hooks.ready(port);
    if (protocol === 'http1') http1.accept(tls, read.rest, conn);
    else if (protocol === 'http2') http2.accept(tls, read.rest, conn);
    else void forwardOpaque(tls, conn, read.rest);
  };

  /** ownPort: an explicit-mode listener whose connections go to the app at its own port. */
  const onConnection = (socket: Socket, ownPort = false) => {
    socket.on('error', () => undefined);
    const orig = readOriginalDst(socket);
    const redirected = !isSelfTarget(orig, socket) && orig !== undefined;
    const forward = config.inbound.forwardAddr;
    const loopback = socket.localFamily === 'IPv6' ? '::1' : '127.0.0.1';
    // Redirected: the app on localhost at the original port. Explicit: the listener's own port
    // (TSMESH_PROXY_INBOUND_LISTEN_ADDRS) or the configured forward address. Without any, only
    // opaque transport (whose header names the port) can be served.
    const target = redirected
      ? { host: orig.family === 6 ? '::1' : '127.0.0.1', port: orig.port }
      : ownPort && socket.localPort !== undefined
        ? { host: loopback, port: socket.localPort }
        : forward
          ? { host: forward.host, port: forward.port }
          : undefined;
    const origAddr = redirected ? orig : target;
    const baseLabels = {
      direction: 'inbound' as const,
      target_addr: origAddr ? formatSocketAddr(origAddr) : '',
      target_ip: origAddr && isIP(origAddr.host) ? origAddr.host : '',
      target_port: origAddr ? String(origAddr.port) : '',
    };
    const peer = { ip: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
    const plainLabels: TargetLabels = {
      ...baseLabels,
      tls: TlsLabel.NoIdentity,
      no_tls_reason: isLoopback(socket.remoteAddress) ? NoTlsReason.Loopback : NoTlsReason.NoTlsFromRemote,
    };
    if (
      target !== undefined &&
      (config.inbound.opaquePorts.has(target.port) || hooks.protocol(target.port) === 'opaque')
    ) {
      // Opaque: no detection at all, so server-speaks-first protocols work at once.
      onSocketClose(socket, metrics.tcpOpen(plainLabels, 'src'));
      void forwardOpaque(socket, { target, labels: plainLabels, clientId: undefined, peer });
      return;
    }
    void (async () => {
      // The port's policy (its Server's protocol and authorizations) before serving it.
      if (target !== undefined) await hooks.ready(target.port);
      const declared = target === undefined ? undefined : declaredHttp(target.port);
      if (target !== undefined && declared !== undefined) {
        // Only TLS (a meshed peer) is told apart, from the first chunk; the rest is served as declared.
        const first = await firstBytes(socket, detectTimeoutFor(target.port));
        if (first.kind === 'closed') {
          socket.destroy();
          return;
        }
        const head = first.kind === 'data' ? first.chunk : EMPTY;
        if (head[0] !== TLS_HANDSHAKE) {
          onSocketClose(socket, metrics.tcpOpen(plainLabels, 'src'));
          const conn: Conn = { target, labels: plainLabels, clientId: undefined, peer };
          if (declared === 'http1') http1.accept(socket, head, conn);
          else http2.accept(socket, head, conn);
          return;
        }
        socket.unshift(head);
      }
      const detecting = detectProtocol(socket, { timeoutMs: detectTimeoutFor(target?.port) });
      // firstBytes left the socket paused: flowing again now that detection listens.
      if (declared !== undefined) socket.resume();
      const d = await detecting;
      if (d.closed && d.buffered.length === 0) {
        socket.destroy();
        return;
      }
      const local = meshTls?.localIdentity();
      if (d.protocol === 'tls' && meshTls && local !== undefined && d.clientHello?.serverName === local) {
        let accepted;
        // The ClientHello bytes detection read go back into the socket; the TLS socket reads
        // whatever is buffered there before its first handshake read.
        socket.unshift(d.buffered);
        try {
          accepted = await meshTls.accept(socket, { timeoutMs: config.inbound.detectTimeoutMs });
        } catch {
          metrics.error('inbound', 'tcp', ProxyErrorLabel.Unexpected);
          socket.destroy();
          return;
        }
        const labels: TargetLabels = accepted.clientId
          ? { ...baseLabels, tls: TlsLabel.True, client_id: accepted.clientId }
          : { ...plainLabels, no_tls_reason: NoTlsReason.NoTlsFromRemote };
        onSocketClose(socket, metrics.tcpOpen(labels, 'src'));
        accepted.socket.on('error', () => undefined);
        if (accepted.alpn === TRANSPORT_HEADER_PROTOCOL) {
          await serveTransportHeader(socket, accepted.socket, labels, peer, accepted.clientId);
          return;
        }
        if (target === undefined && options.gateway) {
          if (await admitToGateway(socket, accepted.socket, labels, peer, accepted.clientId))
            options.gateway.direct(accepted.socket, accepted.clientId);
          return;
        }
        if (target === undefined) {
          metrics.error('inbound', 'tcp', ProxyErrorLabel.Unexpected);
          accepted.socket.destroy();
          return;
        }
        await serve(accepted.socket, { target, labels, clientId: accepted.clientId, peer });
        return;
      }
      if (target === undefined) {
        // Not redirected, no forward address and not opaque transport: nowhere to send it.
        metrics.error('inbound', 'tcp', ProxyErrorLabel.Unexpected);
        socket.destroy();
        return;
      }
      if (d.protocol === 'tls') {
        // TLS not for us (the app terminates it): pass through untouched.
        const labels: TargetLabels = {
          ...baseLabels,
          tls: TlsLabel.Opaque,
          sni: d.clientHello?.serverName ?? '',
        };
        onSocketClose(socket, metrics.tcpOpen(labels, 'src'));
        void forwardOpaque(socket, { target, labels, clientId: undefined, peer }, d.buffered);
        return;
      }
      onSocketClose(socket, metrics.tcpOpen(plainLabels, 'src'));
      const conn: Conn = { target, labels: plainLabels, clientId: undefined, peer };
      if (hooks.protocol(target.port) === 'opaque') void forwardOpaque(socket, conn, d.buffered);
      else if (d.protocol === 'http1') http1.accept(socket, d.buffered, conn);
      else if (d.protocol === 'http2') http2.accept(socket, d.buffered, conn);
      else void forwardOpaque(socket, conn, d.buffered);
    })();
  };

  const listener = await bindListener(config.inbound.listenAddr, (s) => onConnection(s));
  const listeners = [listener];
  try {
    for (const addr of config.inbound.extraListenAddrs) {
      listeners.push(await bindListener(addr, (s) => onConnection(s, true)));
    }
  } catch (err) {
    await Promise.all(listeners.map((l) => l.stopAccepting()));
    throw err;
  }
  return {
    listener,
    listeners,
    async close() {
      await Promise.all(listeners.map((l) => l.stopAccepting()));
      for (const l of listeners) l.destroyConnections();
      await Promise.all([http1.close(), http2.close()]);
    },
  };
}
