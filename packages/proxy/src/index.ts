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
export { startProxy, type RunningProxy, type StartProxyOptions } from './runtime/index.js';
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
