// Annotation names Linkerd reads and writes, so existing manifests work unchanged.
// Source of the facts: Linkerd's pkg/k8s labels and the config.linkerd.io documentation.

/** `linkerd.io/inject` on a namespace or pod template. */
export const INJECT_ANNOTATION = 'linkerd.io/inject';
export const InjectMode = { Enabled: 'enabled', Disabled: 'disabled', Ingress: 'ingress' } as const;
export type InjectMode = (typeof InjectMode)[keyof typeof InjectMode];

const config = <K extends string>(key: K) => `config.linkerd.io/${key}` as const;

/** `config.linkerd.io/*` annotations, on a pod or namespace (namespace values fill in for pods). */
export const ConfigAnnotation = {
  ProxyImage: config('proxy-image'),
  ProxyVersion: config('proxy-version'),
  ImagePullPolicy: config('image-pull-policy'),
  DebugImage: config('debug-image'),
  DebugImageVersion: config('debug-image-version'),
  DebugImagePullPolicy: config('debug-image-pull-policy'),
  EnableDebugSidecar: config('enable-debug-sidecar'),
  InboundPort: config('inbound-port'),
  OutboundPort: config('outbound-port'),
  AdminPort: config('admin-port'),
  ControlPort: config('control-port'),
  SkipInboundPorts: config('skip-inbound-ports'),
  SkipOutboundPorts: config('skip-outbound-ports'),
  SkipSubnets: config('skip-subnets'),
  OpaquePorts: config('opaque-ports'),
  PodInboundPorts: config('pod-inbound-ports'),
  ProxyCpuRequest: config('proxy-cpu-request'),
  ProxyCpuLimit: config('proxy-cpu-limit'),
  ProxyCpuRatioLimit: config('proxy-cpu-ratio-limit'),
  ProxyMemoryRequest: config('proxy-memory-request'),
  ProxyMemoryLimit: config('proxy-memory-limit'),
  ProxyEphemeralStorageRequest: config('proxy-ephemeral-storage-request'),
  ProxyEphemeralStorageLimit: config('proxy-ephemeral-storage-limit'),
  ProxyUid: config('proxy-uid'),
  ProxyGid: config('proxy-gid'),
  ProxyLogLevel: config('proxy-log-level'),
  ProxyLogFormat: config('proxy-log-format'),
  ProxyLogHttpHeaders: config('proxy-log-http-headers'),
  AccessLog: config('access-log'),
  ProxyAdminShutdown: config('proxy-admin-shutdown'),
  ShutdownGracePeriod: config('shutdown-grace-period'),
  DefaultInboundPolicy: config('default-inbound-policy'),
  ProxyRequireIdentityInboundPorts: config('proxy-require-identity-inbound-ports'),
  EnableExternalProfiles: config('enable-external-profiles'),
  ProxyOutboundConnectTimeout: config('proxy-outbound-connect-timeout'),
  ProxyInboundConnectTimeout: config('proxy-inbound-connect-timeout'),
  ProxyOutboundDiscoveryCacheUnusedTimeout: config('proxy-outbound-discovery-cache-unused-timeout'),
  ProxyInboundDiscoveryCacheUnusedTimeout: config('proxy-inbound-discovery-cache-unused-timeout'),
  ProxyDisableOutboundProtocolDetectTimeout: config('proxy-disable-outbound-protocol-detect-timeout'),
  ProxyDisableInboundProtocolDetectTimeout: config('proxy-disable-inbound-protocol-detect-timeout'),
  ProxyMetricsHostnameLabels: config('proxy-metrics-hostname-labels'),
  EnableGateway: config('enable-gateway'),
  CloseWaitTimeout: config('close-wait-timeout'),
  ProxyAwait: config('proxy-await'),
  ProxyEnableNativeSidecar: config('proxy-enable-native-sidecar'),
  ProxyAdditionalEnv: config('proxy-additional-env'),
  /** A namespace *label*: `disabled` keeps the namespace out of the mesh's admission webhooks. */
  AdmissionWebhooks: config('admission-webhooks'),
} as const;
export type ConfigAnnotation = (typeof ConfigAnnotation)[keyof typeof ConfigAnnotation];

/** Older spellings of config annotations that Linkerd still honours. */
export const DeprecatedConfigAnnotation = {
  ProxyWaitBeforeExitSeconds: 'config.alpha.linkerd.io/proxy-wait-before-exit-seconds',
  AlphaProxyEnableNativeSidecar: 'config.alpha.linkerd.io/proxy-enable-native-sidecar',
  BetaProxyEnableNativeSidecar: 'config.beta.linkerd.io/proxy-enable-native-sidecar',
} as const;

/** Annotations the injector writes on the pods it injects. */
export const InjectedAnnotation = {
  CreatedBy: 'linkerd.io/created-by',
  ProxyVersion: 'linkerd.io/proxy-version',
  TrustRootSha256: 'linkerd.io/trust-root-sha256',
  TapEnabled: 'viz.linkerd.io/tap-enabled',
} as const;

/** Default inbound policies accepted by `config.linkerd.io/default-inbound-policy`. */
export const DefaultInboundPolicy = {
  AllUnauthenticated: 'all-unauthenticated',
  AllAuthenticated: 'all-authenticated',
  ClusterUnauthenticated: 'cluster-unauthenticated',
  ClusterAuthenticated: 'cluster-authenticated',
  Deny: 'deny',
  Audit: 'audit',
} as const;
export type DefaultInboundPolicy = (typeof DefaultInboundPolicy)[keyof typeof DefaultInboundPolicy];

/** Reasons the injector reports for leaving a workload alone. */
export const InjectionSkipReason = {
  HostNetworkEnabled: 'host_network_enabled',
  SidecarAlreadyExists: 'sidecar_already_exists',
  UnsupportedResource: 'unsupported_resource',
  InjectionEnableAnnotationAbsent: 'injection_enable_annotation_absent',
  InjectionDisableAnnotationPresent: 'injection_disable_annotation_present',
  InvalidInjectAnnotationAtWorkload: 'invalid_inject_annotation_at_workload',
  InvalidInjectAnnotationAtNamespace: 'invalid_inject_annotation_at_ns',
  DisabledAutomountServiceAccountToken: 'disabled_automount_service_account_token_account',
  UdpPortsEnabled: 'udp_ports_enabled',
} as const;
export type InjectionSkipReason = (typeof InjectionSkipReason)[keyof typeof InjectionSkipReason];
