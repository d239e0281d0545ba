// The identity library: Linkerd identity names and SPIFFE IDs, ECDSA keys, CSRs, certificate
// issuance (roots, issuers, proxy leaves), trust bundles and chain verification, renewal timing.
// Pure: node:crypto for keys and signatures, @peculiar/asn1-* for the X.509/PKCS#10 structures.
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
  ExtKeyUsageOid,
  type GeneralNameValue,
  type KeyUsage,
  type NameConstraints,
} from './x509-extensions.js';
export {
  formatCertificates,
  isValidAt,
  parseCertificate,
  parseCertificates,
  type Certificate,
  type ParseOptions,
} from './certificate.js';
export {
  createCertificateRequest,
  parseCertificateRequest,
  verifyCertificateRequest,
  type CertificateRequest,
  type CreateCertificateRequestOptions,
  type VerifiedCertificateRequest,
  type VerifyCertificateRequestOptions,
} from './certificate-request.js';
export {
  createIntermediateCertificate,
  createIssuer,
  createRootCertificate,
  DEFAULT_CLOCK_SKEW_MS,
  DEFAULT_ISSUER_COMMON_NAME,
  DEFAULT_ISSUER_LIFETIME_MS,
  DEFAULT_LEAF_LIFETIME_MS,
  DEFAULT_ROOT_COMMON_NAME,
  DEFAULT_ROOT_LIFETIME_MS,
  issueLeafCertificate,
  issueServingCertificate,
  type CertifiedKey,
  type CreateIntermediateOptions,
  type CreateIssuerOptions,
  type CreateRootOptions,
  type IssuedCertificate,
  type Issuer,
  type IssueLeafOptions,
  type IssueServingOptions,
} from './certificate-authority.js';
export {
  createTrustBundle,
  parseTrustBundle,
  verifyCertificateChain,
  type CertificatesInput,
  type TrustBundle,
  type VerifiedChain,
  type VerifyChainOptions,
  type VerifyPurpose,
} from './trust-bundle.js';
export {
  DEFAULT_MAX_REFRESH_MS,
  DEFAULT_MIN_REFRESH_MS,
  DEFAULT_RENEWAL_FRACTION,
  expiresInMs,
  renewalDelayMs,
  renewalTime,
  type RenewalOptions,
} from './renewal.js';
