// Builds the outbound mesh stack from the proxy config: gRPC clients of Destination and
// OutboundPolicies (addresses from LINKERD2_PROXY_DESTINATION_SVC_ADDR / POLICY_SVC_ADDR, channel
// credentials from the caller), discovery with the context token and source workload, and the
// mesh front. Without either control-plane service there is no mesh stack (plain forwarding).
import type { ChannelCredentials, ChannelOptions } from '@grpc/grpc-js';
import { DestinationClient, OutboundPoliciesClient } from '@tsmesh/core/data-plane';
import type { Registry } from 'prom-client';
import type { ProxyConfig } from '../config/index.js';
import { createDiscovery, type Discovery } from '../discovery/index.js';
import type { ProxyError } from '../errors/index.js';
import type { ProxyMetrics } from '../metrics/index.js';
import type { TapHub } from '../tap/index.js';
import type { MeshTls } from '../tls/index.js';
import { createMeshMetrics } from './mesh-metrics.js';
import { createOutboundMesh, type OutboundMesh } from './outbound-mesh.js';

export interface ControlChannel {
  readonly address: string;
  readonly credentials: ChannelCredentials;
  readonly channelOptions?: ChannelOptions;
}

export interface MeshFromConfigOptions {
  readonly config: ProxyConfig;
  readonly registry: Registry;
  /** The proxy's request_total/response_total families (shared with the rest of the proxy). */
  readonly proxyMetrics?: ProxyMetrics;
  readonly meshTls: MeshTls | undefined;
  readonly destination: ControlChannel | undefined;
  readonly policy: ControlChannel | undefined;
  /** Live tap hub (outbound requests are tapped as well as inbound ones). */
  readonly tap?: TapHub;
  /** A control-plane stream failed (it is retried with backoff; the last state stays in force). */
  onDiscoveryError?(what: string, err: Error): void;
  /** A request the proxy answered itself with an error (for the recent-errors listing). */
  onProxyError?(err: ProxyError, layer: 'http' | 'tcp'): void;
}

export interface ConfiguredMesh {
  readonly mesh: OutboundMesh;
  readonly discovery: Discovery;
  /** Closes the discovery streams and the gRPC channels (the mesh is closed by the outbound server). */
  close(): void;
}

export function createOutboundMeshFromConfig(options: MeshFromConfigOptions): ConfiguredMesh | undefined {
  const { config } = options;
  if (!options.destination && !options.policy) return undefined;
  const d = config.outboundDiscovery;
  const destination = options.destination
    ? new DestinationClient(
        options.destination.address,
        options.destination.credentials,
        options.destination.channelOptions,
      )
    : undefined;
  const policy = options.policy
    ? new OutboundPoliciesClient(
        options.policy.address,
        options.policy.credentials,
        options.policy.channelOptions,
      )
    : undefined;
  const discovery = createDiscovery({
    destination,
    policy,
    contextToken: d.destinationContext,
    sourceWorkload: d.policyWorkload,
    idleTimeoutMs: d.idleTimeoutMs,
    onError: options.onDiscoveryError,
  });
  const mesh = createOutboundMesh({
    discovery,
    meshTls: options.meshTls,
    metrics: createMeshMetrics(options.registry),
    connectTimeoutMs: config.outbound.connectTimeoutMs,
    idleTimeoutMs: d.idleTimeoutMs,
    discoveryTimeoutMs: d.httpFailfastTimeoutMs,
    profileTimeoutMs: d.profileInitialTimeoutMs,
    queue: { capacity: d.httpQueueCapacity, failfastMs: d.httpFailfastTimeoutMs },
    http2: { initialStreamWindowSize: config.http2.initialStreamWindowSize },
    onError: options.onProxyError,
    onPlanError: (authority, err) => options.onDiscoveryError?.(`the routes of ${authority}`, err),
    proxyMetrics: options.proxyMetrics,
    tap: options.tap,
    http1Engine: config.http1Engine,
    http2Engine: config.http2Engine,
  });
  return {
    mesh,
    discovery,
    close() {
      discovery.close();
      destination?.close();
      policy?.close();
    },
  };
}
