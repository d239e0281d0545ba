// The hot path of the identity service: a proxy's leaf certificate, encoded straight to DER and
// returned without decoding it again. The generic path (buildCertificate: @peculiar/asn1-schema
// to serialize, then decodeCertificate on the result) costs ~1.5 ms a leaf; this one costs little
// more than the signature. Every byte written here is the byte the generic path writes — the
// static parts (algorithm identifier, keyUsage, extKeyUsage, authorityKeyIdentifier, the issuer
// name) are serialized once per issuer by the generic code and reused, and
// leaf-certificate.test.ts checks the rest against the generic encoder and decoder for random
// inputs. Dates outside UTCTime's 1950–2049 fall back to the generic path.
import { sign, type KeyObject } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { DerTag as Tag, derTlv } from './der.js';
import { ascii, encodeLeafSubject, encodeSubjectAltName } from './der-writer.js';
import { buildCertificate, randomSerialNumber, type Certificate } from './certificate.js';
import { encodePem } from './pem.js';
import { keyTypeOf } from './private-key.js';
import { signatureAlgorithmName, signingAlgorithm, signingHashOf } from './signature-algorithm.js';
import {
  authorityKeyIdExtension,
  ExtKeyUsageOid,
  extKeyUsageExtension,
  keyIdentifier,
  keyUsageExtension,
  subjectAltNameExtension,
} from './x509-extensions.js';
import { encodeCommonNameSubject } from './x509-name.js';

/** What a CA needs to sign a leaf; `Issuer` in certificate-authority.ts is one. */
export interface LeafSigner {
  readonly certificate: Certificate;
  readonly privateKey: KeyObject;
}

/** The parts of a leaf that vary per call. */
export interface LeafContents {
  readonly identity: string;
  readonly publicKey: KeyObject;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Put the identity in the subject CN; otherwise the subject is empty and the SAN critical. */
  readonly commonName: boolean;
  /** URI SANs (the SPIFFE ID), after the DNS SAN. */
  readonly uris: readonly string[];
  /** Default: `randomSerialNumber()`. Tests pass one to compare encodings. */
  readonly serialNumber?: Uint8Array;
}

const VERSION_3 = new Uint8Array([Tag.ContextConstructed0, 0x03, Tag.Integer, 0x01, 0x02]);
const KEY_USAGE = new Uint8Array(AsnConvert.serialize(keyUsageExtension(['digitalSignature'])));
const EXT_KEY_USAGE = new Uint8Array(
  AsnConvert.serialize(extKeyUsageExtension([ExtKeyUsageOid.serverAuth, ExtKeyUsageOid.clientAuth])),
);

function twoDigits(value: number): string {
  return value < 10 ? `0${value}` : `${value}`;
}

/** UTCTime YYMMDDHHMMSSZ (RFC 5280 §4.1.2.5.1); only for years 1950–2049. */
export function encodeUtcTime(date: Date): Uint8Array {
  const text =
    twoDigits(date.getUTCFullYear() % 100) +
    twoDigits(date.getUTCMonth() + 1) +
    twoDigits(date.getUTCDate()) +
    twoDigits(date.getUTCHours()) +
    twoDigits(date.getUTCMinutes()) +
    twoDigits(date.getUTCSeconds()) +
    'Z';
  return derTlv(Tag.UtcTime, ascii(text));
}

function inUtcTimeRange(date: Date): boolean {
  const year = date.getUTCFullYear();
  return year >= 1950 && year <= 2049;
}

/** Whole seconds: what a certificate's validity can hold. */
function truncateToSecond(date: Date): Date {
  return new Date(date.getTime() - (((date.getTime() % 1000) + 1000) % 1000));
}

/** What is the same for every leaf one CA signs, derived once. */
interface SignerContext {
  readonly certificate: Certificate;
  readonly privateKey: KeyObject;
  readonly algorithmDer: Uint8Array;
  readonly algorithmOid: string;
  readonly algorithmName: string;
  readonly hash: string | null;
  readonly authorityKeyIdDer: Uint8Array;
  readonly authorityKeyIdHex: string;
}

const contexts = new WeakMap<LeafSigner, SignerContext>();

function signerContext(signer: LeafSigner): SignerContext {
  const cached = contexts.get(signer);
  // Issuers are frozen; the identity check guards plain objects whose fields were replaced.
  if (cached && cached.certificate === signer.certificate && cached.privateKey === signer.privateKey)
    return cached;
  const algorithm = signingAlgorithm(signer.privateKey);
  const { subjectKeyId, publicKey } = signer.certificate;
  const keyId = subjectKeyId ? new Uint8Array(Buffer.from(subjectKeyId, 'hex')) : keyIdentifier(publicKey);
  const context: SignerContext = {
    certificate: signer.certificate,
    privateKey: signer.privateKey,
    algorithmDer: new Uint8Array(AsnConvert.serialize(algorithm)),
    algorithmOid: algorithm.algorithm,
    algorithmName: signatureAlgorithmName(algorithm.algorithm),
    hash: signingHashOf(algorithm.algorithm),
    authorityKeyIdDer: new Uint8Array(AsnConvert.serialize(authorityKeyIdExtension(keyId))),
    authorityKeyIdHex: Buffer.from(keyId).toString('hex'),
  };
  contexts.set(signer, context);
  return context;
}

