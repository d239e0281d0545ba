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
