// Get and GetProfile as async iterables over shared views (the gRPC adapter in @tsmesh/core turns
// them into server streams and thrown MeshErrors into statuses). Errors follow Linkerd's server:
// a malformed path is INVALID_ARGUMENT with the reason; an unknown Service is NOT_FOUND; an
// ExternalName Service is INVALID_ARGUMENT; a cluster IP shared by several Services is
// FAILED_PRECONDITION. Each stream holds one topic lease and releases it when it ends for any
// reason (client cancel, deadline, shutdown).
import { MeshError, MeshErrorCode, type CallContext, type destination } from '@tsmesh/core';
import type { Logger } from '@tsmesh/kube';
import {
  parseContextToken,
  parseDestinationPath,
  type ContextToken,
  type DestinationTarget,
} from '../domain/index.js';
import { EndpointUpdates, type EndpointView } from '../translators/index.js';
import {
  endpointProfileView,
  ipAddress,
  ipView,
  nodeZone,
  sameEndpointView,
  sameProfile,
  serviceProfileView,
  serviceView,
  type ClusterState,
  type Profile,
  type ProfileConfig,
  type TopicLease,
  type Topics,
} from '../watchers/index.js';
import type { DestinationMetrics, StreamMethod } from './destination-metrics.js';

export interface DestinationHandlerConfig extends ProfileConfig {
  /** Answer Get for IP paths (cluster IPs and pod IPs); Linkerd's own server refuses them. */
  readonly ipQueries: boolean;
}

export interface DestinationHandlerDeps {
  readonly state: ClusterState;
  readonly config: DestinationHandlerConfig;
  readonly endpointTopics: Topics<EndpointView>;
  readonly profileTopics: Topics<Profile>;
  readonly metrics: DestinationMetrics;
  readonly logger: Logger;
  /** Ends every stream (service shutdown). */
  readonly shutdown: AbortSignal;
  /** Resolves once the cluster state has been read (or its sync timeout passed). */
  readonly ready: (signal: AbortSignal) => Promise<void>;
  /** Counts open streams. */
  readonly onStream: (delta: 1 | -1) => void;
}

type GetRequest = destination.GetDestination;

function invalidAuthority(path: string, reason: string): MeshError {
  return new MeshError(MeshErrorCode.InvalidArgument, `invalid authority "${path}": ${reason}`, {
    where: 'GetDestination.path',
  });
}

