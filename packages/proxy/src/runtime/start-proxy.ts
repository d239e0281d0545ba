// Starts the whole proxy from a config: metrics registry, mesh TLS (when a certificate source is
// given), inbound, outbound and admin; and stops it with a grace period (stop accepting, let
// in-flight work finish, then close what is left).
import { InboundServerPoliciesClient, MeshError, MeshErrorCode, ProxyEnv } from '@tsmesh/core/data-plane';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { createAccessLog } from '../access-log/index.js';
import { createLogLevelControl, startAdmin, type AdminServer } from '../admin/index.js';
import type { ProxyConfig } from '../config/index.js';
import { createGateway, type InboundGateway } from '../gateway/index.js';
import type { UpstreamTarget } from '../http/index.js';
import { createInboundHooks, startInbound, type InboundServer } from '../inbound/index.js';
import { createInboundPolicy, type InboundPolicy } from '../inbound-policy/index.js';
import { createRecentErrors, type RecentErrors } from '../recent-errors/index.js';
import { createTapHub, startTapServer, type TapHub, type TapServer } from '../tap/index.js';
import { createProxyMetrics, type ProxyMetrics } from '../metrics/index.js';
import { PROXY_ERRORS } from '../errors/index.js';
import {
  createOutboundMeshFromConfig,
  startOutbound,
  type OutboundMesh,
  type OutboundServer,
} from '../outbound/index.js';
import {
  controlPlaneChannelCredentials,
  createMeshTls,
  type CertificateSource,
  type MeshTls,
} from '../tls/index.js';

export interface StartProxyOptions {
  readonly config: ProxyConfig;
  /** The workload certificate; without it the proxy runs without mesh TLS. */
  readonly certificates?: CertificateSource;
  /** Defaults to config.identity.trustAnchorsPem. */
  readonly trustAnchorsPem?: string;
  identityFor?(target: UpstreamTarget): string | undefined;
  /** 'h2' for targets whose proxy accepts HTTP/2 without discovery: HTTP/1 to them goes over HTTP/2 (l5d-orig-proto). */
  protocolHintFor?(target: UpstreamTarget): 'h2' | undefined;
  /** Defaults to a fresh registry with process metrics. */
  readonly registry?: Registry;
  onLogFilterChange?(filter: string): void;
  /** Where access-log lines go (LINKERD2_PROXY_ACCESS_LOG), batched: one or more whole lines per call. Defaults to stderr. */
  writeAccessLog?(line: string): void;
  /** A policy watch failure or an unusable policy (the last good policy stays in force). */
  onPolicyError?(port: number, err: unknown): void;
  /**
   * The outbound's discovery: a control-plane stream failed (retried with backoff), or a target's
   * policy or profile could not be used (the last good state stays in force in both cases).
   */
  onDiscoveryError?(what: string, err: Error): void;
}

export interface RunningProxy {
  readonly registry: Registry;
  readonly inbound: InboundServer;
  readonly outbound: OutboundServer;
  readonly admin: AdminServer;
  readonly meshTls: MeshTls | undefined;
  /** Inbound authorization policy per port (InboundServerPolicies or the default policy). */
  readonly inboundPolicy: InboundPolicy;
  /** Recent errors the proxy produced (admin /errors). */
  readonly recentErrors: RecentErrors;
  readonly tap: TapHub;
  /** The tap server on the control port, when tap is configured (control address, tap identity, mesh TLS). */
  readonly tapServer: TapServer | undefined;
  isReady(): boolean;
  /** Resolves when shutdown was asked for (POST /shutdown). */
  readonly shutdownRequested: Promise<void>;
  /** Stops accepting, waits up to graceMs for open connections, then closes everything. */
  shutdown(graceMs?: number): Promise<void>;
}

/** Gateway mode (LINKERD2_PROXY_INBOUND_GATEWAY_SUFFIXES), which needs discovery and mesh TLS. */
function gatewayFromConfig(
  config: ProxyConfig,
  mesh: OutboundMesh | undefined,
  meshTls: MeshTls | undefined,
  metrics: ProxyMetrics,
): InboundGateway | undefined {
  const suffixes = config.inbound.gatewaySuffixes;
  if (suffixes.length === 0) return undefined;
  if (!mesh || !meshTls) {
    throw new MeshError(MeshErrorCode.Config, 'gateway mode needs discovery and mesh TLS', {
      where: ProxyEnv.InboundGatewaySuffixes,
      hint: `set ${ProxyEnv.DestinationSvcAddr} (or ${ProxyEnv.PolicySvcAddr}) and the identity variables, or unset ${ProxyEnv.InboundGatewaySuffixes}`,
    });
  }
  return createGateway({
    suffixes,
    mesh,
    metrics,
    localIdentity: () => meshTls.localIdentity(),
    detectTimeoutMs: config.inbound.detectTimeoutMs,
  });
}

