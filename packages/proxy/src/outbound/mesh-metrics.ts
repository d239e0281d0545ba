// Linkerd's outbound route, backend, retry and balancer families (linkerd2-proxy
// app/outbound http/logical/policy/route/metrics and balancer metrics), registered on the proxy's
// registry. Route families exist twice, `outbound_http_route_*` and `outbound_grpc_route_*`; gRPC
// ones carry `grpc_status` where HTTP ones carry `http_status`. Errors use linkerd's route error
// label values (FAIL_FAST, LOAD_SHED, REQUEST_TIMEOUT, …) from the error catalogue.
import { Counter, Gauge, type Registry } from 'prom-client';
import {
  BatchedCounter,
  cleanLabels,
  FastHistogram,
  type HistogramChild,
  type PendingCount,
} from '../metrics/hot-path.js';
import type { BackendLabels, ParentLabels, RouteLabels } from '../route/index.js';

const PARENT = [
  'parent_group',
  'parent_kind',
  'parent_namespace',
  'parent_name',
  'parent_port',
  'parent_section_name',
] as const;
const ROUTE = ['route_group', 'route_kind', 'route_namespace', 'route_name'] as const;
const BACKEND = [
  'backend_group',
  'backend_kind',
  'backend_namespace',
  'backend_name',
  'backend_port',
  'backend_section_name',
] as const;
/** linkerd2-proxy: request durations keep few buckets, backend response durations more. */
const REQUEST_BUCKETS = [0.05, 0.5, 1, 10];
const RESPONSE_BUCKETS = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 10];

export type RouteProtocol = 'http' | 'grpc';
export type RouteKey = ParentLabels & RouteLabels & { readonly hostname: string };
export type RouteBackendKey = ParentLabels & RouteLabels & BackendLabels;

interface RouteFamilies {
  requestDuration: FastHistogram;
  requestStatuses: BatchedCounter;
  backendRequests: BatchedCounter;
  backendResponseDuration: FastHistogram;
  backendResponseStatuses: BatchedCounter;
  retryRequests: Counter;
  retrySuccesses: Counter;
  retryLimitExceeded: Counter;
  retryOverflow: Counter;
}

export interface MeshMetrics {
  routeRequest(proto: RouteProtocol, key: RouteKey, seconds: number, status: string, error: string): void;
  backendRequest(proto: RouteProtocol, key: RouteBackendKey): void;
  backendResponse(
    proto: RouteProtocol,
    key: RouteBackendKey,
    seconds: number,
    status: string,
    error: string,
  ): void;
  retry(
    proto: RouteProtocol,
    key: RouteKey,
    outcome: 'requests' | 'successes' | 'limit_exceeded' | 'overflow',
  ): void;
  /** Sets `outbound_http_balancer_endpoints{endpoint_state}` for one backend. */
  balancerEndpoints(parent: ParentLabels, backend: BackendLabels, ready: number, pending: number): void;
  /** Endpoint ejections by failure accrual, and how many are ejected now. */
  breakerEjection(parent: ParentLabels, backend: BackendLabels): void;
  breakerOpen(parent: ParentLabels, backend: BackendLabels, open: number): void;
  /** Drops a backend's balancer series (its target was evicted). */
  forgetBackend(parent: ParentLabels, backend: BackendLabels): void;
}

/** A counter fed on the hot path without label hashing, flushed when the registry collects. */
function batched(registers: Registry[], name: string, help: string, labelNames: string[]): BatchedCounter {
  const b = new BatchedCounter();
  b.attach(new Counter({ name, help, labelNames, registers, collect: () => b.flush() }));
  return b;
}

function routeFamilies(registry: Registry, proto: RouteProtocol): RouteFamilies {
  const statusLabel = proto === 'http' ? 'http_status' : 'grpc_status';
  const p = `outbound_${proto}_route`;
  const routeLabels = [...PARENT, ...ROUTE, 'hostname'];
  const backendLabels = [...PARENT, ...ROUTE, ...BACKEND];
  const reg = [registry];
  return {
    requestDuration: new FastHistogram(
      `${p}_request_duration_seconds`,
      'The time between request initialization and response completion.',
      REQUEST_BUCKETS,
      reg,
    ),
    requestStatuses: batched(reg, `${p}_request_statuses_total`, 'Completed request-response streams.', [
      ...routeLabels,
      statusLabel,
      'error',
    ]),
    backendRequests: batched(
      reg,
      `${p}_backend_requests_total`,
      'The total number of requests dispatched.',
      backendLabels,
    ),
    backendResponseDuration: new FastHistogram(
      `${p}_backend_response_duration_seconds`,
      'The time between request initialization and response completion.',
      RESPONSE_BUCKETS,
      reg,
    ),
    backendResponseStatuses: batched(reg, `${p}_backend_response_statuses_total`, 'Completed responses.', [
      ...backendLabels,
      statusLabel,
      'error',
    ]),
    retryRequests: new Counter({
      name: `${p}_retry_requests_total`,
      help: 'Retry requests emitted.',
      labelNames: routeLabels,
      registers: reg,
    }),
    retrySuccesses: new Counter({
      name: `${p}_retry_successes_total`,
      help: 'Successful responses to retry requests.',
      labelNames: routeLabels,
      registers: reg,
    }),
    retryLimitExceeded: new Counter({
      name: `${p}_retry_limit_exceeded_total`,
      help: 'Retryable requests not sent due to the retry limit.',
      labelNames: routeLabels,
      registers: reg,
    }),
    retryOverflow: new Counter({
      name: `${p}_retry_overflow_total`,
      help: 'Retryable requests not sent due to circuit breakers or the retry budget.',
      labelNames: routeLabels,
      registers: reg,
    }),
  };
}