const spkis = new WeakMap<KeyObject, Uint8Array>();

function spkiOf(publicKey: KeyObject): Uint8Array {
  let spki = spkis.get(publicKey);
  if (!spki) {
    spki = new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }));
    spkis.set(publicKey, spki);
  }
  return spki;
}

/** The leaf through the generic encoder and decoder; the reference the fast path must match. */
export function buildLeafCertificateGeneric(signer: LeafSigner, leaf: LeafContents): Certificate {
  const { subjectKeyId, publicKey } = signer.certificate;
  const keyId = subjectKeyId ? new Uint8Array(Buffer.from(subjectKeyId, 'hex')) : keyIdentifier(publicKey);
  return buildCertificate({
    serialNumber: leaf.serialNumber,
    issuerDer: signer.certificate.subjectDer,
    subjectDer: encodeCommonNameSubject(leaf.commonName ? leaf.identity : undefined),
    notBefore: leaf.notBefore,
    notAfter: leaf.notAfter,
    publicKey: leaf.publicKey,
    extensions: [
      keyUsageExtension(['digitalSignature']),
      extKeyUsageExtension([ExtKeyUsageOid.serverAuth, ExtKeyUsageOid.clientAuth]),
      subjectAltNameExtension({ dnsNames: [leaf.identity], uris: leaf.uris }, !leaf.commonName),
      authorityKeyIdExtension(keyId),
    ],
    signingKey: signer.privateKey,
  });
}

/**
 * Signs a leaf (keyUsage digitalSignature, extKeyUsage serverAuth+clientAuth, DNS + URI SANs,
 * authorityKeyIdentifier) and returns it as `decodeCertificate` would have read it.
 */
export function buildLeafCertificate(signer: LeafSigner, leaf: LeafContents): Certificate {
  if (!inUtcTimeRange(leaf.notBefore) || !inUtcTimeRange(leaf.notAfter))
    return buildLeafCertificateGeneric(signer, leaf);
  const context = signerContext(signer);
  const serial = leaf.serialNumber ?? randomSerialNumber();
  const subjectCommonName = leaf.commonName ? leaf.identity : undefined;
  const subjectDer = encodeLeafSubject(subjectCommonName);
  const issuerDer = context.certificate.subjectDer;
  const spki = spkiOf(leaf.publicKey);
  const extensions = derTlv(
    Tag.ContextConstructed3,
    derTlv(
      Tag.Sequence,
      KEY_USAGE,
      EXT_KEY_USAGE,
      encodeSubjectAltName([leaf.identity], leaf.uris, !leaf.commonName),
      context.authorityKeyIdDer,
    ),
  );
  const tbs = derTlv(
    Tag.Sequence,
    VERSION_3,
    derTlv(Tag.Integer, serial),
    context.algorithmDer,
    issuerDer,
    derTlv(Tag.Sequence, encodeUtcTime(leaf.notBefore), encodeUtcTime(leaf.notAfter)),
    subjectDer,
    spki,
    extensions,
  );
  const signature = new Uint8Array(sign(context.hash, tbs, { key: context.privateKey, dsaEncoding: 'der' }));
  const der = derTlv(
    Tag.Sequence,
    tbs,
    context.algorithmDer,
    derTlv(Tag.BitString, new Uint8Array([0]), signature),
  );
  const certificate: Certificate = {
    isCa: false,
    pathLength: undefined,
    keyUsage: ['digitalSignature'],
    extKeyUsage: ['serverAuth', 'clientAuth'],
    dnsNames: [leaf.identity],
    uris: [...leaf.uris],
    ipAddresses: [],
    emailAddresses: [],
    otherNames: [],
    subjectKeyId: undefined,
    authorityKeyId: context.authorityKeyIdHex,
    nameConstraints: undefined,
    unhandledCriticalExtensions: [],
    der,
    pem: encodePem('CERTIFICATE', der),
    version: 3,
    serialNumber: Buffer.from(serial).toString('hex'),
    subject: subjectCommonName === undefined ? '' : `CN=${subjectCommonName}`,
    subjectCommonName,
    subjectDer: new Uint8Array(subjectDer),
    issuer: context.certificate.subject,
    issuerDer: new Uint8Array(issuerDer),
    notBefore: truncateToSecond(leaf.notBefore),
    notAfter: truncateToSecond(leaf.notAfter),
    publicKey: leaf.publicKey,
    keyType: keyTypeOf(leaf.publicKey),
    signatureAlgorithm: context.algorithmName,
    signatureAlgorithmOid: context.algorithmOid,
    tbsDer: tbs,
    signature,
  };
  return Object.freeze(certificate);
}