export async function startProxy(options: StartProxyOptions): Promise<RunningProxy> {
  const { config } = options;
  const registry = options.registry ?? new Registry();
  if (!options.registry) collectDefaultMetrics({ register: registry });
  const metrics = createProxyMetrics(registry);
  const anchors = options.trustAnchorsPem ?? config.identity.trustAnchorsPem;
  const meshTls = options.certificates && anchors ? createMeshTls(options.certificates, anchors) : undefined;
  const recentErrors = createRecentErrors();
  const policyChannel = controlPlaneChannelCredentials(config, 'policy', options.certificates);
  const workload = config.inboundPolicy.workload;
  const policyClient =
    policyChannel && workload !== undefined
      ? new InboundServerPoliciesClient(
          policyChannel.address,
          policyChannel.credentials,
          policyChannel.channelOptions,
        )
      : undefined;
  const inboundPolicy = createInboundPolicy({
    defaultPolicy: config.inboundPolicy.defaultPolicy,
    clusterNetworks: config.inboundPolicy.clusterNetworks,
    requireIdentityPorts: config.inbound.requireIdentityPorts,
    registry,
    recentErrors,
    controlPlane: policyClient && workload !== undefined ? { client: policyClient, workload } : undefined,
    ports: config.inbound.ports.ports,
    onError: options.onPolicyError,
  });
  const tap = createTapHub();
  const writeAccessLog = options.writeAccessLog ?? ((line: string) => process.stderr.write(line));
  const accessLog = config.accessLog ? createAccessLog(config.accessLog, writeAccessLog) : undefined;
  const hooks = createInboundHooks({
    policy: inboundPolicy,
    tap,
    accessLog,
    forwarded: config.clientAddress.forwarded,
    proxyProtocolPorts: config.clientAddress.proxyProtocolPorts,
    recentErrors,
  });
  // The outbound mesh stack (discovery-driven routes, balancing, retries, timeouts, breakers)
  // when a destination or policy service is configured.
  const destinationChannel = controlPlaneChannelCredentials(config, 'destination', options.certificates);
  const outboundMesh = createOutboundMeshFromConfig({
    config,
    registry,
    proxyMetrics: metrics,
    tap,
    meshTls,
    destination: destinationChannel,
    policy: policyChannel,
    onDiscoveryError: options.onDiscoveryError,
    onProxyError: (err, layer) => {
      metrics.error('outbound', layer, PROXY_ERRORS[err.code].errorLabel);
      recentErrors.record({
        code: err.code,
        direction: 'outbound',
        message: err.message,
        ...(err.cause instanceof Error ? { cause: err.cause.message } : {}),
      });
    },
  });
  const gateway = gatewayFromConfig(config, outboundMesh?.mesh, meshTls, metrics);
  const inbound = await startInbound({ config, metrics, meshTls, hooks, gateway });
  // Tap is served only over mesh TLS and only to the tap identity (viz's tap-injector sets it).
  const tapServer =
    config.controlListenAddr && config.tapSvcName && meshTls
      ? await startTapServer({
          listenAddr: config.controlListenAddr,
          meshTls,
          tapIdentity: config.tapSvcName,
          hub: tap,
        })
      : undefined;
  // Without discovery, peers named in TSMESH_PROXY_OUTBOUND_PEER_IDENTITIES are the meshed ones.
  const peers = config.outbound.peerIdentities;
  const identityFor =
    options.identityFor ??
    (peers.length === 0
      ? undefined
      : (t: UpstreamTarget) =>
          peers.find((p) => p.host === t.host && (p.port === undefined || p.port === t.port))?.identity);
  const outbound = await startOutbound({
    config,
    metrics,
    meshTls,
    identityFor,
    protocolHintFor: options.protocolHintFor,
    mesh: outboundMesh?.mesh,
  });
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
    recentErrors,
  });

  let stopping: Promise<void> | undefined;
  return {
    registry,
    inbound,
    outbound,
    admin,
    meshTls,
    inboundPolicy,
    recentErrors,
    tap,
    tapServer,
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
        await Promise.all([inbound.close(), outbound.close(), tapServer?.close()]);
        inboundPolicy.close();
        accessLog?.flush();
        policyClient?.close();
        outboundMesh?.close();
        await admin.close();
        meshTls?.close();
      })();
      return stopping;
    },
  };
}
