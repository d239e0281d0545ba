// startPolicyService: the controller in one call — index an ObjectSource, serve the inbound and
// outbound policy APIs over gRPC, and optionally the admin server, the validating admission
// webhook and (Kubernetes mode) route status under leader election. In-process callers (local
// mode) pass a DirectoryObjectSource or a MemoryObjectSource; the binary passes the API source.
import { Server, ServerCredentials } from '@grpc/grpc-js';
import {
  addProxyApiService,
  DEFAULT_CLUSTER_NETWORKS,
  DEFAULT_OPAQUE_PORTS,
  DefaultInboundPolicy,
  MeshError,
  MeshErrorCode,
  parseDefaultInboundPolicy,
  parseIpNetwork,
  shutdownGrpcServer,
} from '@tsmesh/core';
import {
  createAdmissionWebhookServer,
  startAdminServer,
  silentLogger,
  type AdminServer,
  type AdmissionWebhookServer,
  type KubeApiClient,
  type Logger,
  type ObjectSource,
} from '@tsmesh/kube';
import { Registry } from 'prom-client';
import { createPolicyAdmissionHandler } from '../admission/index.js';
import { InboundPoliciesDefinition, OutboundPoliciesDefinition, PolicyServices } from '../grpc/index.js';
import { PolicyIndexer, type ClusterState } from '../indexing/index.js';
import { startRouteStatusController, type RouteStatusController } from '../status/index.js';

export interface PolicyServiceOptions {
  readonly source: ObjectSource;
  /** gRPC listen host. Default 127.0.0.1. */
  readonly host?: string;
  /** gRPC port; 0 picks a free one. Default 8090. */
  readonly port?: number;
  /** CIDRs of the cluster (cluster-* policies, unset ServerAuthorization networks). */
  readonly clusterNetworks?: readonly string[];
  /** DNS suffix of Services. Default cluster.local. */
  readonly clusterDomain?: string;
  /** Trust domain of identities. Default cluster.local. */
  readonly identityDomain?: string;
  /** Default linkerd. */
  readonly controlPlaneNamespace?: string;
  /** Default all-unauthenticated. */
  readonly defaultPolicy?: string;
  /** Default Linkerd's list (25,587,3306,4444,5432,6379,9300,11211). */
  readonly defaultOpaquePorts?: readonly number[];
  /** Networks kubelet probes come from. Default all. */
  readonly probeNetworks?: readonly string[];
  /** Namespace of cluster-wide EgressNetworks. Default `linkerd-egress`. */
  readonly globalEgressNetworkNamespace?: string;
  /** Service routes allow l5d-* per-request retry/timeout headers. Default false. */
  readonly allowL5dRequestHeaders?: boolean;
  readonly logger?: Logger;
  readonly registry?: Registry;
  readonly signal?: AbortSignal;
  /** /metrics /ready /live. Not started unless given. */
  readonly admin?: { readonly host?: string; readonly port?: number };
  /** The validating admission webhook (HTTPS). Not started unless given. */
  readonly admission?: {
    readonly host?: string;
    readonly port?: number;
    readonly certFile: string;
    readonly keyFile: string;
  };
  /** Kubernetes mode: write route status under Lease leader election. */
  readonly status?: {
    readonly client: KubeApiClient;
    /** Namespace of the Lease (the control-plane namespace). */
    readonly leaseNamespace?: string;
    /** Unique per replica. */
    readonly identity: string;
    readonly leaseDurationMs?: number;
    readonly renewDeadlineMs?: number;
    readonly retryPeriodMs?: number;
  };
}

export interface PolicyService {
  readonly port: number;
  /** `host:port` of the gRPC server. */
  readonly address: string;
  readonly adminPort: number | undefined;
  readonly admissionPort: number | undefined;
  /** The newest indexed state (for tests and diagnostics). */
  state(): ClusterState | undefined;
  /** Open watch streams (WatchPort + Watch). */
  subscriptions(): number;
  close(): Promise<void>;
}

function config(where: string, message: string, hint?: string): MeshError {
  return new MeshError(MeshErrorCode.Config, message, { where, ...(hint ? { hint } : {}) });
}

function checkNetworks(list: readonly string[], where: string): readonly string[] {
  list.forEach((cidr, i) => {
    try {
      parseIpNetwork(cidr, `${where}[${i}]`);
    } catch {
      throw config(`${where}[${i}]`, `"${cidr}" is not a CIDR`, 'write networks such as 10.0.0.0/8,fd00::/8');
    }
  });
  return list;
}

