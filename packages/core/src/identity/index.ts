// The identity library: Linkerd identity names and SPIFFE IDs, ECDSA keys, CSRs, certificate
// issuance (roots, issuers, proxy leaves), trust bundles and chain verification, renewal timing.
// Pure: node:crypto for keys and signatures, @peculiar/asn1-* for the X.509/PKCS#10 structures.
export * from './workload.js';
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
