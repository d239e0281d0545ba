// Turns issuer material into a SigningIssuer with the identity library: parse the trust anchors,
// load the issuer (CA, key matches), check it is valid now and chains to an anchor, and bind
// issueLeafCertificate to it. Anything wrong throws an IdentityError whose reason
// classifyIssuerError maps to the bounded issuer-rejection label.
import { createHash } from 'node:crypto';
import {
  createIssuer,
  IdentityError,
  IdentityErrorReason,
  issueLeafCertificate,
  MeshErrorCode,
  parseTrustBundle,
} from '@tsmesh/core';
import { IssuerRejectReason } from '../metrics/index.js';
import { createCsrVerifier, type CsrVerifier } from './csr-verifier.js';
import type { IssuerMaterial } from './issuer-material.js';
import type { SigningIssuer } from './signing-issuer.js';

export interface IssuancePolicy {
  /** Leaf lifetime; Linkerd's identity.issuer.issuanceLifetime, default 24 h. */
  readonly leafLifetimeMs: number;
  /** notBefore backdating; Linkerd's clockSkewAllowance, default 20 s. */
  readonly clockSkewMs: number;
  /** Remembers verified CSRs across issuers (see csr-verifier.ts); default: a fresh one. */
  readonly csrVerifier?: CsrVerifier;
}

const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');

export function loadSigningIssuer(
  material: IssuerMaterial,
  nowMs: number,
  policy: IssuancePolicy,
): SigningIssuer {
  const where = material.origin;
  const csrVerifier = policy.csrVerifier ?? createCsrVerifier();
  const anchors = parseTrustBundle(material.trustAnchorsPem, { where: `${where} trust anchors` });
  const issuer = createIssuer({
    certificate: material.certificatePem,
    privateKey: material.privateKeyPem,
    where,
  });
  const { certificate } = issuer;
  const now = new Date(nowMs);
  if (nowMs > certificate.notAfter.getTime()) {
    throw new IdentityError(
      MeshErrorCode.CertificateInvalid,
      `the issuer ${certificate.subject} expired at ${certificate.notAfter.toISOString()}`,
      {
        reason: IdentityErrorReason.Expired,
        where,
        hint: 'install a current issuer certificate',
      },
    );
  }
  if (nowMs < certificate.notBefore.getTime()) {
    throw new IdentityError(
      MeshErrorCode.CertificateInvalid,
      `the issuer ${certificate.subject} is not valid before ${certificate.notBefore.toISOString()}`,
      {
        reason: IdentityErrorReason.NotYetValid,
        where,
        hint: 'check the clock, or wait until the issuer becomes valid',
      },
    );
  }
  // The issuer must chain to one of the anchors the proxies trust, or its leaves would be refused
  // by every peer: refuse it here instead.
  anchors.verify(certificate, issuer.chain, { at: now, purpose: 'issuer' });
  const selfIssued = (der: Uint8Array, issuerDer: Uint8Array) => Buffer.compare(der, issuerDer) === 0;
  const intermediatesDer = Object.freeze([
    certificate.der,
    ...issuer.chain.filter((c) => !selfIssued(c.subjectDer, c.issuerDer)).map((c) => c.der),
  ]);
  let notAfterMs = certificate.notAfter.getTime();
  for (const above of issuer.chain) notAfterMs = Math.min(notAfterMs, above.notAfter.getTime());

  return Object.freeze({
    subject: certificate.subject,
    fingerprint: sha256(certificate.der),
    anchorsFingerprint: sha256(anchors.pem),
    notBeforeMs: certificate.notBefore.getTime(),
    notAfterMs,
    intermediatesDer,
    sign(csrDer: Uint8Array, identity: string, signNowMs: number) {
      const publicKey = csrVerifier.verify(csrDer, identity);
      const issued = issueLeafCertificate({
        issuer,
        publicKey,
        identity,
        lifetimeMs: policy.leafLifetimeMs,
        clockSkewMs: policy.clockSkewMs,
        now: new Date(signNowMs),
      });
      return { leafDer: issued.certificate.der, notAfterMs: issued.validUntil.getTime() };
    },
  });
}

const REJECT_REASONS: Partial<Record<string, IssuerRejectReason>> = {
  [IdentityErrorReason.Malformed]: IssuerRejectReason.Malformed,
  [IdentityErrorReason.EncryptedKey]: IssuerRejectReason.Malformed,
  [IdentityErrorReason.KeyMismatch]: IssuerRejectReason.KeyMismatch,
  [IdentityErrorReason.KeyType]: IssuerRejectReason.KeyType,
  [IdentityErrorReason.UnsupportedAlgorithm]: IssuerRejectReason.KeyType,
  [IdentityErrorReason.UnknownIssuer]: IssuerRejectReason.UntrustedChain,
  [IdentityErrorReason.BadSignature]: IssuerRejectReason.UntrustedChain,
  [IdentityErrorReason.PathLength]: IssuerRejectReason.UntrustedChain,
  [IdentityErrorReason.NameConstraints]: IssuerRejectReason.UntrustedChain,
  [IdentityErrorReason.Expired]: IssuerRejectReason.Expired,
  [IdentityErrorReason.NotYetValid]: IssuerRejectReason.NotYetValid,
  [IdentityErrorReason.NotACa]: IssuerRejectReason.NotACa,
  [IdentityErrorReason.KeyUsage]: IssuerRejectReason.NotACa,
};

/** The bounded label for why an issuer was refused. */
export function classifyIssuerError(err: unknown): IssuerRejectReason {
  if (IdentityError.is(err)) return REJECT_REASONS[err.reason] ?? IssuerRejectReason.Other;
  return IssuerRejectReason.Other;
}
