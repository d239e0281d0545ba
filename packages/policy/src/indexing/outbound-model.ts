// What the outbound side knows about one Service port, before translation to the proxy API: the
// app protocol, the routes that attach to it (consumer routes in the client's namespace win over
// the Service's own producer routes, as in Linkerd), and the Service-level retries, timeouts and
// failure accrual.
import { compareRouteAge, type GrpcRoute, type HttpRoute, type ParentRef } from '@tsmesh/core';
import type { ClusterState } from './cluster-state.js';
import {
  parseFailureAccrual,
  parsePortSet,
  parseTimeouts,
  Annotation,
  type FailureAccrual,
  type RouteTimeoutsMs,
} from './service-annotations.js';
import type { ServiceInfo } from './service-info.js';

export type AppProtocol = 'http1' | 'http2' | 'opaque' | 'unknown' | undefined;

export interface OutboundModel {
  readonly service: ServiceInfo;
  readonly port: number;
  readonly appProtocol: AppProtocol;
  readonly opaque: boolean;
  readonly httpRoutes: readonly HttpRoute[];
  readonly grpcRoutes: readonly GrpcRoute[];
  readonly timeouts: RouteTimeoutsMs;
  readonly accrual: FailureAccrual | undefined;
  /** Annotation problems found (reported by the caller). */
  readonly problems: readonly string[];
}

/** Linkerd's reading of a Service port's appProtocol. */
export function parseAppProtocol(value: string | undefined): AppProtocol {
  if (value === undefined) return undefined;
  const v = value.toLowerCase();
  if (v === 'http') return 'http1';
  if (v === 'kubernetes.io/h2c') return 'http2';
  if (v === 'linkerd.io/opaque' || v === 'linkerd.io/tcp') return 'opaque';
  return 'unknown';
}

export function isServiceParent(ref: ParentRef): boolean {
  return ref.kind === 'Service' && (ref.group === '' || ref.group === 'core');
}

function attaches(route: HttpRoute | GrpcRoute, service: ServiceInfo, port: number): boolean {
  return route.parentRefs.some(
    (p) =>
      isServiceParent(p) &&
      p.name === service.name &&
      p.namespace === service.namespace &&
      (p.port === undefined || p.port === port),
  );
}

function pick<R extends HttpRoute | GrpcRoute>(
  routes: readonly R[],
  service: ServiceInfo,
  port: number,
  sourceNamespace: string | undefined,
): R[] {
  const matching = routes.filter((r) => attaches(r, service, port));
  let chosen = matching.filter((r) => r.meta.namespace === service.namespace);
  if (sourceNamespace !== undefined && sourceNamespace !== service.namespace) {
    const consumer = matching.filter((r) => r.meta.namespace === sourceNamespace);
    if (consumer.length > 0) chosen = consumer;
  }
  return chosen.sort((a, b) => compareRouteAge(a.meta, b.meta));
}

export function outboundModel(
  state: ClusterState,
  service: ServiceInfo,
  port: number,
  sourceNamespace: string | undefined,
  defaultOpaquePorts: readonly number[],
): OutboundModel {
  const problems: string[] = [];
  const report = (m: string) => problems.push(`Service ${service.namespace}/${service.name}: ${m}`);
  const svcPort = service.ports.find((p) => p.port === port);
  const opaqueAnnotation = service.annotations[Annotation.OpaquePorts];
  const opaque =
    opaqueAnnotation !== undefined
      ? parsePortSet(opaqueAnnotation).has(port)
      : defaultOpaquePorts.includes(port);
  return {
    service,
    port,
    appProtocol: parseAppProtocol(svcPort?.appProtocol),
    opaque,
    httpRoutes: pick(state.httpRoutes, service, port, sourceNamespace),
    grpcRoutes: pick(state.grpcRoutes, service, port, sourceNamespace),
    timeouts: parseTimeouts(service.annotations, report),
    accrual: parseFailureAccrual(service.annotations, report),
    problems,
  };
}
