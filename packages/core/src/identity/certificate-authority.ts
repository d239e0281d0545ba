// Making certificates: trust anchors (roots), issuers (intermediates) and proxy leaf certificates,
// with the profiles Linkerd's docs make with step-cli:
//   root-ca          CA:TRUE pathlen:1, keyCertSign+cRLSign, CN root.linkerd.cluster.local, 10 years
//   intermediate-ca  CA:TRUE pathlen:0, keyCertSign+cRLSign, CN identity.linkerd.cluster.local, 1 year
// and leaves as Linkerd's identity service issues them: 24 h, notBefore backdated by a 20 s
// clock-skew allowance, notAfter clamped to the earliest expiry in the issuer's chain (so a proxy
// renews before any certificate above it expires), serverAuth+clientAuth, the identity as DNS SAN
// plus its SPIFFE ID as URI SAN, and a random 128-bit serial.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { MeshErrorCode } from '../errors/index.js';
import { buildCertificate, parseCertificate, parseCertificates, type Certificate } from './certificate.js';
import { verifyCertificateRequest, type CertificateRequest } from './certificate-request.js';
import { IdentityError, IdentityErrorReason } from './identity-error.js';
import { parseIdentityName } from './identity-name.js';
import { buildLeafCertificate } from './leaf-certificate.js';
import { isPem, type PemOrDer } from './pem.js';
import {
  describeKey,
  generateKeyPair,
  keyTypeOf,
  toPrivateKey,
  type PrivateKeyInput,
} from './private-key.js';
import { formatSpiffeId } from './spiffe-id.js';
import {
  authorityKeyIdExtension,
  basicConstraintsExtension,
  ExtKeyUsageOid,
  extKeyUsageExtension,
  keyIdentifier,
  keyUsageExtension,
  subjectAltNameExtension,
  subjectKeyIdExtension,
} from './x509-extensions.js';
import { encodeCommonNameSubject } from './x509-name.js';

const HOUR_MS = 3_600_000;

export const DEFAULT_ROOT_COMMON_NAME = 'root.linkerd.cluster.local';
export const DEFAULT_ISSUER_COMMON_NAME = 'identity.linkerd.cluster.local';
/** step-cli's root-ca default: 10 years. */
export const DEFAULT_ROOT_LIFETIME_MS = 87_600 * HOUR_MS;
/** What Linkerd's docs pass to step for the issuer: `--not-after 8760h`. */
export const DEFAULT_ISSUER_LIFETIME_MS = 8_760 * HOUR_MS;
/** Linkerd's `identity.issuer.issuanceLifetime`. */
export const DEFAULT_LEAF_LIFETIME_MS = 24 * HOUR_MS;
/** Linkerd's `identity.issuer.clockSkewAllowance`. */
export const DEFAULT_CLOCK_SKEW_MS = 20_000;

/** A certificate with its private key. */
export interface CertifiedKey {
  readonly certificate: Certificate;
  readonly privateKey: KeyObject;
}

/** A CA that can sign: its certificate and key, and the certificates above it. */
export interface Issuer extends CertifiedKey {
  /**
   * The certificates above this issuer, nearest first, as far as known (may end with the root).
   * Nothing the issuer signs outlives any of them.
   */
  readonly chain: readonly Certificate[];
}

function fail(
  code: MeshErrorCode,
  reason: IdentityErrorReason,
  message: string,
  where: string,
  hint?: string,
): IdentityError {
  return new IdentityError(code, message, { reason, where, hint });
}

function isSelfIssued(certificate: Certificate): boolean {
  return Buffer.compare(certificate.subjectDer, certificate.issuerDer) === 0;
}

function spkiOf(key: KeyObject): Buffer {
  return (key.type === 'private' ? createPublicKey(key) : key).export({ type: 'spki', format: 'der' });
}

