export { createEnvSource, type EnvSource } from './env-source.js';
export {
  createPortSet,
  formatSocketAddr,
  parseDurationMs,
  parsePortSet,
  parsePeerIdentities,
  parseSocketAddr,
  type NamedAddr,
  type PeerIdentity,
  type PortSet,
  type SocketAddr,
} from './parse-value.js';
export {
  readProxyConfig,
  TsmeshProxyEnv,
  type ControlService,
  type Http1Engine,
  type Http2Engine,
  type IdentityConfig,
  type InboundPolicyConfig,
  type LogFormat,
  type OutboundDiscoveryConfig,
  type ProxyConfig,
} from './proxy-config.js';
