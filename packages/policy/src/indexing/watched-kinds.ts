// The kinds the policy controller indexes, in the order their first snapshots are awaited.
import { CoreKinds, MeshKinds, type ResourceKind } from '@tsmesh/kube';

export const POLICY_WATCHED_KINDS: readonly ResourceKind[] = Object.freeze([
  CoreKinds.Namespace,
  CoreKinds.Pod,
  CoreKinds.Service,
  MeshKinds.ExternalWorkload,
  MeshKinds.Server,
  MeshKinds.ServerAuthorization,
  MeshKinds.AuthorizationPolicy,
  MeshKinds.MeshTLSAuthentication,
  MeshKinds.NetworkAuthentication,
  MeshKinds.PolicyHTTPRoute,
  MeshKinds.GatewayHTTPRoute,
  MeshKinds.GatewayGRPCRoute,
  MeshKinds.HTTPLocalRateLimitPolicy,
  MeshKinds.EgressNetwork,
]);

/** The route kinds whose status the controller writes. */
export const ROUTE_KINDS: readonly ResourceKind[] = Object.freeze([
  MeshKinds.PolicyHTTPRoute,
  MeshKinds.GatewayHTTPRoute,
  MeshKinds.GatewayGRPCRoute,
]);
