// @tsmesh/policy: the policy controller. Indexing (ObjectSource → policy state), gRPC translation
// (InboundServerPolicies, OutboundPolicies), admission (validating webhook), status (route
// conditions under leader election) and the runtime that wires them.
export { PACKAGE_NAME, VERSION } from './version.js';
export { startPolicyService, type PolicyService, type PolicyServiceOptions } from './runtime/index.js';
export {
  ClusterState,
  createMemoryObjectSource,
  MemoryObjectSource,
  PolicyIndexer,
  POLICY_WATCHED_KINDS,
  type PolicyIndexerOptions,
  type ResourceProblem,
  type ServiceInfo,
} from './indexing/index.js';
export {
  egressFallbackPolicy,
  parseWorkloadRef,
  PolicyServices,
  toInboundServer,
  toOutboundPolicy,
  undefinedPortPolicy,
  type WorkloadRef,
} from './grpc/index.js';
export { createPolicyAdmissionHandler, validatePolicyObject, type Validation } from './admission/index.js';
export {
  desiredRouteParents,
  POLICY_CONTROLLER_NAME,
  startRouteStatusController,
  STATUS_LEASE_NAME,
  type RouteStatusController,
} from './status/index.js';
