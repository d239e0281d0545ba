// Trust anchors and chain verification. A bundle holds several anchors so that an anchor can be
// rotated (old and new both trusted for a while), exactly like Linkerd's
// `linkerd-identity-trust-roots` ConfigMap. Verification builds a path from the leaf through the
// given intermediates to any anchor (trying every candidate issuer by name and key identifier)
// and checks on each step what RFC 5280 path validation and webpki check for mesh certificates:
// signatures, validity at a given time, CA and pathlen constraints, keyUsage, extKeyUsage nesting,
// DNS/URI name constraints and unknown critical extensions. Anchors are checked too (validity,
// CA, pathlen), as openssl and Go do.
import { MeshErrorCode } from '../errors/index.js';
import { parseCertificates, type Certificate } from './certificate.js';
import { IdentityError, IdentityErrorReason } from './identity-error.js';
import { parseIdentityName, type IdentityName } from './identity-name.js';
import { isPem, pemText, type PemOrDer } from './pem.js';
import { formatSpiffeId, SPIFFE_SCHEME } from './spiffe-id.js';
import { verifySignature } from './signature-algorithm.js';
import { checkValidityAt } from './validity.js';
import type { GeneralNameValue } from './x509-extensions.js';

/** What the end of the chain is for: a proxy identity (default), or an issuer being checked against the anchors. */
export type VerifyPurpose = 'identity' | 'issuer';

export interface VerifyChainOptions {
  /** The time to check validity at; default now. */
  at?: Date;
  /** The identity the leaf must carry as a DNS SAN (e.g. the destination's identity hint). */
  identity?: string;
  /** Default `identity`: the leaf must not be a CA. `issuer`: the leaf must be a CA allowed to sign. */
  purpose?: VerifyPurpose;
  /** extKeyUsage the leaf (and every CA that restricts EKUs) must allow; default serverAuth and clientAuth for identities, none for issuers. */
  extKeyUsage?: ReadonlyArray<'serverAuth' | 'clientAuth'>;
  /** Longest path tried, anchor included; default 8. */
  maxDepth?: number;
}

/** A chain that verified, and the identity it proves. */
export interface VerifiedChain {
  readonly leaf: Certificate;
  /** Leaf first, anchor last. */
  readonly path: readonly Certificate[];
  readonly anchor: Certificate;
  /** The leaf's Linkerd identity: its one DNS SAN that is an identity name, if any. */
  readonly identity: string | undefined;
  readonly identityName: IdentityName | undefined;
  /** The leaf's SPIFFE URI SAN, if any. */
  readonly spiffeId: string | undefined;
  /** The earliest notAfter on the path: when this chain stops verifying. */
  readonly notAfter: Date;
}

/** Certificates or PEM/DER, for intermediates. */
export type CertificatesInput = PemOrDer | ReadonlyArray<Certificate | PemOrDer>;

/** A set of trust anchors. */
export interface TrustBundle {
  readonly anchors: readonly Certificate[];
  /** The anchors as one PEM bundle (the `ca-bundle.crt` format). */
  readonly pem: string;
  /**
   * Verifies `leaf` (a certificate, or PEM whose first certificate is the leaf and the rest
   * intermediates) with `intermediates` against the anchors. Throws an IdentityError with code
   * `certificate_invalid` and a reason saying what failed where.
   */
  verify(
    leaf: Certificate | PemOrDer,
    intermediates?: CertificatesInput,
    options?: VerifyChainOptions,
  ): VerifiedChain;
}

function fail(
  reason: IdentityErrorReason,
  message: string,
  where: string,
  hint?: string,
  cause?: unknown,
): IdentityError {
  return new IdentityError(MeshErrorCode.CertificateInvalid, message, { reason, where, hint, cause });
}

function isCertificate(value: unknown): value is Certificate {
  return typeof value === 'object' && value !== null && !(value instanceof Uint8Array) && 'tbsDer' in value;
}

function toCertificates(input: CertificatesInput | undefined, where: string): Certificate[] {
  if (input === undefined) return [];
  if (typeof input === 'string' || input instanceof Uint8Array) {
    // No intermediates at all (an empty string or buffer) is fine; anything else must parse.
    if (input.length === 0 || (isPem(input) && pemText(input).trim() === '')) return [];
    return parseCertificates(input, { where });
  }
  return (input as ReadonlyArray<Certificate | PemOrDer>).flatMap((item, index) =>
    isCertificate(item) ? [item] : parseCertificates(item, { where: `${where}[${index}]` }),
  );
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0;
}