export async function startPolicyService(options: PolicyServiceOptions): Promise<PolicyService> {
  const logger = options.logger ?? silentLogger;
  const registry = options.registry ?? new Registry();
  const clusterNetworks = checkNetworks(
    options.clusterNetworks ?? DEFAULT_CLUSTER_NETWORKS,
    'clusterNetworks',
  );
  const probeNetworks = options.probeNetworks
    ? checkNetworks(options.probeNetworks, 'probeNetworks')
    : undefined;
  const defaultPolicy =
    options.defaultPolicy === undefined
      ? DefaultInboundPolicy.AllUnauthenticated
      : parseDefaultInboundPolicy(options.defaultPolicy);
  if (!defaultPolicy) {
    throw config(
      'defaultPolicy',
      `"${options.defaultPolicy}" is not a default policy`,
      `use one of ${Object.values(DefaultInboundPolicy).join(', ')}`,
    );
  }
  const defaultOpaquePorts = options.defaultOpaquePorts ?? DEFAULT_OPAQUE_PORTS;
  const clusterDomain = options.clusterDomain ?? 'cluster.local';
  const controller = new AbortController();
  const onOuterAbort = () => void close();
  options.signal?.addEventListener('abort', onOuterAbort, { once: true });

  const indexer = new PolicyIndexer({
    source: options.source,
    index: {
      clusterNetworks,
      probeNetworks,
      defaultPolicy,
      defaultOpaquePorts,
      controlPlaneNamespace: options.controlPlaneNamespace ?? 'linkerd',
      trustDomain: options.identityDomain ?? 'cluster.local',
    },
    logger,
    registry,
    signal: controller.signal,
  });
  const services = new PolicyServices({
    indexer,
    clusterDomain,
    defaultOpaquePorts,
    globalEgressNetworkNamespace: options.globalEgressNetworkNamespace,
    allowL5dRequestHeaders: options.allowL5dRequestHeaders,
    logger,
    registry,
  });
  const server = new Server({ 'grpc.max_receive_message_length': 1 << 20 });
  addProxyApiService(server, InboundPoliciesDefinition, services.inboundHandlers);
  addProxyApiService(server, OutboundPoliciesDefinition, services.outboundHandlers);

  let admin: AdminServer | undefined;
  let webhook: AdmissionWebhookServer | undefined;
  let status: RouteStatusController | undefined;
  let grpcBound = false;
  let admissionPort: number | undefined;
  let closing: Promise<void> | undefined;

  async function close(): Promise<void> {
    closing ??= (async () => {
      options.signal?.removeEventListener('abort', onOuterAbort);
      controller.abort();
      await status?.close();
      await indexer.close();
      if (grpcBound) {
        // Watches end when their client goes; on shutdown they are cut at once.
        await shutdownGrpcServer(server, 0);
      }
      await webhook?.close();
      await admin?.close();
    })();
    return closing;
  }

  try {
    if (options.admin) {
      admin = await startAdminServer({
        registry,
        host: options.admin.host,
        port: options.admin.port ?? 9990,
        isReady: () => true,
        readinessChecks: { 'policy-index-synced': () => indexer.synced },
        logger,
      });
    }
    await indexer.start();
    if (controller.signal.aborted) throw new MeshError(MeshErrorCode.Aborted, 'policy service start aborted');
    const host = options.host ?? '127.0.0.1';
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(
        `${host.includes(':') ? `[${host}]` : host}:${options.port ?? 8090}`,
        ServerCredentials.createInsecure(),
        (err, p) => (err ? reject(err) : resolve(p)),
      ),
    );
    grpcBound = true;
    if (options.admission) {
      webhook = createAdmissionWebhookServer({
        certFile: options.admission.certFile,
        keyFile: options.admission.keyFile,
        host: options.admission.host,
        port: options.admission.port ?? 9443,
        handlers: { '/': createPolicyAdmissionHandler({ indexer }) },
        logger,
        registry,
      });
      admissionPort = (await webhook.start()).port;
    }
    if (options.status) {
      status = startRouteStatusController({
        ...options.status,
        leaseNamespace: options.status.leaseNamespace ?? options.controlPlaneNamespace ?? 'linkerd',
        indexer,
        logger,
        registry,
      });
    }
    logger.info({ port, adminPort: admin?.port, admissionPort }, 'policy controller started');
    return {
      port,
      address: `${host}:${port}`,
      adminPort: admin?.port,
      admissionPort,
      state: () => indexer.current,
      subscriptions: () => services.subscriptions(),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
