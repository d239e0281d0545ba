// The destination service wired together: cluster state from an ObjectSource → shared views →
// Get/GetProfile handlers on a grpc-js server; optionally the admin server (/metrics, /ready once
// the cluster state is read, /live). Everything ends on close() or when the signal aborts.
import { Server, ServerCredentials } from '@grpc/grpc-js';
import {
  addDestinationService,
  DEFAULT_OPAQUE_PORTS,
  MeshError,
  MeshErrorCode,
  shutdownGrpcServer,
  type destination,
} from '@tsmesh/core';
import {
  silentLogger,
  startAdminServer,
  type AdminServer,
  type Logger,
  type ObjectSource,
} from '@tsmesh/kube';
import { Registry } from 'prom-client';
import { parsePortSet } from '../domain/index.js';
import { DEFAULT_MESHED_HTTP2, type EndpointView } from '../translators/index.js';
import {
  ClusterState,
  RemoteClusters,
  Topics,
  type Profile,
  type RemoteClusterDiscovery,
} from '../watchers/index.js';
import { createDestinationHandlers, type DestinationHandlerConfig } from './destination-handlers.js';
import { createDestinationMetrics, type DestinationMetrics } from './destination-metrics.js';

export interface DestinationServiceOptions {
  /** Where Services, EndpointSlices, Pods, Namespaces, Nodes, Servers and ServiceProfiles come from. */
  readonly source: ObjectSource;
  /** gRPC listen host; default 127.0.0.1. */
  readonly host?: string;
  /** gRPC port; default 8086; 0 picks a free port. */
  readonly port?: number;
  /** Default cluster.local. */
  readonly clusterDomain?: string;
  /** Identity trust domain; default cluster.local; '' sends no TLS identities. */
  readonly trustDomain?: string;
  /** Default linkerd. */
  readonly controlPlaneNamespace?: string;
  /** Ports treated as opaque when nothing annotates them; default Linkerd's list. */
  readonly defaultOpaquePorts?: Iterable<number> | string;
  /** Hint H2 for meshed endpoints (Linkerd's -enable-h2-upgrade); default true. */
  readonly enableH2Upgrade?: boolean;
  /** Serve IPv6 endpoints (Linkerd's -enable-ipv6); default false. */
  readonly enableIpv6?: boolean;
  /** OpaqueTransport for every meshed endpoint; default false. */
  readonly forceOpaqueTransport?: boolean;
  /** Http2ClientParams for meshed endpoints; default keep-alive 10 s / 3 s while idle; null: none. */
  readonly meshedHttp2ClientParams?: destination.Http2ClientParams.$Properties | null;
  /** Answer Get for cluster IPs and pod IPs (Linkerd refuses IP paths in Get); default true. */
  readonly ipQueries?: boolean;
  /** How long streams wait for the first read of every kind before serving what there is; default 10 s. */
  readonly syncTimeoutMs?: number;
  /**
   * Linked clusters for remote discovery (multicluster): Services labelled by the service mirror
   * for remote discovery, and federated Services, resolve to those clusters' endpoints. Default none.
   */
  readonly remoteDiscovery?: RemoteClusterDiscovery;
  /** Admin server port (/metrics, /ready, /live); default none. */
  readonly adminPort?: number;
  readonly adminHost?: string;
  readonly logger?: Logger;
  readonly registry?: Registry;
  readonly signal?: AbortSignal;
}

export interface DestinationService {
  /** The gRPC port. */
  readonly port: number;
  /** `host:port` to dial. */
  readonly address: string;
  readonly adminPort: number | undefined;
  readonly metrics: DestinationMetrics;
  /** Open Get and GetProfile streams. */
  subscriptions(): number;
  /** True once every kind has been read. */
  isReady(): boolean;
  close(): Promise<void>;
}

function opaquePorts(value: DestinationServiceOptions['defaultOpaquePorts']): ReadonlySet<number> {
  if (value === undefined) return new Set(DEFAULT_OPAQUE_PORTS);
  if (typeof value !== 'string') return new Set(value);
  const parsed = parsePortSet(value);
  if (parsed.invalid.length > 0 || parsed.names.length > 0) {
    throw new MeshError(
      MeshErrorCode.Config,
      `"${[...parsed.invalid, ...parsed.names].join(',')}" is not a port or port range`,
      { where: 'defaultOpaquePorts', hint: 'e.g. 25,587,3306,4444,5432,6379,9300,11211' },
    );
  }
  return parsed.ports;
}

