// The workload's side of identity, with node:crypto and a few lines of DER only: the CSR a proxy
// sends to the identity service, and the check of the chain it gets back against the trust
// anchors. A proxy imports this (through `@tsmesh/core/data-plane`) instead of the certificate
// authority's X.509 code, which loads @peculiar/asn1-* — about 7 MB of RSS per proxy
// (bench/README.md, "Memory").
//
// The check is what a workload needs before it serves with a certificate: the chain from the
// leaf through the intermediates to an anchor (issuer names and key identifiers by OpenSSL's
// X509_check_issued, signatures verified), validity now, CA flags, and the identity as the
// leaf's DNS SAN. The full path validation (pathlen, key usages, name constraints, critical
// extensions) runs where it decides anything: in trust-bundle.ts for the identity service, and in
// every peer's TLS handshake, which OpenSSL verifies against the same anchors.
import { createPublicKey, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { MeshErrorCode } from '../errors/index.js';
import { DerTag, derTlv } from './der.js';
import { encodeLeafSubject, encodeSubjectAltName } from './der-writer.js';
import { IdentityError, IdentityErrorReason } from './identity-error.js';
import { parseIdentityName } from './identity-name.js';
import { checkValidityAt, type ValidityPeriod } from './validity.js';
import { decodePem, encodePem } from './pem.js';
import { keyTypeOf } from './private-key.js';

// 1.2.840.113549.1.9.14 (PKCS#9 extensionRequest) and 1.2.840.10045.4.3.2 (ecdsa-with-SHA256).
const EXTENSION_REQUEST_OID = new Uint8Array([
  0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x0e,
]);
const ECDSA_WITH_SHA256 = new Uint8Array([
  0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02,
]);
const VERSION_1 = new Uint8Array([DerTag.Integer, 0x01, 0x00]);
const MAX_CHAIN_DEPTH = 8;

/**
 * A PKCS#10 request for `identity` as linkerd2-proxy sends it: empty subject, the identity as the
 * one DNS SAN (critical, since the subject is empty), signed with ECDSA P-256 and SHA-256. The
 * bytes equal `createCertificateRequest({ identity, privateKey, commonName: false }).der` but for
 * the signature, which is randomized.
 */
export function createWorkloadCsr(identity: string, privateKey: KeyObject): Uint8Array {
  parseIdentityName(identity, { where: 'createWorkloadCsr identity' });
  if (privateKey.type !== 'private' || keyTypeOf(privateKey) !== 'ecdsa-p256') {
    throw new IdentityError(
      MeshErrorCode.InvalidArgument,
      `a workload key must be an ECDSA P-256 private key, got ${privateKey.type} ${keyTypeOf(privateKey)}`,
      {
        reason: IdentityErrorReason.KeyType,
        where: 'createWorkloadCsr privateKey',
        hint: 'use generateKeyPair()',
      },
    );
  }
  const spki = new Uint8Array(createPublicKey(privateKey).export({ type: 'spki', format: 'der' }));
  const extensions = derTlv(DerTag.Sequence, encodeSubjectAltName([identity], [], true));
  const attribute = derTlv(DerTag.Sequence, EXTENSION_REQUEST_OID, derTlv(DerTag.Set, extensions));
  const info = derTlv(
    DerTag.Sequence,
    VERSION_1,
    encodeLeafSubject(undefined),
    spki,
    derTlv(DerTag.ContextConstructed0, attribute),
  );
  const signature = new Uint8Array(sign('sha256', info, { key: privateKey, dsaEncoding: 'der' }));
  return derTlv(
    DerTag.Sequence,
    info,
    ECDSA_WITH_SHA256,
    derTlv(DerTag.BitString, new Uint8Array([0]), signature),
  );
}

/** What a verified chain proves, for the workload that will serve with it. */
export interface WorkloadChain {
  readonly identity: string;
  /** The earliest notAfter on the path, anchor included: when the chain stops verifying. */
  readonly notAfter: Date;
}

/** A workload's trust anchors, parsed once. */
export interface WorkloadTrustAnchors {
  /** The anchors as one PEM bundle, re-encoded (for TLS contexts). */
  readonly pem: string;
  readonly count: number;
  /**
   * Checks a leaf (DER) and its intermediates (DER, in any order) for `identity` at `at`
   * (default now). Throws an IdentityError with code `certificate_invalid` and a reason
   * (`unknown_issuer`, `expired`, `identity_mismatch`, …) saying what failed where.
   */
  verify(
    leafDer: Uint8Array,
    intermediatesDer: readonly Uint8Array[],
    options: { identity: string; at?: Date },
  ): WorkloadChain;
}

function invalid(reason: IdentityErrorReason, message: string, where: string, hint?: string): IdentityError {
  return new IdentityError(MeshErrorCode.CertificateInvalid, message, { reason, where, hint });
}

function parseX509(der: Uint8Array, where: string): X509Certificate {
  try {
    return new X509Certificate(der);
  } catch (cause) {
    throw new IdentityError(MeshErrorCode.Decode, `not an X.509 certificate: ${(cause as Error).message}`, {
      reason: IdentityErrorReason.Malformed,
      where,
      cause,
    });
  }
}

/** The validity period of a node:crypto certificate, as checkValidityAt takes it. */
const periodOf = (cert: X509Certificate): ValidityPeriod => ({
  notBefore: new Date(cert.validFrom),
  notAfter: new Date(cert.validTo),
  isCa: cert.ca,
});

/** True when `issuer` issued `cert`: names and key identifiers match, and the signature verifies. */
function issued(cert: X509Certificate, issuer: X509Certificate): boolean {
  if (!cert.checkIssued(issuer)) return false;
  try {
    return cert.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

/**
 * Parses the trust anchors (`LINKERD2_PROXY_IDENTITY_TRUST_ANCHORS`: one or more PEM
 * certificates, text between blocks ignored). Every CERTIFICATE block must be a CA certificate.
 */
export function parseWorkloadTrustAnchors(pem: string, where = 'trust anchors'): WorkloadTrustAnchors {
  const blocks = decodePem(pem, { where }).filter((block) => block.type === 'CERTIFICATE');
  if (blocks.length === 0) {
    throw new IdentityError(MeshErrorCode.Decode, 'no CERTIFICATE block', {
      reason: IdentityErrorReason.Malformed,
      where,
      hint: 'pass the PEM of the trust anchor certificates (-----BEGIN CERTIFICATE-----)',
    });
  }
  const anchors = blocks.map((block, index) => {
    const anchorWhere = `${where}, certificate ${index + 1}`;
    const cert = parseX509(block.der, anchorWhere);
    if (!cert.ca) {
      throw invalid(
        IdentityErrorReason.NotACa,
        `${cert.subject || 'the certificate'} is not a CA certificate (basicConstraints CA:TRUE missing)`,
        anchorWhere,
        'trust anchors are the root certificates of the mesh, not a workload certificate',
      );
    }
    return cert;
  });

  const verify = (
    leafDer: Uint8Array,
    intermediatesDer: readonly Uint8Array[],
    options: { identity: string; at?: Date },
  ): WorkloadChain => {
    const at = options.at ?? new Date();
    const leaf = parseX509(leafDer, 'leaf');
    const intermediates = intermediatesDer.map((der, index) => parseX509(der, `intermediate ${index + 1}`));
    if (leaf.ca) {
      throw invalid(IdentityErrorReason.LeafIsCa, 'the leaf is a CA certificate', 'leaf');
    }
    if (leaf.checkHost(options.identity, { subject: 'never', wildcards: false }) !== options.identity) {
      throw invalid(
        IdentityErrorReason.IdentityMismatch,
        `the leaf is not for ${options.identity} (its SANs: ${leaf.subjectAltName ?? 'none'})`,
        'leaf',
      );
    }
    const leafPeriod = periodOf(leaf);
    checkValidityAt(leafPeriod, at, 'leaf');
    let earliest = leafPeriod.notAfter;
    const used = new Set<X509Certificate>();
    let current = leaf;
    for (let depth = 1; depth <= MAX_CHAIN_DEPTH; depth++) {
      const anchor = anchors.find((candidate) => issued(current, candidate));
      if (anchor !== undefined) {
        const period = periodOf(anchor);
        checkValidityAt(period, at, 'trust anchor');
        if (period.notAfter < earliest) earliest = period.notAfter;
        return { identity: options.identity, notAfter: earliest };
      }
      const next = intermediates.find((candidate) => !used.has(candidate) && issued(current, candidate));
      if (next === undefined) break;
      const nextWhere = `intermediate (${next.subject})`;
      if (!next.ca) {
        throw invalid(
          IdentityErrorReason.NotACa,
          'an issuer on the chain is not a CA certificate',
          nextWhere,
        );
      }
      const period = periodOf(next);
      checkValidityAt(period, at, nextWhere);
      if (period.notAfter < earliest) earliest = period.notAfter;
      used.add(next);
      current = next;
    }
    throw invalid(
      IdentityErrorReason.UnknownIssuer,
      `no chain from the leaf (issuer ${leaf.issuer.replace(/\n/g, ', ')}) to the ${anchors.length} trust anchor(s)`,
      'leaf',
      'the identity service signs with an issuer that these trust anchors do not vouch for: check the trust anchors the proxy was given against the issuer certificate',
    );
  };

  return Object.freeze({
    pem: anchors.map((anchor) => encodePem('CERTIFICATE', new Uint8Array(anchor.raw))).join(''),
    count: anchors.length,
    verify,
  });
}