export interface CreateIssuerOptions {
  /** The issuer certificate, or PEM whose first certificate is the issuer and the rest its chain (crt.pem). */
  certificate: Certificate | PemOrDer;
  /** The issuer's private key (key.pem): PKCS#8, SEC1 or PKCS#1, or a KeyObject. */
  privateKey: PrivateKeyInput;
  /** More chain certificates (e.g. kubernetes.io/tls `ca.crt` when it holds intermediates). */
  chain?: readonly Certificate[] | PemOrDer;
  /** Where the material came from, for messages. */
  where?: string;
}

/**
 * Loads an issuer (e.g. the `linkerd-identity-issuer` secret) and checks that the certificate is a
 * CA allowed to sign certificates and that the key belongs to it. Validity in time is checked when
 * it signs, and against the trust anchors with `TrustBundle.verify(..., { purpose: 'issuer' })`.
 */
export function createIssuer(options: CreateIssuerOptions): Issuer {
  const where = options.where ?? 'issuer';
  let certificate: Certificate;
  const chain: Certificate[] = [];
  if (options.certificate instanceof Uint8Array || typeof options.certificate === 'string') {
    const all = isPem(options.certificate)
      ? parseCertificates(options.certificate, { where: `${where} certificate` })
      : [parseCertificate(options.certificate, { where: `${where} certificate` })];
    certificate = all[0]!;
    chain.push(...all.slice(1));
  } else {
    certificate = options.certificate;
  }
  if (options.chain !== undefined) {
    const more =
      options.chain instanceof Uint8Array || typeof options.chain === 'string'
        ? parseCertificates(options.chain, { where: `${where} chain` })
        : options.chain;
    chain.push(...more);
  }
  const privateKey = toPrivateKey(options.privateKey, `${where} private key`);
  if (!certificate.isCa && !(certificate.version === 1 && isSelfIssued(certificate))) {
    throw fail(
      MeshErrorCode.CertificateInvalid,
      IdentityErrorReason.NotACa,
      `${certificate.subject} is not a CA certificate (basicConstraints CA:TRUE is missing)`,
      where,
      'create the issuer with `step certificate create ... --profile intermediate-ca` or createIntermediateCertificate()',
    );
  }
  if (certificate.keyUsage && !certificate.keyUsage.includes('keyCertSign')) {
    throw fail(
      MeshErrorCode.CertificateInvalid,
      IdentityErrorReason.KeyUsage,
      `${certificate.subject} has keyUsage without keyCertSign`,
      where,
    );
  }
  if (Buffer.compare(spkiOf(privateKey), spkiOf(certificate.publicKey)) !== 0) {
    throw fail(
      MeshErrorCode.CertificateInvalid,
      IdentityErrorReason.KeyMismatch,
      `the private key (${describeKey(privateKey)}) does not belong to the certificate ${certificate.subject}`,
      where,
      'pair crt.pem with the key.pem it was created with',
    );
  }
  return Object.freeze({
    certificate,
    privateKey,
    chain: Object.freeze(chain),
  });
}

function checkLifetime(value: number | undefined, fallback: number, name: string, where: string): number {
  const lifetime = value ?? fallback;
  if (!Number.isFinite(lifetime) || lifetime <= 0) {
    throw fail(
      MeshErrorCode.InvalidArgument,
      IdentityErrorReason.InvalidOptions,
      `${name} must be a positive number of milliseconds, got ${value}`,
      where,
    );
  }
  return lifetime;
}

function checkSkew(value: number | undefined, where: string): number {
  const skew = value ?? DEFAULT_CLOCK_SKEW_MS;
  if (!Number.isFinite(skew) || skew < 0) {
    throw fail(
      MeshErrorCode.InvalidArgument,
      IdentityErrorReason.InvalidOptions,
      `clockSkewMs must be >= 0, got ${value}`,
      where,
    );
  }
  return skew;
}

