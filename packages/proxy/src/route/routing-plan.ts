// The routing plan of one logical target, compiled from its OutboundPolicy or ServiceProfile:
// routes (matched with the policy engine's RouteTable and Gateway API precedence), each rule's
// weighted backends, timeouts and retry policy, and the failure-accrual settings for endpoints.
// A plan is immutable; a new control-plane value produces a new plan.
import type { RouteTable } from '@tsmesh/core/data-plane';
import type { Endpoint } from '../discovery/index.js';
import type { RetryBudget } from '../retry/index.js';
import type { HeaderEdits } from '../http/header-edits.js';

/** `parent_*` labels of Linkerd's route metrics (the Service the app addressed). */
export interface ParentLabels {
  readonly parent_group: string;
  readonly parent_kind: string;
  readonly parent_namespace: string;
  readonly parent_name: string;
  readonly parent_port: string;
  readonly parent_section_name: string;
}

/** `route_*` labels. */
export interface RouteLabels {
  readonly route_group: string;
  readonly route_kind: string;
  readonly route_namespace: string;
  readonly route_name: string;
}

/** `backend_*` labels. */
export interface BackendLabels {
  readonly backend_group: string;
  readonly backend_kind: string;
  readonly backend_namespace: string;
  readonly backend_name: string;
  readonly backend_port: string;
  readonly backend_section_name: string;
}

export interface EwmaConfig {
  readonly defaultRttMs: number;
  readonly decayMs: number;
}

export type BackendDispatch =
  /** Endpoints from Destination.Get(path), balanced by P2C over peak-EWMA. */
  | { readonly kind: 'balancer'; readonly path: string; readonly ewma: EwmaConfig }
  /** One fixed endpoint (no discovery). */
  | { readonly kind: 'forward'; readonly endpoint: Endpoint }
  /** A backend that cannot be served (e.g. an invalid backendRef): every request fails. */
  | { readonly kind: 'fail'; readonly message: string };

export interface BackendSpec {
  /** Identity of the backend within the plan (stable across plans for the same backend). */
  readonly key: string;
  readonly labels: BackendLabels;
  readonly dispatch: BackendDispatch;
  /** linkerd: queue capacity 100 and fail-fast after 3s by default. */
  readonly queue: { readonly capacity: number; readonly failfastMs: number };
}

export interface WeightedBackend {
  readonly weight: number;
  readonly backend: BackendSpec;
}

export interface RouteTimeouts {
  /** The whole exchange, request and response streams included (Linkerd's `request`). */
  readonly requestMs?: number;
  /** Until response headers (Linkerd's `response`). */
  readonly responseMs?: number;
  /** No frame in either direction (Linkerd's `idle`). */
  readonly idleMs?: number;
}

export interface RetryPolicy {
  readonly maxRetries: number;
  /** Requests with larger bodies are not retried (the body is not buffered). */
  readonly maxRequestBytes: number;
  /** Inclusive [start, end] HTTP status ranges that are retried. */
  readonly httpStatuses: readonly (readonly [number, number])[];
  /** gRPC status codes that are retried. */
  readonly grpcCodes: ReadonlySet<number>;
  /** Per-attempt timeout. */
  readonly timeoutMs?: number;
  readonly backoff?: { readonly minMs: number; readonly maxMs: number; readonly jitter: number };
  /** ServiceProfile retries draw from the target's budget; policy retries are bounded by maxRetries. */
  readonly budget?: RetryBudget;
}

/** A route's header modifier, checked when compiled (http/header-edits.ts). */
export type { HeaderEdits };

export interface InjectedFailure {
  /** HTTP status, or a gRPC code for gRPC routes. */
  readonly status: number;
  readonly message: string;
  readonly ratio: number;
}

export interface RouteRule {
  readonly backends: readonly WeightedBackend[];
  readonly timeouts: RouteTimeouts;
  readonly retry: RetryPolicy | undefined;
  readonly requestHeaders: HeaderEdits | undefined;
  readonly responseHeaders: HeaderEdits | undefined;
  readonly failure: InjectedFailure | undefined;
  /** Honour the l5d-retry-* and l5d-*-timeout request headers (route/request-headers.ts). */
  readonly allowL5dRequestHeaders?: boolean;
  /** ServiceProfile response classes: statuses that count as failures (default: 5xx). */
  readonly isFailure?: (status: number) => boolean;
}

export interface OutboundRoute {
  readonly kind: 'http' | 'grpc';
  readonly labels: RouteLabels;
  readonly rules: readonly RouteRule[];
}

export interface FailureAccrualConfig {
  readonly maxFailures: number;
  readonly backoff: { readonly minMs: number; readonly maxMs: number; readonly jitter: number };
}

export interface RoutingPlan {
  /** Where the plan came from, for logs and tests. */
  readonly source: 'policy' | 'profile' | 'default';
  readonly protocol: 'http' | 'grpc' | 'opaque';
  readonly parent: ParentLabels;
  readonly table: RouteTable<OutboundRoute>;
  readonly failureAccrual: FailureAccrualConfig | undefined;
  /** The backends of an opaque target (first rule of its first route). */
  readonly opaqueBackends: readonly WeightedBackend[];
}

export const DEFAULT_QUEUE = Object.freeze({ capacity: 100, failfastMs: 3000 });
export const DEFAULT_EWMA: EwmaConfig = Object.freeze({ defaultRttMs: 30, decayMs: 10_000 });
