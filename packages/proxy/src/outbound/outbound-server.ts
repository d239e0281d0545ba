// The outbound proxy (:4140): connections the app opens, redirected to the proxy (or dialled
// explicitly). The target is the original destination; without a redirect it is the configured
// forward address or, for HTTP, the request's Host/:authority. When the target has a mesh
// identity (from discovery — part 2 — or the caller's `identityFor`), the upstream connection is
// mutual TLS verified against it; otherwise plaintext, labelled with the reason.
import type { Socket } from 'node:net';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import { NoTlsReason, ProxyErrorLabel, TlsLabel } from '@tsmesh/core/data-plane';
import type { ProxyConfig } from '../config/index.js';
import { formatSocketAddr } from '../config/index.js';
import { detectProtocol } from '../detect/index.js';
import {
  createHttp1Proxy,
  createRawHttp1Proxy,
  createHttp2Proxy,
  createRawHttp2Proxy,
  parseAuthority,
  requestHost,
  type HttpRequestContext,
  type UpstreamTarget,
} from '../http/index.js';
import type { ProxyMetrics, TargetLabels } from '../metrics/index.js';
import type { MeshTls } from '../tls/index.js';
import type { OutboundMesh } from './outbound-mesh.js';
import {
  bindListener,
  connectTcp,
  forwardTcp,
  isSelfTarget,
  onSocketClose,
  readOriginalDst,
  type Listener,
} from '../transport/index.js';

export interface OutboundOptions {
  readonly config: ProxyConfig;
  readonly metrics: ProxyMetrics;
  readonly meshTls?: MeshTls;
  /** The identity a target's proxy must present, when it is meshed (discovery's TLS hint). */
  identityFor?(target: UpstreamTarget): string | undefined;
  /** 'h2' when a target's proxy accepts HTTP/2 (discovery's protocol hint): HTTP/1 goes over HTTP/2. */
  protocolHintFor?(target: UpstreamTarget): 'h2' | undefined;
  /**
   * The discovery-driven mesh stack (routes, balancing, retries, timeouts, breakers). When set,
   * every detected HTTP connection is served by it; without it HTTP is forwarded as-is.
   */
  readonly mesh?: OutboundMesh;
}

export interface OutboundServer {
  readonly listeners: readonly Listener[];
  close(): Promise<void>;
}

interface Conn {
  readonly target: UpstreamTarget | undefined;
}

const isLoopback = (ip: string) => ip.startsWith('127.') || ip === '::1' || ip === 'localhost';

