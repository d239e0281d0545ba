// The policy domain: plain TypeScript types for Linkerd's policy resources, Gateway API routes and
// the workloads they select. No Kubernetes client and no protobuf types: the controller translates
// these to the proxy API, and the engine evaluates them directly.
import type { DefaultInboundPolicy } from '../vocabulary/index.js';
import type { IdentityMatch } from './identity-match.js';
import type { NetworkMatch } from './ip-network.js';
import type { LabelSelector } from './label-selector.js';

export const POLICY_GROUP = 'policy.linkerd.io';
export const GATEWAY_GROUP = 'gateway.networking.k8s.io';
export const WORKLOAD_GROUP = 'workload.linkerd.io';

export interface ResourceMeta {
  readonly name: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  /** Milliseconds since the epoch, when the manifest has `metadata.creationTimestamp`. */
  readonly creationTimestampMs: number | undefined;
}

/** `Server.spec.proxyProtocol`; `unknown` means detect. */
export type ProxyProtocol = 'unknown' | 'HTTP/1' | 'HTTP/2' | 'gRPC' | 'opaque' | 'TLS';

export interface Server {
  readonly kind: 'Server';
  readonly meta: ResourceMeta;
  readonly workloadKind: 'Pod' | 'ExternalWorkload';
  readonly selector: LabelSelector;
  /** A port number or a named container port. */
  readonly port: number | string;
  readonly proxyProtocol: ProxyProtocol;
  readonly accessPolicy: DefaultInboundPolicy;
}

/** How a client must authenticate (Linkerd's ClientAuthentication). */
export type ClientAuthentication =
  | { readonly kind: 'unauthenticated' }
  /** TLS, with or without a client identity (ServerAuthorization `meshTLS.unauthenticatedTLS`). */
  | { readonly kind: 'tls-unauthenticated' }
  | {
      readonly kind: 'mesh-tls';
      readonly identities: readonly IdentityMatch[];
      /** ServiceAccounts, turned into identity names by the index (it knows the trust domain). */
      readonly serviceAccounts: readonly ServiceAccountReference[];
    };

export interface ServiceAccountReference {
  readonly name: string;
  /** Defaults to the referring resource's namespace. */
  readonly namespace: string;
}

export interface ServerAuthorization {
  readonly kind: 'ServerAuthorization';
  readonly meta: ResourceMeta;
  readonly server: { readonly name: string } | { readonly selector: LabelSelector };
  /** Empty means the cluster networks (Linkerd's behaviour for an unset `client.networks`). */
  readonly networks: readonly NetworkMatch[];
  readonly authentication: ClientAuthentication;
}

export type AuthorizationTarget =
  | { readonly kind: 'Server'; readonly name: string }
  | { readonly kind: 'HTTPRoute'; readonly group: string; readonly name: string }
  | { readonly kind: 'GRPCRoute'; readonly group: string; readonly name: string }
  | { readonly kind: 'Namespace'; readonly name: string };

export interface AuthenticationRef {
  readonly kind: 'MeshTLSAuthentication' | 'NetworkAuthentication' | 'ServiceAccount';
  readonly name: string;
  readonly namespace: string;
}

export interface AuthorizationPolicy {
  readonly kind: 'AuthorizationPolicy';
  readonly meta: ResourceMeta;
  readonly target: AuthorizationTarget;
  readonly requiredAuthenticationRefs: readonly AuthenticationRef[];
}

export interface MeshTLSAuthentication {
  readonly kind: 'MeshTLSAuthentication';
  readonly meta: ResourceMeta;
  readonly identities: readonly IdentityMatch[];
  readonly identityRefs: readonly {
    readonly kind: 'ServiceAccount' | 'Namespace';
    readonly name: string;
    readonly namespace: string;
  }[];
}

export interface NetworkAuthentication {
  readonly kind: 'NetworkAuthentication';
  readonly meta: ResourceMeta;
  readonly networks: readonly NetworkMatch[];
}

export interface ParentRef {
  readonly group: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace: string;
  readonly port: number | undefined;
}

export type PathMatch = {
  readonly type: 'Exact' | 'PathPrefix' | 'RegularExpression';
  readonly value: string;
};
export interface StringMatch {
  readonly type: 'Exact' | 'RegularExpression';
  readonly name: string;
  readonly value: string;
}