function isSelfIssued(certificate: Certificate): boolean {
  return sameBytes(certificate.subjectDer, certificate.issuerDer);
}

function describe(certificate: Certificate, index: number): string {
  const role = index === 0 ? 'leaf' : `chain certificate ${index}`;
  return `${role} (${certificate.subject || certificate.dnsNames[0] || `serial ${certificate.serialNumber}`})`;
}

function checkCritical(certificate: Certificate, where: string): void {
  if (certificate.unhandledCriticalExtensions.length > 0) {
    throw fail(
      IdentityErrorReason.CriticalExtension,
      `has critical extensions this verifier does not understand: ${certificate.unhandledCriticalExtensions.join(', ')}`,
      where,
    );
  }
}

function checkExtKeyUsage(certificate: Certificate, required: readonly string[], where: string): void {
  const allowed = certificate.extKeyUsage;
  if (allowed === undefined || allowed.includes('anyExtendedKeyUsage')) return;
  const missing = required.filter((usage) => !allowed.includes(usage));
  if (missing.length > 0) {
    throw fail(
      IdentityErrorReason.ExtKeyUsage,
      `extKeyUsage (${allowed.join(', ') || 'empty'}) does not allow ${missing.join(' and ')}`,
      where,
      'mesh certificates need serverAuth and clientAuth',
    );
  }
}

function nameMatches(name: string, constraint: string): boolean {
  const n = name.toLowerCase();
  const c = constraint.toLowerCase();
  if (c === '') return true;
  if (c.startsWith('.')) return n.endsWith(c);
  return n === c || n.endsWith(`.${c}`);
}