/** Checks the issuer can sign at `now` and returns the earliest expiry in its chain. */
function signingWindowEnd(issuer: Issuer, now: Date, where: string): Date {
  const { certificate } = issuer;
  if (now.getTime() > certificate.notAfter.getTime()) {
    throw fail(
      MeshErrorCode.CertificateInvalid,
      IdentityErrorReason.Expired,
      `the issuer ${certificate.subject} expired at ${certificate.notAfter.toISOString()}`,
      where,
      'rotate the issuer certificate (linkerd-identity-issuer)',
    );
  }
  if (now.getTime() < certificate.notBefore.getTime()) {
    throw fail(
      MeshErrorCode.CertificateInvalid,
      IdentityErrorReason.NotYetValid,
      `the issuer ${certificate.subject} is not valid before ${certificate.notBefore.toISOString()}`,
      where,
      'check the clock, or wait until the issuer becomes valid',
    );
  }
  let end = certificate.notAfter;
  for (const above of issuer.chain) if (above.notAfter < end) end = above.notAfter;
  return end;
}

function authorityKeyId(issuer: CertifiedKey): Uint8Array {
  const id = issuer.certificate.subjectKeyId;
  return id ? new Uint8Array(Buffer.from(id, 'hex')) : keyIdentifier(issuer.certificate.publicKey);
}

function keyFor(input: PrivateKeyInput | undefined, where: string): KeyObject {
  return input === undefined ? generateKeyPair().privateKey : toPrivateKey(input, where);
}

export interface CreateRootOptions {
  /** Default `root.linkerd.cluster.local`. */
  commonName?: string;
  /** Default: a new ECDSA P-256 key. RSA and other ECDSA curves work too. */
  privateKey?: PrivateKeyInput;
  /** Default 10 years. */
  lifetimeMs?: number;
  /** basicConstraints pathlen; default 1 (step root-ca); null for no limit (Linkerd's CLI root). */
  pathLength?: number | null;
  /** notBefore is `now` minus this; default 20 s. */
  clockSkewMs?: number;
  now?: Date;
}

/** Creates a self-signed trust anchor. It is also an `Issuer`, for setups that sign leaves with the root. */
export function createRootCertificate(options: CreateRootOptions = {}): Issuer {
  const where = 'createRootCertificate';
  const privateKey = keyFor(options.privateKey, `${where} privateKey`);
  const now = options.now ?? new Date();
  const lifetime = checkLifetime(options.lifetimeMs, DEFAULT_ROOT_LIFETIME_MS, 'lifetimeMs', where);
  const skew = checkSkew(options.clockSkewMs, where);
  const pathLength = options.pathLength === undefined ? 1 : options.pathLength;
  const subjectDer = encodeCommonNameSubject(options.commonName ?? DEFAULT_ROOT_COMMON_NAME);
  const publicKey = createPublicKey(privateKey);
  const certificate = buildCertificate({
    issuerDer: subjectDer,
    subjectDer,
    notBefore: new Date(now.getTime() - skew),
    notAfter: new Date(now.getTime() + lifetime),
    publicKey,
    extensions: [
      basicConstraintsExtension(true, pathLength ?? undefined),
      keyUsageExtension(['keyCertSign', 'cRLSign']),
      subjectKeyIdExtension(keyIdentifier(publicKey)),
    ],
    signingKey: privateKey,
  });
  return Object.freeze({ certificate, privateKey, chain: Object.freeze([]) });
}

export interface CreateIntermediateOptions {
  /** The CA that signs: a root from `createRootCertificate`, or one loaded with `createIssuer`. */
  issuer: Issuer;
  /** Default `identity.linkerd.cluster.local`. */
  commonName?: string;
  /** Default: a new ECDSA P-256 key. */
  privateKey?: PrivateKeyInput;
  /** Default 1 year; clamped to the issuer chain's earliest expiry. */
  lifetimeMs?: number;
  /** basicConstraints pathlen; default 0 (step intermediate-ca); null for no limit. */
  pathLength?: number | null;
  clockSkewMs?: number;
  now?: Date;
}

