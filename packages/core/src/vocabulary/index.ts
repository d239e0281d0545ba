export {
  ConfigAnnotation,
  DefaultInboundPolicy,
  DeprecatedConfigAnnotation,
  INJECT_ANNOTATION,
  InjectedAnnotation,
  InjectionSkipReason,
  InjectMode,
} from './annotations.js';
export { PROXY_CONTAINER_NAME } from './containers.js';
export { Label, MulticlusterKey, ProxyOwnerLabel } from './labels.js';
export {
  ControlPlanePort,
  DEFAULT_OPAQUE_PORTS,
  DEFAULT_PROXY_UID,
  DEFAULT_SKIP_INBOUND_PORTS,
  DEFAULT_SKIP_OUTBOUND_PORTS,
  DefaultPort,
} from './ports.js';
export {
  DEFAULT_IDENTITY_DIR,
  DEFAULT_IDENTITY_TOKEN_FILE,
  DEFAULT_PROXY_LOG,
  IDENTITY_TOKEN_AUDIENCE,
  ProxyEnv,
} from './proxy-env.js';
export {
  LATENCY_BUCKETS_MS,
  MetricLabel,
  NoTlsReason,
  ProxyErrorLabel,
  ProxyMetric,
  TlsLabel,
  type Classification,
  type Direction,
  type Peer,
} from './metrics.js';