export async function startOutbound(options: OutboundOptions): Promise<OutboundServer> {
  const { config, metrics, meshTls } = options;
  const connectTimeoutMs = config.outbound.connectTimeoutMs;

  /**
   * Labels and TLS decision for one target, built once per (target, authority, identity): the
   * same labels object on every request lets the metrics find their children by identity.
   */
  type Plan = { labels: TargetLabels; serverIdentity?: string; upgradeToHttp2?: boolean };
  const plans = new Map<string, Plan>();
  const plan = (target: UpstreamTarget, authority?: string): Plan => {
    const id = options.identityFor?.(target);
    const meshed = id !== undefined && meshTls?.isReady() === true;
    const key = `${target.host} ${target.port} ${authority ?? ''} ${meshed ? id : ''}`;
    let p = plans.get(key);
    if (p === undefined) {
      if (plans.size >= 10_000) plans.clear();
      p = buildPlan(target, authority, meshed ? id : undefined);
      if (options.protocolHintFor?.(target) === 'h2') p.upgradeToHttp2 = true;
      plans.set(key, p);
    }
    return p;
  };
  const buildPlan = (target: UpstreamTarget, authority: string | undefined, id: string | undefined): Plan => {
    const base = {
      direction: 'outbound' as const,
      target_addr: formatSocketAddr(target),
      target_ip: isIP(target.host) ? target.host : '',
      target_port: String(target.port),
      ...(authority === undefined ? {} : { authority }),
    };
    if (id !== undefined) {
      return { labels: { ...base, tls: TlsLabel.True, server_id: id }, serverIdentity: id };
    }
    return {
      labels: {
        ...base,
        tls: TlsLabel.NoIdentity,
        no_tls_reason: isLoopback(target.host)
          ? NoTlsReason.Loopback
          : NoTlsReason.NotProvidedByServiceDiscovery,
      },
    };
  };

  const route = (
    connTarget: UpstreamTarget | undefined,
    authority: string | undefined,
  ): HttpRequestContext => {
    const target = connTarget ?? parseAuthority(authority);
    if (target === undefined) return { target: undefined };
    const { labels, serverIdentity, upgradeToHttp2 } = plan(target, authority ?? formatSocketAddr(target));
    const started = performance.now();
    metrics.request(labels);
    return {
      target,
      serverIdentity,
      upgradeToHttp2,
      onResponse: (statusCode, grpcStatus, error) =>
        metrics.response(labels, { statusCode, grpcStatus, error, latencyMs: performance.now() - started }),
    };
  };
  const onClientError = () => metrics.error('outbound', 'http', ProxyErrorLabel.Unexpected);
  const createHttp1 = config.http1Engine === 'raw' ? createRawHttp1Proxy : createHttp1Proxy;
  const http1 = createHttp1<Conn>({
    route: (req, conn) => route(conn?.target, requestHost(req)),
    connectTimeoutMs,
    onClientError,
    meshTls,
    initialStreamWindowSize: config.http2.initialStreamWindowSize,
    initialConnectionWindowSize: config.http2.initialConnectionWindowSize,
  });
  // The raw HTTP/2 engine serves downgraded carriage over the raw HTTP/1 engine only.
  const createHttp2 =
    config.http2Engine === 'raw' && config.http1Engine === 'raw' ? createRawHttp2Proxy : createHttp2Proxy;
  const http2 = createHttp2<Conn>({
    route: (headers, conn) => route(conn?.target, headers[':authority'] ?? headers.host),
    downgradeOrigProto: false,
    connectTimeoutMs,
    initialStreamWindowSize: config.http2.initialStreamWindowSize,
    initialConnectionWindowSize: config.http2.initialConnectionWindowSize,
    onClientError,
    keepAlive: config.outbound.http2KeepAlive,
    meshTls,
  });

  const forwardOpaque = (client: Duplex, target: UpstreamTarget, initial?: Buffer) => {
    const { labels, serverIdentity } = plan(target);
    connectTcp({ host: target.host, port: target.port, timeoutMs: connectTimeoutMs })
      .then(async (socket) => {
        onSocketClose(socket, metrics.tcpOpen(labels, 'dst'));
        return serverIdentity !== undefined && meshTls ? meshTls.connect(socket, serverIdentity) : socket;
      })
      .then(
        (upstream) => void forwardTcp(client, upstream, initial),
        () => {
          metrics.error('outbound', 'tcp', ProxyErrorLabel.Io);
          client.destroy();
        },
      );
  };

  const onConnection = (socket: Socket) => {
    socket.on('error', () => undefined);
    const orig = readOriginalDst(socket);
    const fwd = config.outbound.forwardAddr;
    const redirected: UpstreamTarget | undefined =
      orig !== undefined && !isSelfTarget(orig, socket) ? { host: orig.host, port: orig.port } : undefined;
    const target: UpstreamTarget | undefined =
      redirected ?? (fwd ? { host: fwd.host, port: fwd.port } : undefined);
    const srcLabels = target
      ? plan(target).labels
      : { direction: 'outbound' as const, target_addr: '', target_ip: '', target_port: '' };
    onSocketClose(socket, metrics.tcpOpen(srcLabels, 'src'));
    if (target !== undefined && config.inbound.opaquePorts.has(target.port)) {
      if (options.mesh) options.mesh.forwardOpaque(socket, undefined, target);
      else forwardOpaque(socket, target);
      return;
    }
    void detectProtocol(socket, { timeoutMs: config.outbound.detectTimeoutMs }).then((d) => {
      if (d.closed && d.buffered.length === 0) {
        socket.destroy();
        return;
      }
      const mesh = options.mesh;
      if (mesh && (d.protocol === 'http1' || d.protocol === 'http2'))
        mesh.accept(socket, d.buffered, d.protocol, redirected);
      else if (d.protocol === 'http1') http1.accept(socket, d.buffered, { target });
      else if (d.protocol === 'http2') http2.accept(socket, d.buffered, { target });
      else if (target !== undefined && mesh) mesh.forwardOpaque(socket, d.buffered, target);
      else if (target !== undefined) forwardOpaque(socket, target, d.buffered);
      else {
        // Not HTTP and nowhere to send it (explicit mode without a forward address).
        metrics.error('outbound', 'tcp', ProxyErrorLabel.Unexpected);
        socket.destroy();
      }
    });
  };

  const listeners: Listener[] = [];
  for (const addr of config.outbound.listenAddrs) listeners.push(await bindListener(addr, onConnection));
  return {
    listeners,
    async close() {
      await Promise.all(listeners.map((l) => l.stopAccepting()));
      for (const l of listeners) l.destroyConnections();
      await Promise.all([http1.close(), http2.close(), options.mesh?.close()]);
    },
  };
}
