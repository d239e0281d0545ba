// The identity library's errors: MeshErrors (so they map to gRPC status in the one place that does
// it) that also carry a closed `reason`, so a caller such as the identity service can tell a CSR
// with two SANs from one with a bad signature without matching on message text.
import { MeshError, type MeshErrorCode, type MeshErrorOptions } from '../errors/index.js';

/** Why an identity operation failed. Stable strings: safe to test against and to use as a metric label. */
export const IdentityErrorReason = {
  /** An identity name, SPIFFE ID, DNS label or trust domain breaks the naming rules. */
  InvalidName: 'invalid_name',
  /** PEM or DER that does not decode: truncated, bad base64, wrong ASN.1 structure. */
  Malformed: 'malformed',
  /** A key of a type this operation does not accept (e.g. RSA where ECDSA P-256 is required). */
  KeyType: 'key_type',
  /** An encrypted private key; decrypt it first (`openssl pkey -in k.pem -out plain.pem`). */
  EncryptedKey: 'encrypted_key',
  /** A private key that does not belong to the certificate it was given with. */
  KeyMismatch: 'key_mismatch',
  /** A signature algorithm this library does not verify or create (e.g. RSA-PSS, SHA-1). */
  UnsupportedAlgorithm: 'unsupported_algorithm',
  /** A CSR or certificate whose signature does not verify. */
  BadSignature: 'bad_signature',
  /** A CSR without exactly one DNS SAN. */
  SanCount: 'san_count',
  /** A CSR whose DNS SAN is not the identity asked for. */
  SanMismatch: 'san_mismatch',
  /** A CSR with email, IP or URI SANs (Linkerd refuses them: it cannot vouch for them). */
  UnexpectedSan: 'unexpected_san',
  /** A CSR whose subject common name is neither empty nor the identity. */
  CommonName: 'common_name',
  /** A certificate (or the issuer about to sign) is past its notAfter. */
  Expired: 'expired',
  /** A certificate (or the issuer about to sign) is before its notBefore. */
  NotYetValid: 'not_yet_valid',
  /** No chain from the certificate to any anchor in the trust bundle. */
  UnknownIssuer: 'unknown_issuer',
  /** A certificate used as an issuer is not a CA (basicConstraints CA:TRUE missing). */
  NotACa: 'not_a_ca',
  /** An end-entity certificate claims to be a CA. */
  LeafIsCa: 'leaf_is_ca',
  /** A CA's pathlen constraint is exceeded by the chain below it. */
  PathLength: 'path_length',
  /** keyUsage forbids the use (CA without keyCertSign, leaf without digitalSignature). */
  KeyUsage: 'key_usage',
  /** extKeyUsage lacks serverAuth/clientAuth where they are required. */
  ExtKeyUsage: 'ext_key_usage',
  /** A CA's nameConstraints exclude (or do not permit) a name of the leaf. */
  NameConstraints: 'name_constraints',
  /** A critical extension this verifier does not understand (RFC 5280 says: reject). */
  CriticalExtension: 'critical_extension',
  /** The certificate is valid but for another identity than the one expected. */
  IdentityMismatch: 'identity_mismatch',
  /** Options that cannot produce a valid certificate (e.g. a lifetime that ends before it starts). */
  InvalidOptions: 'invalid_options',
} as const;
export type IdentityErrorReason = (typeof IdentityErrorReason)[keyof typeof IdentityErrorReason];

const BRAND = Symbol.for('@tsmesh/core.IdentityError');

export interface IdentityErrorOptions extends MeshErrorOptions {
  reason: IdentityErrorReason;
}

/** A MeshError from the identity library, with a machine-readable `reason`. */
export class IdentityError extends MeshError {
  readonly reason: IdentityErrorReason;

  constructor(code: MeshErrorCode, message: string, options: IdentityErrorOptions) {
    super(code, message, options);
    this.name = 'IdentityError';
    this.reason = options.reason;
    Object.defineProperty(this, BRAND, { value: true });
  }

  /** True for any IdentityError, even one created by another copy of @tsmesh/core. */
  static override is(value: unknown): value is IdentityError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
  }

  // MeshError's brand check is inherited as a static; narrow it so `instanceof IdentityError`
  // is false for a plain MeshError.
  static override [Symbol.hasInstance](value: unknown): boolean {
    return IdentityError.is(value);
  }
}
