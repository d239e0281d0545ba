export { createBackoff, type Backoff, type BackoffOptions } from './backoff.js';
export {
  createIdentityCsr,
  startProxyIdentity,
  type CsrFactory,
  type IdentityCertificate,
  type ProxyIdentity,
  type ProxyIdentityLogger,
  type ProxyIdentityOptions,
} from './identity-client.js';
export { identitySetupFromConfig, type IdentitySetup } from './identity-from-config.js';
