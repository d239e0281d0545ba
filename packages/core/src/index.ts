// @tsmesh/core: pure building blocks shared by every tsmesh component and by tools that embed them.
// Named exports only; each area lives in its own folder and is entered through its index. The
// subset a proxy loads is data-plane.ts (`@tsmesh/core/data-plane`), without the certificate
// authority and the X.509 verifier, and without the generated messages' conversions
// (verify/fromObject/toObject/toJSON), which this entry installs.
import { installMessageConversions } from './api/message-conversions.js';

installMessageConversions();

export * from './data-plane.js';
export { installMessageConversions };
export {
  createCertificateRequest,
  createIntermediateCertificate,
  createIssuer,
  createRootCertificate,
  createTrustBundle,
  DEFAULT_CLOCK_SKEW_MS,
  DEFAULT_ISSUER_COMMON_NAME,
  DEFAULT_ISSUER_LIFETIME_MS,
  DEFAULT_LEAF_LIFETIME_MS,
  DEFAULT_ROOT_COMMON_NAME,
  DEFAULT_ROOT_LIFETIME_MS,
  ExtKeyUsageOid,
  formatCertificates,
  issueLeafCertificate,
  issueServingCertificate,
  isValidAt,
  parseCertificate,
  parseCertificateRequest,
  parseCertificates,
  parseTrustBundle,
  verifyCertificateChain,
  verifyCertificateRequest,
  type Certificate,
  type CertificateRequest,
  type CertificatesInput,
  type CertifiedKey,
  type CreateCertificateRequestOptions,
  type CreateIntermediateOptions,
  type CreateIssuerOptions,
  type CreateRootOptions,
  type GeneralNameValue,
  type IssuedCertificate,
  type IssueLeafOptions,
  type IssueServingOptions,
  type Issuer,
  type KeyUsage,
  type NameConstraints,
  type ParseOptions,
  type TrustBundle,
  type VerifiedCertificateRequest,
  type VerifiedChain,
  type VerifyCertificateRequestOptions,
  type VerifyChainOptions,
  type VerifyPurpose,
} from './identity/index.js';