export interface HttpRouteMatch {
  readonly path: PathMatch;
  readonly headers: readonly StringMatch[];
  readonly queryParams: readonly StringMatch[];
  readonly method: string | undefined;
}

export interface HeaderModifier {
  readonly set: readonly { readonly name: string; readonly value: string }[];
  readonly add: readonly { readonly name: string; readonly value: string }[];
  readonly remove: readonly string[];
}

export interface RequestRedirect {
  readonly scheme: 'http' | 'https' | undefined;
  readonly hostname: string | undefined;
  readonly path:
    | { readonly type: 'ReplaceFullPath'; readonly value: string }
    | { readonly type: 'ReplacePrefixMatch'; readonly value: string }
    | undefined;
  readonly port: number | undefined;
  readonly statusCode: 301 | 302;
}

export type HttpRouteFilter =
  | { readonly type: 'RequestHeaderModifier'; readonly modifier: HeaderModifier }
  | { readonly type: 'ResponseHeaderModifier'; readonly modifier: HeaderModifier }
  | { readonly type: 'RequestRedirect'; readonly redirect: RequestRedirect };

export interface BackendRef {
  readonly group: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace: string;
  readonly port: number | undefined;
  /** Gateway API default 1; 0 means no traffic. */
  readonly weight: number;
  readonly filters: readonly HttpRouteFilter[];
}

export interface HttpRouteRule {
  readonly matches: readonly HttpRouteMatch[];
  readonly filters: readonly HttpRouteFilter[];
  readonly backendRefs: readonly BackendRef[];
  readonly timeouts: { readonly request: string | undefined; readonly backendRequest: string | undefined };
}

export interface HttpRoute {
  readonly kind: 'HTTPRoute';
  /** `policy.linkerd.io` or `gateway.networking.k8s.io`. */
  readonly group: string;
  readonly meta: ResourceMeta;
  readonly parentRefs: readonly ParentRef[];
  readonly hostnames: readonly string[];
  readonly rules: readonly HttpRouteRule[];
}

export interface GrpcMethodMatch {
  readonly type: 'Exact' | 'RegularExpression';
  readonly service: string | undefined;
  readonly method: string | undefined;
}

export interface GrpcRouteMatch {
  readonly method: GrpcMethodMatch | undefined;
  readonly headers: readonly StringMatch[];
}

export interface GrpcRouteRule {
  readonly matches: readonly GrpcRouteMatch[];
  readonly filters: readonly HttpRouteFilter[];
  readonly backendRefs: readonly BackendRef[];
}

export interface GrpcRoute {
  readonly kind: 'GRPCRoute';
  readonly group: string;
  readonly meta: ResourceMeta;
  readonly parentRefs: readonly ParentRef[];
  readonly hostnames: readonly string[];
  readonly rules: readonly GrpcRouteRule[];
}

export interface HttpLocalRateLimitPolicy {
  readonly kind: 'HTTPLocalRateLimitPolicy';
  readonly meta: ResourceMeta;
  /** The targeted Server's name (same namespace). */
  readonly targetServer: string;
  readonly totalRequestsPerSecond: number | undefined;
  readonly identityRequestsPerSecond: number | undefined;
  readonly overrides: readonly {
    readonly requestsPerSecond: number;
    readonly clientRefs: readonly ServiceAccountReference[];
  }[];
}

/** A Pod or ExternalWorkload: what Servers select. */
export interface Workload {
  readonly kind: 'Pod' | 'ExternalWorkload';
  readonly meta: ResourceMeta;
  /** Named ports; a pod may have one name on several containers' ports. */
  readonly ports: readonly { readonly name: string | undefined; readonly port: number }[];
  /** HTTP probe paths by port (liveness, readiness and startup `httpGet`). */
  readonly probePaths: ReadonlyMap<number, readonly string[]>;
}

export interface NamespaceInfo {
  readonly kind: 'Namespace';
  readonly meta: ResourceMeta;
}

export type PolicyResource =
  | Server
  | ServerAuthorization
  | AuthorizationPolicy
  | MeshTLSAuthentication
  | NetworkAuthentication
  | HttpRoute
  | GrpcRoute
  | HttpLocalRateLimitPolicy
  | Workload
  | NamespaceInfo;
