// The inbound proxy (:4143): connections redirected to the workload. Each is classified — opaque
// port (no detection), mesh TLS for our identity (terminated, client identity recorded), or
// plaintext — then HTTP/1, HTTP/2 or opaque TCP is forwarded to the app on localhost at the
// original port (or, without a redirect, to the configured forward address).
import type { Socket } from 'node:net';
import { isIP } from 'node:net';
import { NoTlsReason, ProxyErrorLabel, TlsLabel } from '@tsmesh/core';
import type { ProxyConfig } from '../config/index.js';
import { formatSocketAddr } from '../config/index.js';
import { detectProtocol } from '../detect/index.js';
import { createHttp1Proxy, createHttp2Proxy, L5D_CLIENT_ID, type HttpRequestContext } from '../http/index.js';
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

export interface InboundOptions {
  readonly config: ProxyConfig;
  readonly metrics: ProxyMetrics;
  /** Mesh TLS; without it inbound TLS is passed through as opaque bytes. */
  readonly meshTls?: MeshTls;
}

export interface InboundServer {
  readonly listener: Listener;
  close(): Promise<void>;
}

interface Conn {
  readonly target: { host: string; port: number };
  readonly labels: TargetLabels;
  readonly clientId: string | undefined;
}

const isLoopback = (ip: string | undefined) =>
  ip !== undefined && (ip.startsWith('127.') || ip === '::1' || ip.startsWith('::ffff:127.'));

export async function startInbound(options: InboundOptions): Promise<InboundServer> {
  const { config, metrics, meshTls } = options;
  const connectTimeoutMs = config.inbound.connectTimeoutMs;

  const route = (conn: Conn | undefined): HttpRequestContext => {
    if (!conn) return { target: undefined };
    const labels = conn.labels;
    const started = performance.now();
    metrics.request(labels);
    return {
      target: conn.target,
      removeHeaders: [L5D_CLIENT_ID],
      addHeaders: conn.clientId ? { [L5D_CLIENT_ID]: conn.clientId } : undefined,
      onResponse: (statusCode, grpcStatus, error) =>
        metrics.response(labels, { statusCode, grpcStatus, error, latencyMs: performance.now() - started }),
    };
  };
  const onClientError = () => metrics.error('inbound', 'http', ProxyErrorLabel.Unexpected);
  const http1 = createHttp1Proxy<Conn>({
    route: (_req, conn) => route(conn),
    connectTimeoutMs,
    onClientError,
  });
  const http2 = createHttp2Proxy<Conn>({
    route: (_headers, conn) => route(conn),
    connectTimeoutMs,
    initialStreamWindowSize: config.http2.initialStreamWindowSize,
    initialConnectionWindowSize: config.http2.initialConnectionWindowSize,
    onClientError,
  });

  const forwardOpaque = (client: Duplex, conn: Conn, initial?: Buffer) => {
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

  const serve = async (stream: Socket, conn: Conn) => {
    const d = await detectProtocol(stream, { timeoutMs: config.inbound.detectTimeoutMs });
    if (d.closed && d.buffered.length === 0) {
      stream.destroy();
      return;
    }
    if (d.protocol === 'http1') http1.accept(stream, d.buffered, conn);
    else if (d.protocol === 'http2') http2.accept(stream, d.buffered, conn);
    else forwardOpaque(stream, conn, d.buffered);
    return d;
  };

  const onConnection = (socket: Socket) => {
    socket.on('error', () => undefined);
    const orig = readOriginalDst(socket);
    const redirected = !isSelfTarget(orig, socket) && orig !== undefined;
    const forward = config.inbound.forwardAddr;
    // Redirected: the app on localhost at the original port. Explicit: the configured address.
    const target = redirected
      ? { host: orig.family === 6 ? '::1' : '127.0.0.1', port: orig.port }
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
    if (target === undefined) {
      metrics.error('inbound', 'tcp', ProxyErrorLabel.Unexpected);
      socket.destroy();
      return;
    }
    const plainLabels: TargetLabels = {
      ...baseLabels,
      tls: TlsLabel.NoIdentity,
      no_tls_reason: isLoopback(socket.remoteAddress) ? NoTlsReason.Loopback : NoTlsReason.NoTlsFromRemote,
    };
    if (config.inbound.opaquePorts.has(target.port)) {
      // Opaque: no detection at all, so server-speaks-first protocols work at once.
      onSocketClose(socket, metrics.tcpOpen(plainLabels, 'src'));
      forwardOpaque(socket, { target, labels: plainLabels, clientId: undefined });
      return;
    }
    void (async () => {
      const d = await detectProtocol(socket, { timeoutMs: config.inbound.detectTimeoutMs });
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
        await serve(accepted.socket, { target, labels, clientId: accepted.clientId });
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
        forwardOpaque(socket, { target, labels, clientId: undefined }, d.buffered);
        return;
      }
      onSocketClose(socket, metrics.tcpOpen(plainLabels, 'src'));
      const conn: Conn = { target, labels: plainLabels, clientId: undefined };
      if (d.protocol === 'http1') http1.accept(socket, d.buffered, conn);
      else if (d.protocol === 'http2') http2.accept(socket, d.buffered, conn);
      else forwardOpaque(socket, conn, d.buffered);
    })();
  };

  const listener = await bindListener(config.inbound.listenAddr, onConnection);
  return {
    listener,
    async close() {
      await listener.stopAccepting();
      listener.destroyConnections();
      await Promise.all([http1.close(), http2.close()]);
    },
  };
}