export function createDestinationHandlers(deps: DestinationHandlerDeps) {
  const { state, config, metrics, logger } = deps;

  function begin(request: GetRequest, context: CallContext, method: StreamMethod) {
    const path = request.path ?? '';
    const target = parseDestinationPath(path, config.clusterDomain);
    const token = parseContextToken(request.contextToken ?? '', (reason) =>
      logger.debug({ method, path, peer: context.peer }, reason),
    );
    const signal = AbortSignal.any([context.signal, deps.shutdown]);
    return { path, target, token, signal };
  }

  async function* stream<V, M>(
    method: StreamMethod,
    signal: AbortSignal,
    lease: TopicLease<V>,
    toMessages: (value: V) => M[],
  ): AsyncGenerator<M> {
    metrics.subscriptions.inc({ method });
    deps.onStream(1);
    try {
      for await (const value of lease.value.subscribe(signal)) {
        for (const message of toMessages(value)) {
          metrics.updates.inc({ method });
          yield message;
        }
      }
    } finally {
      lease.release();
      metrics.subscriptions.dec({ method });
      deps.onStream(-1);
    }
  }

  function clusterIpService(path: string, ip: string) {
    const services = state.servicesByClusterIp(ip);
    if (services.length > 1) {
      const names = services.map((s) => `${s.metadata?.namespace}/${s.metadata?.name}`).join(', ');
      throw new MeshError(
        MeshErrorCode.FailedPrecondition,
        `found ${services.length} services with conflicting cluster IP ${ip}: ${names}`,
        { where: path },
      );
    }
    return services[0];
  }

  function serviceLease(
    path: string,
    target: { namespace: string; name: string; port: number; hostname: string | undefined },
  ): TopicLease<EndpointView> {
    const service = state.service(target.namespace, target.name);
    if (!service) {
      throw new MeshError(MeshErrorCode.NotFound, `Service ${target.name}.${target.namespace} not found`, {
        where: path,
      });
    }
    if (service.spec?.type === 'ExternalName') {
      throw invalidAuthority(path, `${target.name}.${target.namespace} is an ExternalName service`);
    }
    const key = `svc:${target.namespace}/${target.name}:${target.port}:${target.hostname ?? ''}`;
    return deps.endpointTopics.acquire(
      key,
      (previous) => serviceView(state, config, target, previous),
      sameEndpointView,
    );
  }

  function endpointLease(path: string, target: DestinationTarget): TopicLease<EndpointView> {
    if (target.kind === 'service') return serviceLease(path, target);
    if (!config.ipQueries) {
      throw invalidAuthority(path, `IP queries not supported by Get API: host=${target.ip}`);
    }
    const service = clusterIpService(path, target.ip);
    if (service) {
      return serviceLease(path, {
        namespace: service.metadata?.namespace ?? 'default',
        name: service.metadata?.name ?? '',
        port: target.port,
        hostname: undefined,
      });
    }
    return deps.endpointTopics.acquire(
      `ip:${target.ip}:${target.port}`,
      (previous) => ipView(state, config, target.ip, target.port, previous),
      sameEndpointView,
    );
  }

  function clientZone(token: ContextToken): string | undefined {
    if (token.zone) return token.zone;
    return token.nodeName ? nodeZone(state, token.nodeName) : undefined;
  }

  async function* get(
    request: GetRequest,
    context: CallContext,
  ): AsyncGenerator<destination.Update.$Properties> {
    const { path, target, token, signal } = begin(request, context, 'Get');
    await deps.ready(signal);
    if (signal.aborted) return;
    const lease = endpointLease(path, target);
    const updates = new EndpointUpdates(config.translation, clientZone(token));
    logger.debug({ path, peer: context.peer }, 'Get');
    yield* stream('Get', signal, lease, (view) => updates.next(view));
  }

  function profileLease(path: string, target: DestinationTarget, token: ContextToken): TopicLease<Profile> {
    const topics = deps.profileTopics;
    if (target.kind === 'ip') {
      const service = clusterIpService(path, target.ip);
      if (!service) {
        return topics.acquire(
          `ip:${target.ip}:${target.port}`,
          () => endpointProfileView(config, ipAddress(state, config, target.ip, target.port)),
          sameProfile,
        );
      }
      const namespace = service.metadata?.namespace ?? 'default';
      const name = service.metadata?.name ?? '';
      return serviceProfileLease({ namespace, name, port: target.port, clientNamespace: token.ns });
    }
    if (target.hostname !== undefined) {
      const hostname = target.hostname;
      return topics.acquire(
        `host:${target.namespace}/${target.name}/${hostname}:${target.port}`,
        () => {
          const view = serviceView(state, config, { ...target, hostname }, undefined);
          const address = view.addresses.values().next().value;
          return address
            ? endpointProfileView(config, address)
            : endpointProfileView(config, { ip: '', port: target.port, zone: undefined, pod: undefined });
        },
        sameProfile,
      );
    }
    return serviceProfileLease({ ...target, clientNamespace: token.ns });
  }

  function serviceProfileLease(target: {
    namespace: string;
    name: string;
    port: number;
    clientNamespace: string | undefined;
  }): TopicLease<Profile> {
    const key = `svc:${target.namespace}/${target.name}:${target.port}:${target.clientNamespace ?? ''}`;
    return deps.profileTopics.acquire(key, () => serviceProfileView(state, config, target), sameProfile);
  }

  async function* getProfile(request: GetRequest, context: CallContext): AsyncGenerator<Profile> {
    const { path, target, token, signal } = begin(request, context, 'GetProfile');
    await deps.ready(signal);
    if (signal.aborted) return;
    const lease = profileLease(path, target, token);
    logger.debug({ path, peer: context.peer }, 'GetProfile');
    yield* stream('GetProfile', signal, lease, (profile) => [profile]);
  }

  return { get, getProfile };
}
