// An issuer the service can sign with: a validated certificate chain and key.
export interface IssuedLeaf {
  readonly leafDer: Uint8Array;
  readonly notAfterMs: number;
}

export interface SigningIssuer {
  /** The issuer certificate's subject, for logs. */
  readonly subject: string;
  /** SHA-256 of the issuer certificate (hex), identifies it in logs and dedups reloads. */
  readonly fingerprint: string;
  readonly anchorsFingerprint: string;
  readonly notBeforeMs: number;
  readonly notAfterMs: number;
  /** DER certificates sent as CertifyResponse.intermediate_certificates: the issuer, then its own issuers below the anchor. */
  readonly intermediatesDer: readonly Uint8Array[];
  /**
   * Check the CSR (DER) for `identity` and sign a leaf. Throws IdentityError for a bad CSR
   * (malformed, wrong key type, SAN mismatch).
   */
  sign(csrDer: Uint8Array, identity: string, nowMs: number): IssuedLeaf;
}
