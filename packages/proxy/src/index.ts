export { PACKAGE_NAME, VERSION } from './version.js';
export {
  createBackoff,
  createIdentityCsr,
  startProxyIdentity,
  type Backoff,
  type BackoffOptions,
  type CsrFactory,
  type IdentityCertificate,
  type ProxyIdentity,
  type ProxyIdentityLogger,
  type ProxyIdentityOptions,
} from './identity/index.js';
export { awaitProxy, waitForProxyReady, type AwaitProxyOptions } from './await/index.js';
export {
  createEnvSource,
  readProxyConfig,
  type EnvSource,
  type IdentityConfig,
  type ProxyConfig,
} from './config/index.js';
export {
  asyncResourceBindAllocatesAccessors,
  installAsyncResourceBind,
  lowerHelperThreadPriority,
  startProxy,
  type HelperThreadPriorityOptions,
  type RunningProxy,
  type StartProxyOptions,
} from './runtime/index.js';
export {
  controlPlaneChannelCredentials,
  createControlPlaneTlsCredentials,
  createStaticCertificateSource,
  type CertificateSource,
  type ControlPlaneChannel,
  type ControlPlaneServiceKind,
  type MeshCertificate,
} from './tls/index.js';
export {
  connectWithTransportHeader,
  encodeTransportHeader,
  parseTransportHeader,
  type ConnectWithHeaderOptions,
  type TransportHeader,
} from './transport-header/index.js';
export { configureFirewall, parseInitArgs, type InitOptions } from './init/index.js';
export {
  authorizeConnection,
  authorizeRequest,
  compileServer,
  createInboundPolicy,
  defaultServer,
  type ClientInfo,
  type CompiledServer,
  type InboundPolicy,
  type RequestDecision,
} from './inbound-policy/index.js';
export { createTapHub, startTapServer, type TapHub, type TapServer } from './tap/index.js';
export {
  createAccessLog,
  formatAccessLog,
  type AccessLog,
  type AccessLogFormat,
} from './access-log/index.js';
export { encodeProxyProtocolV2, forwardedHeaders, type ForwardedMode } from './client-address/index.js';
export { createRecentErrors, type RecentError, type RecentErrors } from './recent-errors/index.js';
export {
  classifyProxyError,
  PROXY_ERRORS,
  ProxyError,
  ProxyErrorCode,
  type ProxyErrorInfo,
} from './errors/index.js';
export { createPeakEwma, pickP2c, type PeakEwma, type PeakEwmaOptions } from './balance/index.js';
export { createFailureAccrual, type BreakerState, type FailureAccrual } from './breaker/index.js';
export { createRetryBudget, DEFAULT_RETRY_BUDGET, type RetryBudget } from './retry/index.js';
export { createDiscovery, type Discovery, type DiscoveryOptions } from './discovery/index.js';
export {
  createOutboundMeshFromConfig,
  L5D_DST_OVERRIDE,
  type ConfiguredMesh,
  type OutboundMesh,
} from './outbound/index.js';
