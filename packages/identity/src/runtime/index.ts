export {
  IDENTITY_USAGE,
  IdentityEnv,
  parseDuration,
  parseIdentityConfig,
  type EnvSource,
  type IdentityConfig,
} from './identity-config.js';
export { identityNameOf } from './identity-name-of.js';
export {
  startIdentityService,
  type IdentityService,
  type IdentityServiceOptions,
  type IssuerSourceConfig,
} from './identity-service.js';
export { runIdentity } from './run-identity.js';
