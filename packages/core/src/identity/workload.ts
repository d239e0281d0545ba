// The workload's side of the identity library: names, PEM, keys, renewal timing, the CSR and the
// check of its own chain — node:crypto only, no ASN.1 library (what `@tsmesh/core/data-plane`
// exports; see workload-identity.ts).
export { IdentityError, IdentityErrorReason, type IdentityErrorOptions } from './identity-error.js';
export {
  dnsLabelProblem,
  dnsNameProblem,
  isDnsLabel,
  isDnsName,
  MAX_DNS_LABEL_LENGTH,
  MAX_DNS_NAME_LENGTH,
} from './dns-name.js';
export {
  DEFAULT_CONTROL_PLANE_NAMESPACE,
  DEFAULT_TRUST_DOMAIN,
  formatIdentityName,
  isIdentityName,
  parseIdentityName,
  parseServiceAccountUsername,
  type IdentityName,
  type IdentityNameParts,
  type NameParseOptions,
  type ServiceAccountRef,
} from './identity-name.js';
export {
  formatSpiffeId,
  identityNameToSpiffeId,
  isSpiffeId,
  parseSpiffeId,
  SPIFFE_SCHEME,
  spiffeIdToIdentityName,
  type SpiffeId,
  type SpiffeToIdentityOptions,
} from './spiffe-id.js';
export { decodePem, encodePem, isPem, type PemBlock, type PemOrDer } from './pem.js';
export {
  describeKey,
  formatPrivateKey,
  generateKeyPair,
  keyTypeOf,
  parsePrivateKey,
  type KeyPair,
  type KeyType,
  type PrivateKeyInput,
} from './private-key.js';
export {
  DEFAULT_MAX_REFRESH_MS,
  DEFAULT_MIN_REFRESH_MS,
  DEFAULT_RENEWAL_FRACTION,
  expiresInMs,
  renewalDelayMs,
  renewalTime,
  type RenewalOptions,
} from './renewal.js';
export {
  createWorkloadCsr,
  parseWorkloadTrustAnchors,
  type WorkloadChain,
  type WorkloadTrustAnchors,
} from './workload-identity.js';