export function createMeshMetrics(registry: Registry): MeshMetrics {
  const fams = { http: routeFamilies(registry, 'http'), grpc: routeFamilies(registry, 'grpc') };
  const balancer = new Gauge({
    name: 'outbound_http_balancer_endpoints',
    help: 'The number of endpoints in the balancer, by state.',
    labelNames: [...PARENT, ...BACKEND, 'endpoint_state'],
    registers: [registry],
  });
  const ejections = new Counter({
    name: 'outbound_http_balancer_endpoint_ejections_total',
    help: 'Endpoints ejected by failure accrual (consecutive failures).',
    labelNames: [...PARENT, ...BACKEND],
    registers: [registry],
  });
  const open = new Gauge({
    name: 'outbound_http_balancer_endpoints_ejected',
    help: 'Endpoints currently ejected by failure accrual (circuit breaker open).',
    labelNames: [...PARENT, ...BACKEND],
    registers: [registry],
  });
  const statusKey = (proto: RouteProtocol) => (proto === 'http' ? 'http_status' : 'grpc_status');
  // prom-client hashes the label set on every inc/observe. The stack passes the same label object
  // for a route or route-backend (cached per plan), so children are resolved once per object,
  // protocol and status/error pair, then only added to: no key string is built per request.
  interface ProtoChildren {
    duration?: HistogramChild;
    requests?: PendingCount;
    readonly statuses: Map<string, Map<string, PendingCount>>;
  }
  const children = new WeakMap<object, { http?: ProtoChildren; grpc?: ProtoChildren }>();
  const of = (key: object, proto: RouteProtocol): ProtoChildren => {
    let byProto = children.get(key);
    if (!byProto) children.set(key, (byProto = {}));
    return (byProto[proto] ??= { statuses: new Map() });
  };
  const statusChild = (
    c: ProtoChildren,
    family: BatchedCounter,
    proto: RouteProtocol,
    key: object,
    status: string,
    error: string,
  ): PendingCount => {
    let byError = c.statuses.get(status);
    if (!byError) c.statuses.set(status, (byError = new Map()));
    let child = byError.get(error);
    if (!child)
      byError.set(error, (child = family.child({ ...labelsOf(key), [statusKey(proto)]: status, error })));
    return child;
  };
  const labelsOf = (key: object): Record<string, string> => cleanLabels(key);
  return {
    routeRequest(proto, key, seconds, status, error) {
      const f = fams[proto];
      const c = of(key, proto);
      (c.duration ??= f.requestDuration.child(labelsOf(key))).observe(seconds);
      statusChild(c, f.requestStatuses, proto, key, status, error).pending++;
    },
    backendRequest(proto, key) {
      const c = of(key, proto);
      (c.requests ??= fams[proto].backendRequests.child(labelsOf(key))).pending++;
    },
    backendResponse(proto, key, seconds, status, error) {
      const f = fams[proto];
      const c = of(key, proto);
      (c.duration ??= f.backendResponseDuration.child(labelsOf(key))).observe(seconds);
      statusChild(c, f.backendResponseStatuses, proto, key, status, error).pending++;
    },
    retry(proto, key, outcome) {
      const f = fams[proto];
      const c =
        outcome === 'requests'
          ? f.retryRequests
          : outcome === 'successes'
            ? f.retrySuccesses
            : outcome === 'limit_exceeded'
              ? f.retryLimitExceeded
              : f.retryOverflow;
      c.inc({ ...key });
    },
    balancerEndpoints(parent, backend, ready, pending) {
      balancer.set({ ...parent, ...backend, endpoint_state: 'ready' }, ready);
      balancer.set({ ...parent, ...backend, endpoint_state: 'pending' }, pending);
    },
    breakerEjection(parent, backend) {
      ejections.inc({ ...parent, ...backend });
    },
    breakerOpen(parent, backend, n) {
      open.set({ ...parent, ...backend }, n);
    },
    forgetBackend(parent, backend) {
      for (const endpoint_state of ['ready', 'pending'])
        balancer.remove({ ...parent, ...backend, endpoint_state });
      open.remove({ ...parent, ...backend });
    },
  };
}
