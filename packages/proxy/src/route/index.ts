export { compilePolicy, parentLabels } from './compile-policy.js';
export { balancerBackend, compileProfile, defaultPlan, profileHasRouting } from './compile-profile.js';
export { perRequestPolicy } from './request-headers.js';
export { durationToMs, toHttpRouteMatch, toStringMatches } from './proto-values.js';
export {
  DEFAULT_EWMA,
  DEFAULT_QUEUE,
  type BackendDispatch,
  type BackendLabels,
  type BackendSpec,
  type EwmaConfig,
  type FailureAccrualConfig,
  type HeaderEdits,
  type InjectedFailure,
  type OutboundRoute,
  type ParentLabels,
  type RetryPolicy,
  type RouteLabels,
  type RouteRule,
  type RouteTimeouts,
  type RoutingPlan,
  type WeightedBackend,
} from './routing-plan.js';
