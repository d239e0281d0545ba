// Indexing: ObjectSource snapshots → immutable ClusterState values (core policy index + Services).
export { ClusterState, type ClusterStateInput, type ResourceProblem } from './cluster-state.js';
export { createMemoryObjectSource, MemoryObjectSource } from './memory-object-source.js';
export { PolicyIndexer, type PolicyIndexerOptions } from './policy-indexer.js';
export { parseService, type ServiceInfo, type ServicePort } from './service-info.js';
export { POLICY_WATCHED_KINDS, ROUTE_KINDS } from './watched-kinds.js';
export {
  isServiceParent,
  outboundModel,
  parseAppProtocol,
  type AppProtocol,
  type OutboundModel,
} from './outbound-model.js';
export {
  Annotation,
  parseFailureAccrual,
  parseGrpcRetry,
  parseHttpRetry,
  parsePortSet,
  parseStatusRanges,
  parseTimeouts,
  type FailureAccrual,
  type GrpcRetry,
  type HttpRetry,
  type RouteTimeoutsMs,
} from './service-annotations.js';
export { parseEgressNetwork, selectEgressNetwork, type EgressNetworkInfo } from './egress-network.js';
