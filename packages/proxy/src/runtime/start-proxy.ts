// Starts the whole proxy from a config: metrics registry, mesh TLS (when a certificate source is
// given), inbound, outbound and admin; and stops it with a grace period (stop accepting, let
// in-flight work finish, then close what is left).
import { collectDefaultMetrics, Registry } from 'prom-client';
import { createLogLevelControl, startAdmin, type AdminServer } from '../admin/index.js';
import type { ProxyConfig } from '../config/index.js';
import type { UpstreamTarget } from '../http/index.js';
import { startInbound, type InboundServer } from '../inbound/index.js';
import { createProxyMetrics } from '../metrics/index.js';
import { startOutbound, type OutboundServer } from '../outbound/index.js';
import { createMeshTls, type CertificateSource, type MeshTls } from '../tls/index.js';

export interface StartProxyOptions {
  readonly config: ProxyConfig;
  /** The workload certificate; without it the proxy runs without mesh TLS. */
  readonly certificates?: CertificateSource;
  /** Defaults to config.identity.trustAnchorsPem. */
  readonly trustAnchorsPem?: string;
  identityFor?(target: UpstreamTarget): string | undefined;
  /** Defaults to a fresh registry with process metrics. */
  readonly registry?: Registry;
  onLogFilterChange?(filter: string): void;
}

export interface RunningProxy {
  readonly registry: Registry;
  readonly inbound: InboundServer;
  readonly outbound: OutboundServer;
  readonly admin: AdminServer;
  readonly meshTls: MeshTls | undefined;
  isReady(): boolean;
  /** Resolves when shutdown was asked for (POST /shutdown). */
  readonly shutdownRequested: Promise<void>;
  /** Stops accepting, waits up to graceMs for open connections, then closes everything. */
  shutdown(graceMs?: number): Promise<void>;
}

export async function startProxy(options: StartProxyOptions): Promise<RunningProxy> {
  const { config } = options;
  const registry = options.registry ?? new Registry();
  if (!options.registry) collectDefaultMetrics({ register: registry });
  const metrics = createProxyMetrics(registry);
  const anchors = options.trustAnchorsPem ?? config.identity.trustAnchorsPem;
  const meshTls = options.certificates && anchors ? createMeshTls(options.certificates, anchors) : undefined;
  const inbound = await startInbound({ config, metrics, meshTls });
  // Without discovery, peers named in TSMESH_PROXY_OUTBOUND_PEER_IDENTITIES are the meshed ones.
  const peers = config.outbound.peerIdentities;
  const identityFor =
    options.identityFor ??
    (peers.length === 0
      ? undefined
      : (t: UpstreamTarget) =>
          peers.find((p) => p.host === t.host && (p.port === undefined || p.port === t.port))?.identity);
  const outbound = await startOutbound({ config, metrics, meshTls, identityFor });
  const isReady = () => (options.certificates ? meshTls?.isReady() === true : true);
  let requestShutdown!: () => void;
  const shutdownRequested = new Promise<void>((resolve) => (requestShutdown = resolve));
  const admin = await startAdmin({
    listenAddr: config.admin.listenAddr,
    registry,
    isReady,
    shutdownEndpointEnabled: config.admin.shutdownEndpointEnabled,
    onShutdown: () => requestShutdown(),
    logLevel: createLogLevelControl(config.log, options.onLogFilterChange),
  });

  let stopping: Promise<void> | undefined;
  return {
    registry,
    inbound,
    outbound,
    admin,
    meshTls,
    isReady,
    shutdownRequested,
    shutdown(graceMs = config.shutdownGracePeriodMs) {
      stopping ??= (async () => {
        const listeners = [...inbound.listeners, ...outbound.listeners];
        await Promise.all(listeners.map((l) => l.stopAccepting()));
        const deadline = Date.now() + graceMs;
        while (Date.now() < deadline && listeners.some((l) => l.connections.size > 0)) {
          await new Promise((r) => setTimeout(r, Math.min(50, Math.max(1, deadline - Date.now()))));
        }
        await Promise.all([inbound.close(), outbound.close()]);
        await admin.close();
        meshTls?.close();
      })();
      return stopping;
    },
  };
}