/** Creates an intermediate CA (Linkerd's identity issuer) signed by `issuer`. */
export function createIntermediateCertificate(options: CreateIntermediateOptions): Issuer {
  const where = 'createIntermediateCertificate';
  const { issuer } = options;
  const privateKey = keyFor(options.privateKey, `${where} privateKey`);
  const now = options.now ?? new Date();
  const lifetime = checkLifetime(options.lifetimeMs, DEFAULT_ISSUER_LIFETIME_MS, 'lifetimeMs', where);
  const skew = checkSkew(options.clockSkewMs, where);
  const pathLength = options.pathLength === undefined ? 0 : options.pathLength;
  const parentLimit = issuer.certificate.pathLength;
  if (parentLimit !== undefined && (pathLength === null || pathLength >= parentLimit)) {
    throw fail(
      MeshErrorCode.InvalidArgument,
      IdentityErrorReason.PathLength,
      `the issuer ${issuer.certificate.subject} has pathlen ${parentLimit}, so a CA under it must have pathlen below ${parentLimit}, not ${pathLength ?? 'unlimited'}`,
      where,
      parentLimit === 0 ? 'this issuer can only sign leaf certificates' : undefined,
    );
  }
  const end = signingWindowEnd(issuer, now, where);
  const wanted = new Date(now.getTime() + lifetime);
  const publicKey = createPublicKey(privateKey);
  const certificate = buildCertificate({
    issuerDer: issuer.certificate.subjectDer,
    subjectDer: encodeCommonNameSubject(options.commonName ?? DEFAULT_ISSUER_COMMON_NAME),
    notBefore: new Date(now.getTime() - skew),
    notAfter: wanted < end ? wanted : end,
    publicKey,
    extensions: [
      basicConstraintsExtension(true, pathLength ?? undefined),
      keyUsageExtension(['keyCertSign', 'cRLSign']),
      subjectKeyIdExtension(keyIdentifier(publicKey)),
      authorityKeyIdExtension(authorityKeyId(issuer)),
    ],
    signingKey: issuer.privateKey,
  });
  return Object.freeze({
    certificate,
    privateKey,
    chain: Object.freeze([issuer.certificate, ...issuer.chain]),
  });
}

export interface IssueLeafOptions {
  issuer: Issuer;
  /** The proxy's CSR; it is verified (`verifyCertificateRequest`) and its key certified. */
  csr?: PemOrDer | CertificateRequest;
  /** Instead of a CSR: the ECDSA P-256 public key to certify (then `identity` is required). */
  publicKey?: KeyObject;
  /** The identity to certify; with a CSR, the CSR must ask for exactly this. */
  identity?: string;
  /** Default 24 h; clamped to the issuer chain's earliest expiry. */
  lifetimeMs?: number;
  /** notBefore is `now` minus this; default 20 s. */
  clockSkewMs?: number;
  now?: Date;
  /** Put the identity in the subject CN (default true); false leaves the subject empty and marks the SAN critical. */
  commonName?: boolean;
  /** Add the SPIFFE ID as a URI SAN (default true). */
  spiffeUri?: boolean;
}

/** A freshly issued leaf, with what a CertifyResponse carries. */
export interface IssuedCertificate {
  readonly certificate: Certificate;
  /**
   * The issuer's certificate and the non-root certificates of its chain, nearest first: what
   * `CertifyResponse.intermediate_certificates` carries (roots travel separately, as trust anchors).
   */
  readonly intermediates: readonly Certificate[];
  readonly identity: string;
  /** = certificate.notAfter: `CertifyResponse.valid_until`. */
  readonly validUntil: Date;
}

