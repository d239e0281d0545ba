// The environment variables Linkerd's injector sets on the proxy container. tsmesh-proxy reads the
// same names, so a pod injected for Linkerd can run it unchanged.

const v = <K extends string>(key: K) => `LINKERD2_PROXY_${key}` as const;

export const ProxyEnv = {
  Log: v('LOG'),
  LogFormat: v('LOG_FORMAT'),
  LogHttpHeaders: v('LOG_HTTP_HEADERS'),
  AccessLog: v('ACCESS_LOG'),
  Cores: v('CORES'),
  CoresMin: v('CORES_MIN'),
  CoresMax: v('CORES_MAX'),
  CoresMaxRatio: v('CORES_MAX_RATIO'),

  InboundListenAddr: v('INBOUND_LISTEN_ADDR'),
  OutboundListenAddr: v('OUTBOUND_LISTEN_ADDR'),
  OutboundListenAddrs: v('OUTBOUND_LISTEN_ADDRS'),
  AdminListenAddr: v('ADMIN_LISTEN_ADDR'),
  ControlListenAddr: v('CONTROL_LISTEN_ADDR'),

  InboundIps: v('INBOUND_IPS'),
  InboundPorts: v('INBOUND_PORTS'),
  InboundPortsDisableProtocolDetection: v('INBOUND_PORTS_DISABLE_PROTOCOL_DETECTION'),
  InboundPortsRequireIdentity: v('INBOUND_PORTS_REQUIRE_IDENTITY'),
  InboundPortsRequireTls: v('INBOUND_PORTS_REQUIRE_TLS'),
  InboundDefaultPolicy: v('INBOUND_DEFAULT_POLICY'),
  InboundConnectTimeout: v('INBOUND_CONNECT_TIMEOUT'),
  OutboundConnectTimeout: v('OUTBOUND_CONNECT_TIMEOUT'),
  InboundDetectTimeout: v('INBOUND_DETECT_TIMEOUT'),
  OutboundDetectTimeout: v('OUTBOUND_DETECT_TIMEOUT'),
  InboundDiscoveryIdleTimeout: v('INBOUND_DISCOVERY_IDLE_TIMEOUT'),
  OutboundDiscoveryIdleTimeout: v('OUTBOUND_DISCOVERY_IDLE_TIMEOUT'),
  InboundAcceptKeepalive: v('INBOUND_ACCEPT_KEEPALIVE'),
  OutboundConnectKeepalive: v('OUTBOUND_CONNECT_KEEPALIVE'),
  InboundAcceptUserTimeout: v('INBOUND_ACCEPT_USER_TIMEOUT'),
  OutboundConnectUserTimeout: v('OUTBOUND_CONNECT_USER_TIMEOUT'),
  InboundServerHttp2KeepAliveInterval: v('INBOUND_SERVER_HTTP2_KEEP_ALIVE_INTERVAL'),
  InboundServerHttp2KeepAliveTimeout: v('INBOUND_SERVER_HTTP2_KEEP_ALIVE_TIMEOUT'),
  OutboundServerHttp2KeepAliveInterval: v('OUTBOUND_SERVER_HTTP2_KEEP_ALIVE_INTERVAL'),
  OutboundServerHttp2KeepAliveTimeout: v('OUTBOUND_SERVER_HTTP2_KEEP_ALIVE_TIMEOUT'),
  InboundMaxInFlight: v('INBOUND_MAX_IN_FLIGHT'),
  OutboundMaxInFlight: v('OUTBOUND_MAX_IN_FLIGHT'),
  InboundHttpQueueCapacity: v('INBOUND_HTTP_QUEUE_CAPACITY'),
  InboundHttpFailfastTimeout: v('INBOUND_HTTP_FAILFAST_TIMEOUT'),
  OutboundHttpQueueCapacity: v('OUTBOUND_HTTP_QUEUE_CAPACITY'),
  OutboundHttpFailfastTimeout: v('OUTBOUND_HTTP_FAILFAST_TIMEOUT'),
  OutboundTcpQueueCapacity: v('OUTBOUND_TCP_QUEUE_CAPACITY'),
  OutboundTcpFailfastTimeout: v('OUTBOUND_TCP_FAILFAST_TIMEOUT'),
  MaxIdleConnsPerEndpoint: v('MAX_IDLE_CONNS_PER_ENDPOINT'),
  Http2InitialStreamWindowSize: v('HTTP2_INITIAL_STREAM_WINDOW_SIZE'),
  Http2InitialConnectionWindowSize: v('HTTP2_INITIAL_CONNECTION_WINDOW_SIZE'),
  InboundMetricsAuthorityLabels: v('INBOUND_METRICS_AUTHORITY_LABELS'),
  OutboundMetricsHostnameLabels: v('OUTBOUND_METRICS_HOSTNAME_LABELS'),
  OutboundDisableInformationalHeaders: v('OUTBOUND_DISABLE_INFORMATIONAL_HEADERS'),
  MetricsRetainIdle: v('METRICS_RETAIN_IDLE'),
  IngressMode: v('INGRESS_MODE'),
  InboundGatewaySuffixes: v('INBOUND_GATEWAY_SUFFIXES'),

  ShutdownGracePeriod: v('SHUTDOWN_GRACE_PERIOD'),
  ShutdownEndpointEnabled: v('SHUTDOWN_ENDPOINT_ENABLED'),

  IdentityDir: v('IDENTITY_DIR'),
  IdentityTrustAnchors: v('IDENTITY_TRUST_ANCHORS'),
  IdentityTokenFile: v('IDENTITY_TOKEN_FILE'),
  IdentityLocalName: v('IDENTITY_LOCAL_NAME'),
  IdentitySvcAddr: v('IDENTITY_SVC_ADDR'),
  IdentitySvcName: v('IDENTITY_SVC_NAME'),
  IdentityMinRefresh: v('IDENTITY_MIN_REFRESH'),
  IdentityMaxRefresh: v('IDENTITY_MAX_REFRESH'),
  IdentityDisabled: v('IDENTITY_DISABLED'),

  DestinationSvcAddr: v('DESTINATION_SVC_ADDR'),
  DestinationSvcName: v('DESTINATION_SVC_NAME'),
  DestinationContext: v('DESTINATION_CONTEXT'),
  DestinationProfileNetworks: v('DESTINATION_PROFILE_NETWORKS'),
  DestinationProfileSuffixes: v('DESTINATION_PROFILE_SUFFIXES'),
  DestinationProfileInitialTimeout: v('DESTINATION_PROFILE_INITIAL_TIMEOUT'),

  PolicySvcAddr: v('POLICY_SVC_ADDR'),
  PolicySvcName: v('POLICY_SVC_NAME'),
  PolicyWorkload: v('POLICY_WORKLOAD'),
  PolicyClusterNetworks: v('POLICY_CLUSTER_NETWORKS'),

  ControlStreamInitialTimeout: v('CONTROL_STREAM_INITIAL_TIMEOUT'),
  ControlStreamIdleTimeout: v('CONTROL_STREAM_IDLE_TIMEOUT'),
  ControlStreamLifetime: v('CONTROL_STREAM_LIFETIME'),

  TapSvcName: v('TAP_SVC_NAME'),

  TraceCollectorSvcAddr: v('TRACE_COLLECTOR_SVC_ADDR'),
  TraceCollectorSvcName: v('TRACE_COLLECTOR_SVC_NAME'),
  TraceAttributesPath: v('TRACE_ATTRIBUTES_PATH'),
  TraceProtocol: v('TRACE_PROTOCOL'),
  TraceServiceName: v('TRACE_SERVICE_NAME'),
  TraceExtraAttributes: v('TRACE_EXTRA_ATTRIBUTES'),
} as const;
export type ProxyEnv = (typeof ProxyEnv)[keyof typeof ProxyEnv];

/** Linkerd's default log filter for the proxy. */
export const DEFAULT_PROXY_LOG = 'warn,linkerd=info,hickory=error';
/** Where the injector mounts the projected ServiceAccount token for identity. */
export const DEFAULT_IDENTITY_TOKEN_FILE = '/var/run/secrets/tokens/linkerd-identity-token';
/** The audience of that token, which the identity service reviews it for. */
export const IDENTITY_TOKEN_AUDIENCE = 'identity.l5d.io';
/** The in-memory directory holding the proxy's key and certificate. */
export const DEFAULT_IDENTITY_DIR = '/var/run/linkerd/identity/end-entity';
