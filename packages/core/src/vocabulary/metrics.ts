// Linkerd's proxy metric names and label names, so existing Prometheus queries and dashboards
// (linkerd-viz's among them) work against tsmesh proxies.

export const ProxyMetric = {
  RequestTotal: 'request_total',
  ResponseTotal: 'response_total',
  ResponseLatencyMs: 'response_latency_ms',
  RouteRequestTotal: 'route_request_total',
  RouteResponseTotal: 'route_response_total',
  RouteResponseLatencyMs: 'route_response_latency_ms',
  RouteActualRequestTotal: 'route_actual_request_total',
  RouteActualResponseTotal: 'route_actual_response_total',
  RouteRetryableTotal: 'route_retryable_total',
  ControlRequestTotal: 'control_request_total',
  ControlResponseTotal: 'control_response_total',
  ControlResponseLatencyMs: 'control_response_latency_ms',
  TcpOpenTotal: 'tcp_open_total',
  TcpCloseTotal: 'tcp_close_total',
  TcpOpenConnections: 'tcp_open_connections',
  TcpReadBytesTotal: 'tcp_read_bytes_total',
  TcpWriteBytesTotal: 'tcp_write_bytes_total',
  TcpConnectionDurationMs: 'tcp_connection_duration_ms',
  InboundHttpAuthzAllowTotal: 'inbound_http_authz_allow_total',
  InboundHttpAuthzDenyTotal: 'inbound_http_authz_deny_total',
  InboundHttpRouteNotFoundTotal: 'inbound_http_route_not_found_total',
  InboundHttpLocalRatelimitTotal: 'inbound_http_local_ratelimit_total',
  InboundTcpAuthzAllowTotal: 'inbound_tcp_authz_allow_total',
  InboundTcpAuthzDenyTotal: 'inbound_tcp_authz_deny_total',
  InboundTcpAuthzTerminateTotal: 'inbound_tcp_authz_terminate_total',
  InboundHttpErrorsTotal: 'inbound_http_errors_total',
  InboundTcpErrorsTotal: 'inbound_tcp_errors_total',
  OutboundHttpErrorsTotal: 'outbound_http_errors_total',
  OutboundTcpErrorsTotal: 'outbound_tcp_errors_total',
  IdentityCertExpirationTimestampSeconds: 'identity_cert_expiration_timestamp_seconds',
  IdentityCertRefreshCount: 'identity_cert_refresh_count',
} as const;
export type ProxyMetric = (typeof ProxyMetric)[keyof typeof ProxyMetric];

export const MetricLabel = {
  Direction: 'direction',
  Authority: 'authority',
  TargetAddr: 'target_addr',
  TargetIp: 'target_ip',
  TargetPort: 'target_port',
  Tls: 'tls',
  NoTlsReason: 'no_tls_reason',
  ClientId: 'client_id',
  ServerId: 'server_id',
  Sni: 'sni',
  StatusCode: 'status_code',
  Classification: 'classification',
  GrpcStatus: 'grpc_status',
  Error: 'error',
  Errno: 'errno',
  Peer: 'peer',
  Dst: 'dst',
  SrvGroup: 'srv_group',
  SrvKind: 'srv_kind',
  SrvName: 'srv_name',
  SrvPort: 'srv_port',
  RouteGroup: 'route_group',
  RouteKind: 'route_kind',
  RouteName: 'route_name',
  AuthzGroup: 'authz_group',
  AuthzKind: 'authz_kind',
  AuthzName: 'authz_name',
} as const;
export type MetricLabel = (typeof MetricLabel)[keyof typeof MetricLabel];

export type Direction = 'inbound' | 'outbound';
export type Classification = 'success' | 'failure';
/** `tcp_*` peer label: `src` for accepted connections, `dst` for opened ones. */
export type Peer = 'src' | 'dst';

/** The `tls` label's values. */
export const TlsLabel = {
  True: 'true',
  NoIdentity: 'no_identity',
  Disabled: 'disabled',
  Opaque: 'opaque',
} as const;
export type TlsLabel = (typeof TlsLabel)[keyof typeof TlsLabel];

/** Why a connection is not mutual TLS (`no_tls_reason`). */
export const NoTlsReason = {
  Loopback: 'loopback',
  PortSkipped: 'port_skipped',
  NoTlsFromRemote: 'no_tls_from_remote',
  NotProvidedByServiceDiscovery: 'not_provided_by_service_discovery',
  IngressWithoutOverride: 'ingress_without_override',
} as const;
export type NoTlsReason = (typeof NoTlsReason)[keyof typeof NoTlsReason];

/** The bounded `error` label values of the *_errors_total families. */
export const ProxyErrorLabel = {
  LoadShed: 'loadshed',
  FailFast: 'failfast',
  TlsDetectionTimeout: 'tls detection timeout',
  GatewayLoop: 'gateway loop',
  GatewayDomainInvalid: 'gateway domain invalid',
  IdentityRequired: 'identity required',
  Io: 'i/o',
  ResponseTimeout: 'response timeout',
  Unexpected: 'unexpected',
} as const;
export type ProxyErrorLabel = (typeof ProxyErrorLabel)[keyof typeof ProxyErrorLabel];

/** Buckets of response_latency_ms (milliseconds), as Linkerd's proxy exports them. */
export const LATENCY_BUCKETS_MS: readonly number[] = Object.freeze([
  1, 2, 3, 4, 5, 10, 20, 30, 40, 50, 100, 200, 300, 400, 500, 1000, 2000, 3000, 4000, 5000, 10000, 20000,
  30000, 40000, 50000,
]);