/** Issues a proxy's leaf certificate for a CSR (or a public key and identity). */
export function issueLeafCertificate(options: IssueLeafOptions): IssuedCertificate {
  const where = 'issueLeafCertificate';
  const { issuer } = options;
  let identity: string;
  let publicKey: KeyObject;
  if (options.csr !== undefined) {
    const verified = verifyCertificateRequest(options.csr, { identity: options.identity });
    identity = verified.identity;
    publicKey = verified.request.publicKey;
  } else if (options.publicKey !== undefined && options.identity !== undefined) {
    identity = options.identity;
    parseIdentityName(identity, { where: `${where} identity` });
    publicKey = options.publicKey.type === 'private' ? createPublicKey(options.publicKey) : options.publicKey;
    if (keyTypeOf(publicKey) !== 'ecdsa-p256') {
      throw fail(
        MeshErrorCode.FailedPrecondition,
        IdentityErrorReason.KeyType,
        `the key is ${describeKey(publicKey)}; an ECDSA P-256 key is required`,
        `${where} publicKey`,
      );
    }
  } else {
    throw fail(
      MeshErrorCode.InvalidArgument,
      IdentityErrorReason.InvalidOptions,
      'give either csr, or publicKey and identity',
      where,
    );
  }
  const now = options.now ?? new Date();
  const lifetime = checkLifetime(options.lifetimeMs, DEFAULT_LEAF_LIFETIME_MS, 'lifetimeMs', where);
  const skew = checkSkew(options.clockSkewMs, where);
  const end = signingWindowEnd(issuer, now, where);
  const wanted = new Date(now.getTime() + lifetime);
  const withCommonName = options.commonName ?? true;
  const uris = options.spiffeUri === false ? [] : [formatSpiffeId(parseIdentityName(identity))];
  const certificate = buildLeafCertificate(issuer, {
    identity,
    publicKey,
    notBefore: new Date(now.getTime() - skew),
    notAfter: wanted < end ? wanted : end,
    commonName: withCommonName,
    uris,
  });
  return Object.freeze({
    certificate,
    intermediates: Object.freeze([issuer.certificate, ...issuer.chain.filter((cert) => !isSelfIssued(cert))]),
    identity,
    validUntil: certificate.notAfter,
  });
}

export interface IssueServingOptions {
  issuer: Issuer;
  /** The key to certify (public or private; only its public half is used). */
  publicKey: KeyObject;
  /** DNS names for the SAN; the first is also the subject CN. */
  dnsNames: readonly string[];
  /** Default 365 days (what Linkerd's chart gives webhook certificates); clamped to the issuer's expiry. */
  lifetimeMs?: number;
  clockSkewMs?: number;
  now?: Date;
}

/**
 * A TLS server certificate for DNS names (an admission webhook's `<service>.<namespace>.svc`), not
 * a mesh identity: keyUsage digitalSignature+keyEncipherment, extKeyUsage serverAuth, CA:FALSE.
 */
export function issueServingCertificate(options: IssueServingOptions): Certificate {
  const where = 'issueServingCertificate';
  const { issuer } = options;
  if (options.dnsNames.length === 0) {
    throw fail(
      MeshErrorCode.InvalidArgument,
      IdentityErrorReason.InvalidOptions,
      'give at least one DNS name',
      where,
    );
  }
  const publicKey =
    options.publicKey.type === 'private' ? createPublicKey(options.publicKey) : options.publicKey;
  const now = options.now ?? new Date();
  const lifetime = checkLifetime(options.lifetimeMs, 365 * 24 * HOUR_MS, 'lifetimeMs', where);
  const skew = checkSkew(options.clockSkewMs, where);
  const end = signingWindowEnd(issuer, now, where);
  const wanted = new Date(now.getTime() + lifetime);
  return buildCertificate({
    issuerDer: issuer.certificate.subjectDer,
    subjectDer: encodeCommonNameSubject(options.dnsNames[0]),
    notBefore: new Date(now.getTime() - skew),
    notAfter: wanted < end ? wanted : end,
    publicKey,
    extensions: [
      keyUsageExtension(['digitalSignature', 'keyEncipherment']),
      extKeyUsageExtension([ExtKeyUsageOid.serverAuth]),
      basicConstraintsExtension(false),
      subjectAltNameExtension({ dnsNames: options.dnsNames }, false),
      authorityKeyIdExtension(
        issuer.certificate.subjectKeyId
          ? new Uint8Array(Buffer.from(issuer.certificate.subjectKeyId, 'hex'))
          : keyIdentifier(issuer.certificate.publicKey),
      ),
    ],
    signingKey: issuer.privateKey,
  });
}
