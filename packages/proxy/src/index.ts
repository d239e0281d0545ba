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