function uriHost(uri: string): string | undefined {
  const match = /^[a-z][a-z0-9+.-]*:\/\/([^/?#:@]*)/i.exec(uri);
  return match?.[1];
}

function checkNameConstraints(ca: Certificate, leaf: Certificate, where: string): void {
  const constraints = ca.nameConstraints;
  if (!constraints) return;
  const names: GeneralNameValue[] = [
    ...leaf.dnsNames.map((value) => ({ kind: 'dns' as const, value })),
    ...leaf.uris.map((value) => ({ kind: 'uri' as const, value })),
    ...leaf.ipAddresses.map((value) => ({ kind: 'ip' as const, value })),
    ...leaf.emailAddresses.map((value) => ({ kind: 'email' as const, value })),
  ];
  for (const name of names) {
    const subject = name.kind === 'uri' ? uriHost(name.value) : name.value;
    const ofKind = (list: readonly GeneralNameValue[]) => list.filter((item) => item.kind === name.kind);
    const permitted = ofKind(constraints.permitted);
    const excluded = ofKind(constraints.excluded);
    if ((name.kind === 'ip' || name.kind === 'email') && permitted.length + excluded.length > 0) {
      throw fail(
        IdentityErrorReason.NameConstraints,
        `cannot check ${name.kind} name constraints on ${name.value}`,
        where,
      );
    }
    if (name.kind !== 'dns' && name.kind !== 'uri') continue;
    if (subject === undefined && permitted.length + excluded.length > 0) {
      throw fail(
        IdentityErrorReason.NameConstraints,
        `URI ${name.value} has no host to check against name constraints`,
        where,
      );
    }
    const value = subject ?? '';
    const hit = excluded.find((item) => nameMatches(value, item.value));
    if (hit)
      throw fail(
        IdentityErrorReason.NameConstraints,
        `${name.value} is excluded by the name constraint ${hit.value}`,
        where,
      );
    if (permitted.length > 0 && !permitted.some((item) => nameMatches(value, item.value))) {
      throw fail(
        IdentityErrorReason.NameConstraints,
        `${name.value} is outside the permitted names (${permitted.map((item) => item.value).join(', ')})`,
        where,
      );
    }
  }
}

function checkEndOfChain(
  leaf: Certificate,
  purpose: VerifyPurpose,
  eku: readonly string[],
  expected: string | undefined,
) {
  const where = describe(leaf, 0);
  checkCritical(leaf, where);
  if (purpose === 'issuer') {
    if (!leaf.isCa && !(leaf.version === 1 && isSelfIssued(leaf))) {
      throw fail(
        IdentityErrorReason.NotACa,
        'is not a CA certificate (basicConstraints CA:TRUE is missing)',
        where,
      );
    }
    if (leaf.keyUsage && !leaf.keyUsage.includes('keyCertSign')) {
      throw fail(IdentityErrorReason.KeyUsage, 'keyUsage does not allow keyCertSign', where);
    }
  } else {
    if (leaf.isCa) throw fail(IdentityErrorReason.LeafIsCa, 'is a CA certificate, not an identity', where);
    if (leaf.keyUsage && !leaf.keyUsage.includes('digitalSignature')) {
      throw fail(
        IdentityErrorReason.KeyUsage,
        `keyUsage (${leaf.keyUsage.join(', ')}) does not allow digitalSignature`,
        where,
      );
    }
  }
  checkExtKeyUsage(leaf, eku, where);
  const identities = leaf.dnsNames.flatMap((name) => {
    try {
      return [{ name, parts: parseIdentityName(name) }];
    } catch {
      return [];
    }
  });
  const identity = identities.length === 1 ? identities[0] : undefined;
  if (expected !== undefined && !leaf.dnsNames.includes(expected)) {
    throw fail(
      IdentityErrorReason.IdentityMismatch,
      `is for ${leaf.dnsNames.join(', ') || 'no DNS name'}, expected ${expected}`,
      where,
    );
  }
  const spiffeIds = leaf.uris.filter((uri) => uri.startsWith(SPIFFE_SCHEME));
  if (identity && spiffeIds.length > 0) {
    const wanted = formatSpiffeId(identity.parts);
    if (!spiffeIds.includes(wanted)) {
      throw fail(
        IdentityErrorReason.IdentityMismatch,
        `its SPIFFE ID ${spiffeIds.join(', ')} does not match its DNS identity ${identity.name} (expected ${wanted})`,
        where,
      );
    }
  }
  return { identity: identity?.name, identityName: identity?.parts, spiffeId: spiffeIds[0] };
}

/** Verifies a chain against anchors; see `TrustBundle.verify`. */
export function verifyCertificateChain(
  anchors: readonly Certificate[],
  leafInput: Certificate | PemOrDer,
  intermediatesInput?: CertificatesInput,
  options: VerifyChainOptions = {},
): VerifiedChain {
  const at = options.at ?? new Date();
  const purpose = options.purpose ?? 'identity';
  const eku = options.extKeyUsage ?? (purpose === 'identity' ? ['serverAuth', 'clientAuth'] : []);
  const maxDepth = options.maxDepth ?? 8;
  let leaf: Certificate;
  const intermediates: Certificate[] = [];
  if (isCertificate(leafInput)) {
    leaf = leafInput;
  } else {
    const all = parseCertificates(leafInput, { where: 'leaf' });
    leaf = all[0]!;
    intermediates.push(...all.slice(1));
  }
  intermediates.push(...toCertificates(intermediatesInput, 'intermediates'));
  if (anchors.length === 0)
    throw fail(IdentityErrorReason.UnknownIssuer, 'the trust bundle has no anchors', 'trust bundle');

  const names = checkEndOfChain(leaf, purpose, eku, options.identity);
  checkValidityAt(leaf, at, describe(leaf, 0));
  const isAnchor = (certificate: Certificate) =>
    anchors.some((anchor) => sameBytes(anchor.der, certificate.der));

  const extend = (path: Certificate[]): Certificate[] => {
    const current = path[path.length - 1]!;
    if (isAnchor(current)) return path;
    const index = path.length - 1;
    const where = describe(current, index);
    if (path.length >= maxDepth) {
      throw fail(IdentityErrorReason.UnknownIssuer, `no trust anchor within ${maxDepth} certificates`, where);
    }
    const candidates = [...intermediates, ...anchors].filter(
      (candidate, position, all) =>
        sameBytes(candidate.subjectDer, current.issuerDer) &&
        !path.some((seen) => sameBytes(seen.der, candidate.der)) &&
        all.findIndex((other) => sameBytes(other.der, candidate.der)) === position &&
        !(
          current.authorityKeyId &&
          candidate.subjectKeyId &&
          current.authorityKeyId !== candidate.subjectKeyId
        ),
    );
    if (candidates.length === 0) {
      throw fail(
        IdentityErrorReason.UnknownIssuer,
        `its issuer ${current.issuer || '(empty name)'} is neither among the intermediates nor a trust anchor`,
        where,
        'add the missing intermediate, or the root that signed this chain to the trust bundle',
      );
    }
    const errors: IdentityError[] = [];
    for (const candidate of candidates) {
      const candidateIndex = path.length;
      const candidateWhere = describe(candidate, candidateIndex);
      try {
        let signed: boolean;
        try {
          signed = verifySignature(
            current.tbsDer,
            current.signatureAlgorithmOid,
            current.signature,
            candidate.publicKey,
            where,
          );
        } catch (cause) {
          const error = cause as IdentityError;
          throw fail(error.reason, error.message, where, error.hint, cause);
        }
        if (!signed) {
          throw fail(
            IdentityErrorReason.BadSignature,
            `its ${current.signatureAlgorithm} signature does not verify with the key of ${candidate.subject}`,
            where,
            'the certificate was altered, or another CA with the same name signed it',
          );
        }
        checkCritical(candidate, candidateWhere);
        if (!candidate.isCa && !(candidate.version === 1 && isAnchor(candidate))) {
          throw fail(
            IdentityErrorReason.NotACa,
            'signs certificates but is not a CA (basicConstraints CA:TRUE is missing)',
            candidateWhere,
          );
        }
        if (candidate.keyUsage && !candidate.keyUsage.includes('keyCertSign')) {
          throw fail(
            IdentityErrorReason.KeyUsage,
            'signs certificates but its keyUsage lacks keyCertSign',
            candidateWhere,
          );
        }
        const below = path.slice(1).filter((certificate) => !isSelfIssued(certificate)).length;
        if (candidate.pathLength !== undefined && below > candidate.pathLength) {
          throw fail(
            IdentityErrorReason.PathLength,
            `has pathlen ${candidate.pathLength} but ${below} CA certificate(s) follow it towards the leaf`,
            candidateWhere,
          );
        }
        checkExtKeyUsage(candidate, eku, candidateWhere);
        checkNameConstraints(candidate, leaf, candidateWhere);
        checkValidityAt(candidate, at, candidateWhere);
        return extend([...path, candidate]);
      } catch (error) {
        if (!IdentityError.is(error)) throw error;
        errors.push(error);
      }
    }
    // Prefer a concrete failure (expired, bad signature, …) over "no issuer" from a dead-end branch.
    throw errors.find((error) => error.reason !== IdentityErrorReason.UnknownIssuer) ?? errors[0]!;
  };

  const path = extend([leaf]);
  const notAfter = path.reduce(
    (earliest, certificate) => (certificate.notAfter < earliest ? certificate.notAfter : earliest),
    leaf.notAfter,
  );
  return Object.freeze({
    leaf,
    path: Object.freeze(path),
    anchor: path[path.length - 1]!,
    identity: names.identity,
    identityName: names.identityName,
    spiffeId: names.spiffeId,
    notAfter,
  });
}

/** A trust bundle of the given anchors (duplicates dropped). */
export function createTrustBundle(anchors: readonly Certificate[]): TrustBundle {
  const unique = anchors.filter(
    (anchor, index) => anchors.findIndex((other) => sameBytes(other.der, anchor.der)) === index,
  );
  const frozen = Object.freeze(unique);
  return Object.freeze({
    anchors: frozen,
    pem: frozen.map((anchor) => anchor.pem).join(''),
    verify: (leaf: Certificate | PemOrDer, intermediates?: CertificatesInput, options?: VerifyChainOptions) =>
      verifyCertificateChain(frozen, leaf, intermediates, options),
  });
}

/** Parses a PEM bundle (e.g. `ca-bundle.crt`, `LINKERD2_PROXY_IDENTITY_TRUST_ANCHORS`) or several, into a trust bundle. */
export function parseTrustBundle(
  input: PemOrDer | readonly PemOrDer[],
  options: { where?: string } = {},
): TrustBundle {
  return createTrustBundle(parseCertificates(input, { where: options.where ?? 'trust bundle' }));
}
