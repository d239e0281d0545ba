// Linkerd's outbound route, backend, retry and balancer families (linkerd2-proxy
// app/outbound http/logical/policy/route/metrics and balancer metrics), registered on the proxy's
// registry. Route families exist twice, `outbound_http_route_*` and `outbound_grpc_route_*`; gRPC
// ones carry `grpc_status` where HTTP ones carry `http_status`. Errors use linkerd's route error
// label values (FAIL_FAST, LOAD_SHED, REQUEST_TIMEOUT, …) from the error catalogue.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
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
  requestDuration: Histogram;
  requestStatuses: Counter;
  backendRequests: Counter;
  backendResponseDuration: Histogram;
  backendResponseStatuses: Counter;
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

function routeFamilies(registry: Registry, proto: RouteProtocol): RouteFamilies {
  const statusLabel = proto === 'http' ? 'http_status' : 'grpc_status';
  const p = `outbound_${proto}_route`;
  const routeLabels = [...PARENT, ...ROUTE, 'hostname'];
  const backendLabels = [...PARENT, ...ROUTE, ...BACKEND];
  const reg = [registry];
  return {
    requestDuration: new Histogram({
      name: `${p}_request_duration_seconds`,
      help: 'The time between request initialization and response completion.',
      labelNames: routeLabels,
      buckets: REQUEST_BUCKETS,
      registers: reg,
    }),
    requestStatuses: new Counter({
      name: `${p}_request_statuses_total`,
      help: 'Completed request-response streams.',
      labelNames: [...routeLabels, statusLabel, 'error'],
      registers: reg,
    }),
    backendRequests: new Counter({
      name: `${p}_backend_requests_total`,
      help: 'The total number of requests dispatched.',
      labelNames: backendLabels,
      registers: reg,
    }),
    backendResponseDuration: new Histogram({
      name: `${p}_backend_response_duration_seconds`,
      help: 'The time between request initialization and response completion.',
      labelNames: backendLabels,
      buckets: RESPONSE_BUCKETS,
      registers: reg,
    }),
    backendResponseStatuses: new Counter({
      name: `${p}_backend_response_statuses_total`,
      help: 'Completed responses.',
      labelNames: [...backendLabels, statusLabel, 'error'],
      registers: reg,
    }),
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
  return {
    routeRequest(proto, key, seconds, status, error) {
      const f = fams[proto];
      f.requestDuration.observe({ ...key }, seconds);
      f.requestStatuses.inc({ ...key, [statusKey(proto)]: status, error });
    },
    backendRequest(proto, key) {
      fams[proto].backendRequests.inc({ ...key });
    },
    backendResponse(proto, key, seconds, status, error) {
      const f = fams[proto];
      f.backendResponseDuration.observe({ ...key }, seconds);
      f.backendResponseStatuses.inc({ ...key, [statusKey(proto)]: status, error });
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