export async function startDestinationService(
  options: DestinationServiceOptions,
): Promise<DestinationService> {
  const logger = options.logger ?? silentLogger;
  const registry = options.registry ?? new Registry();
  const metrics = createDestinationMetrics(registry);
  const controlPlaneNamespace = options.controlPlaneNamespace ?? 'linkerd';
  const config: DestinationHandlerConfig = Object.freeze({
    clusterDomain: options.clusterDomain ?? 'cluster.local',
    defaultOpaquePorts: opaquePorts(options.defaultOpaquePorts),
    enableIpv6: options.enableIpv6 ?? false,
    ipQueries: options.ipQueries ?? true,
    translation: Object.freeze({
      controlPlaneNamespace,
      trustDomain: options.trustDomain ?? 'cluster.local',
      enableH2Upgrade: options.enableH2Upgrade ?? true,
      forceOpaqueTransport: options.forceOpaqueTransport ?? false,
      meshedHttp2:
        options.meshedHttp2ClientParams === null
          ? undefined
          : (options.meshedHttp2ClientParams ?? DEFAULT_MESHED_HTTP2),
    }),
  });

  const controller = new AbortController();
  const onOuterAbort = () => void close();
  options.signal?.addEventListener('abort', onOuterAbort, { once: true });

  // A linked cluster's change can move the endpoints of any remote-discovery Service.
  const remote = options.remoteDiscovery
    ? new RemoteClusters({ logger, onChange: () => refreshRemoteViews() })
    : undefined;
  const state = new ClusterState({
    source: options.source,
    logger,
    onWatchRestart: (kind) => metrics.watchRestarts.inc({ kind }),
    onMalformed: (kind) => metrics.malformed.inc({ kind }),
    ...(remote ? { remoteClusters: remote.lookup } : {}),
  });
  const endpointTopics = new Topics<EndpointView>('endpoints', logger);
  const profileTopics = new Topics<Profile>('profiles', logger);
  // Topic keys are `svc:<ns>/…`, `host:<ns>/…` or `ip:…`; IP topics may be any pod's, so they are
  // always recomputed, the others only when their namespace changed.
  const stopListening = state.onChange((changed) => {
    const only =
      changed === 'all'
        ? undefined
        : (key: string) => {
            if (key.startsWith('ip:')) return true;
            const start = key.indexOf(':') + 1;
            return changed.has(key.slice(start, key.indexOf('/', start)));
          };
    endpointTopics.refresh(only);
    profileTopics.refresh(only);
  });
  state.start(controller.signal);
  if (remote && options.remoteDiscovery) remote.start(options.remoteDiscovery, controller.signal);
  function refreshRemoteViews(): void {
    endpointTopics.refresh((key) => key.startsWith('svc:'));
  }

  const syncTimeoutMs = options.syncTimeoutMs ?? 10_000;
  let synced: Promise<void> | undefined;
  const ready = async (signal: AbortSignal) => {
    synced ??= state.waitForSync(controller.signal, syncTimeoutMs).then((complete) => {
      if (!complete && !controller.signal.aborted) {
        logger.warn({ unsynced: state.unsynced() }, 'serving before every kind was read');
      }
    });
    await Promise.race([
      synced,
      new Promise<void>((resolve) => {
        if (signal.aborted) resolve();
        else signal.addEventListener('abort', () => resolve(), { once: true });
      }),
    ]);
  };
  let streams = 0;
  const handlers = createDestinationHandlers({
    state,
    config,
    endpointTopics,
    profileTopics,
    metrics,
    logger,
    shutdown: controller.signal,
    ready,
    onStream: (delta) => {
      streams += delta;
    },
  });

  const server = new Server({ 'grpc.max_receive_message_length': 1 << 20 });
  addDestinationService(server, handlers);
  const host = options.host ?? '127.0.0.1';
  const bindHost = host.includes(':') ? `[${host}]` : host;
  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`${bindHost}:${options.port ?? 8086}`, ServerCredentials.createInsecure(), (err, p) =>
        err
          ? reject(
              new MeshError(MeshErrorCode.Config, `cannot listen: ${err.message}`, {
                where: `${host}:${options.port ?? 8086}`,
                cause: err,
              }),
            )
          : resolve(p),
      ),
    );
  } catch (err) {
    controller.abort();
    await state.stopped();
    await remote?.stopped();
    throw err;
  }

  let admin: AdminServer | undefined;
  if (options.adminPort !== undefined) {
    try {
      admin = await startAdminServer({
        registry,
        host: options.adminHost,
        port: options.adminPort,
        isReady: () => true,
        readinessChecks: { 'cluster-state-synced': () => state.synced },
        logger,
      });
    } catch (err) {
      await close();
      throw err;
    }
  }
  logger.info({ port, adminPort: admin?.port, ...summary(config) }, 'destination service started');

  let closing: Promise<void> | undefined;
  function close(): Promise<void> {
    closing ??= (async () => {
      options.signal?.removeEventListener('abort', onOuterAbort);
      controller.abort();
      stopListening();
      endpointTopics.closeAll();
      profileTopics.closeAll();
      await shutdownGrpcServer(server);
      await state.stopped();
      await remote?.stopped();
      await admin?.close();
    })();
    return closing;
  }

  return {
    port,
    address: `${bindHost}:${port}`,
    get adminPort() {
      return admin?.port;
    },
    metrics,
    subscriptions: () => streams,
    isReady: () => state.synced,
    close,
  };
}

function summary(config: DestinationHandlerConfig) {
  return {
    clusterDomain: config.clusterDomain,
    trustDomain: config.translation.trustDomain,
    controlPlaneNamespace: config.translation.controlPlaneNamespace,
  };
}
