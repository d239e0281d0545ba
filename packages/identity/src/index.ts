// @tsmesh/identity: the certificate authority behind io.linkerd.proxy.identity.Identity/Certify.
export { PACKAGE_NAME, VERSION } from './version.js';
export { silentLogger, type Logger } from './logger.js';
export {
  classifyRefusal,
  createCertifyHandler,
  type CertifyHandler,
  type CertifyHandlerOptions,
} from './certify/index.js';
export {
  classifyIssuerError,
  createIssuerStore,
  ISSUER_SECRET_NAME,
  IssuerSecretKeys,
  loadSigningIssuer,
  readIssuerDir,
  readIssuerSecretData,
  TRUST_ROOTS_CONFIGMAP_NAME,
  TRUST_ROOTS_KEY,
  usableIssuer,
  watchIssuerDir,
  watchKubeIssuer,
  type IssuancePolicy,
  type IssuedLeaf,
  type IssuerMaterial,
  type IssuerStore,
  type IssuerStoreOptions,
  type SigningIssuer,
} from './issuer/index.js';
export {
  createIdentityMetrics,
  IssuerRejectReason,
  RefusalReason,
  type IdentityMetrics,
} from './metrics/index.js';
export {
  identityNameOf,
  IDENTITY_USAGE,
  IdentityEnv,
  parseDuration,
  parseIdentityConfig,
  startIdentityService,
  type IdentityConfig,
  type IdentityService,
  type IdentityServiceOptions,
  type IssuerSourceConfig,
} from './runtime/index.js';
export {
  createCachedTokenValidator,
  createLocalTokenIssuer,
  createLocalTokenValidator,
  createTokenReviewValidator,
  LOCAL_TOKEN_ISSUER,
  type CachedTokenValidator,
  type LocalTokenIssuer,
  type TokenReviewApi,
  type TokenSubject,
  type TokenValidator,
} from './token/index.js';
