// Status: route conditions (Accepted, ResolvedRefs) written under leader election.
export {
  desiredRouteParents,
  parentsDiffer,
  POLICY_CONTROLLER_NAME,
  type Condition,
  type RouteParentStatus,
} from './route-status.js';
export {
  startRouteStatusController,
  STATUS_LEASE_NAME,
  type RouteStatusController,
  type RouteStatusControllerOptions,
} from './route-status-controller.js';
