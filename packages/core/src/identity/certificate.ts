// X.509 certificates: a parsed, read-only view with what mesh code asks of a certificate (names,
// validity, CA constraints, key usages, key), and the one function that assembles and signs new
// ones. The signed bytes and names are kept exactly as received (see der.ts).
import { createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate as AsnCertificate, Extensions, Validity, type Extension } from '@peculiar/asn1-x509';
import { MeshErrorCode } from '../errors/index.js';
import { DerTag, derChildren, encodeBitString, encodeDer, readDerSequence } from './der.js';
import { IdentityError, IdentityErrorReason } from './identity-error.js';
import { derBlocks, encodePem, type PemOrDer } from './pem.js';
import { keyTypeOf, type KeyType } from './private-key.js';
import { signData, signatureAlgorithmName, signingAlgorithm } from './signature-algorithm.js';
import { readExtensions, type ExtensionValues } from './x509-extensions.js';
import { commonNameOf, formatName } from './x509-name.js';

/** A parsed X.509 certificate. */
export interface Certificate extends ExtensionValues {
  readonly der: Uint8Array;
  readonly pem: string;
  /** 1 or 3 (the X.509 version, not the encoded 0/2). */
  readonly version: number;
  /** Lowercase hex of the serial number's DER content. */
  readonly serialNumber: string;
  /** Readable subject, e.g. `CN=identity.linkerd.cluster.local`. */
  readonly subject: string;
  readonly subjectCommonName: string | undefined;
  /** The subject Name's DER, as encoded in the certificate. */
  readonly subjectDer: Uint8Array;
  readonly issuer: string;
  readonly issuerDer: Uint8Array;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly publicKey: KeyObject;
  readonly keyType: KeyType;
  /** e.g. `ecdsa-with-SHA256`. */
  readonly signatureAlgorithm: string;
  readonly signatureAlgorithmOid: string;
  /** The signed TBSCertificate bytes, exactly as received. */
  readonly tbsDer: Uint8Array;
  readonly signature: Uint8Array;
}

export interface ParseOptions {
  /** Where the input came from, for error messages (e.g. `linkerd-identity-issuer/crt.pem`). */
  where?: string;
}

function malformed(message: string, where: string, cause?: unknown): IdentityError {
  return new IdentityError(MeshErrorCode.Decode, message, {
    reason: IdentityErrorReason.Malformed,
    where,
    cause,
  });
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0;
}

/** Decodes one DER certificate. */
export function decodeCertificate(der: Uint8Array, where: string): Certificate {
  const outer = readDerSequence(der, where);
  const parts = derChildren(outer, where);
  if (parts.length !== 3) throw malformed(`a certificate has 3 parts, found ${parts.length}`, where);
  const [tbs, outerAlgorithm] = parts as [typeof outer, typeof outer];
  if (tbs.tag !== DerTag.Sequence) throw malformed('tbsCertificate is not a SEQUENCE', where);
  const fields = derChildren(tbs, where);
  const first = fields[0]?.tag === DerTag.ContextConstructed0 ? 1 : 0;
  if (fields.length < first + 6)
    throw malformed(`tbsCertificate has ${fields.length} fields, expected at least ${first + 6}`, where);
  const [serial, innerAlgorithm, issuerName, , subjectName, spki] = fields.slice(first) as Array<
    typeof outer
  >;
  if (!equalBytes(innerAlgorithm!.bytes, outerAlgorithm.bytes)) {
    throw malformed(
      'the signature algorithm inside the certificate differs from the one outside (RFC 5280 §4.1.1.2)',
      where,
    );
  }
  let asn: AsnCertificate;
  try {
    asn = AsnConvert.parse(der, AsnCertificate);
  } catch (cause) {
    throw malformed(`not an X.509 certificate: ${(cause as Error).message}`, where, cause);
  }
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: Buffer.from(spki!.bytes), format: 'der', type: 'spki' });
  } catch (cause) {
    throw malformed(`unsupported or malformed public key: ${(cause as Error).message}`, where, cause);
  }
  const body = asn.tbsCertificate;
  const extensions = readExtensions(body.extensions, where);
  const copy = new Uint8Array(der);
  return Object.freeze({
    ...extensions,
    der: copy,
    pem: encodePem('CERTIFICATE', copy),
    version: body.version + 1,
    serialNumber: Buffer.from(serial!.content).toString('hex'),
    subject: formatName(body.subject),
    subjectCommonName: commonNameOf(body.subject),
    subjectDer: new Uint8Array(subjectName!.bytes),
    issuer: formatName(body.issuer),
    issuerDer: new Uint8Array(issuerName!.bytes),
    notBefore: body.validity.notBefore.getTime(),
    notAfter: body.validity.notAfter.getTime(),
    publicKey,
    keyType: keyTypeOf(publicKey),
    signatureAlgorithm: signatureAlgorithmName(asn.signatureAlgorithm.algorithm),
    signatureAlgorithmOid: asn.signatureAlgorithm.algorithm,
    tbsDer: new Uint8Array(tbs.bytes),
    signature: new Uint8Array(asn.signatureValue),
  });
}

/** Parses exactly one certificate from PEM or DER. Use `parseCertificates` for bundles. */
export function parseCertificate(input: PemOrDer, options: ParseOptions = {}): Certificate {
  const where = options.where ?? 'certificate';
  const ders = derBlocks(input, ['CERTIFICATE'], where);
  if (ders.length !== 1) {
    throw malformed(`expected one certificate, found ${ders.length}`, where);
  }
  return decodeCertificate(ders[0]!, where);
}

/**
 * Parses every certificate in PEM bundles (blocks of other types are skipped, as Go and openssl do)
 * or DER inputs, in order. Throws when there is none.
 */
export function parseCertificates(
  input: PemOrDer | readonly PemOrDer[],
  options: ParseOptions = {},
): Certificate[] {
  const where = options.where ?? 'certificates';
  const inputs = Array.isArray(input) ? (input as readonly PemOrDer[]) : [input as PemOrDer];
  const certificates: Certificate[] = [];
  for (const [index, item] of inputs.entries()) {
    const itemWhere = inputs.length > 1 ? `${where}[${index}]` : where;
    const ders = derBlocks(item, ['CERTIFICATE'], itemWhere);
    for (const [n, der] of ders.entries()) {
      certificates.push(
        decodeCertificate(der, ders.length > 1 ? `${itemWhere}, certificate ${n + 1}` : itemWhere),
      );
    }
  }
  if (certificates.length === 0) throw malformed('no certificate found', where);
  return certificates;
}

/** PEM of several certificates, in order (a chain or a bundle). */
export function formatCertificates(certificates: readonly Certificate[]): string {
  return certificates.map((certificate) => certificate.pem).join('');
}

/** True when `at` is within [notBefore, notAfter]. */
export function isValidAt(
  certificate: Pick<Certificate, 'notBefore' | 'notAfter'>,
  at: Date = new Date(),
): boolean {
  return at.getTime() >= certificate.notBefore.getTime() && at.getTime() <= certificate.notAfter.getTime();
}

/** A random positive 128-bit serial number with a non-zero first byte (minimal DER, RFC 5280 §4.1.2.2). */
export function randomSerialNumber(): Uint8Array {
  const serial = new Uint8Array(randomBytes(16));
  serial[0] = serial[0]! & 0x7f || 0x01;
  return serial;
}

/** Everything that goes into a new certificate. */
export interface CertificateTemplate {
  serialNumber?: Uint8Array;
  /** The issuer's subject DER, copied byte for byte. */
  issuerDer: Uint8Array;
  subjectDer: Uint8Array;
  notBefore: Date;
  notAfter: Date;
  publicKey: KeyObject;
  extensions: readonly Extension[];
  signingKey: KeyObject;
}

/** Assembles a v3 TBSCertificate, signs it, and returns the parsed result. */
export function buildCertificate(template: CertificateTemplate): Certificate {
  const algorithm = new Uint8Array(AsnConvert.serialize(signingAlgorithm(template.signingKey)));
  const tbs = encodeDer(
    DerTag.Sequence,
    encodeDer(DerTag.ContextConstructed0, encodeDer(DerTag.Integer, new Uint8Array([2]))),
    encodeDer(DerTag.Integer, template.serialNumber ?? randomSerialNumber()),
    algorithm,
    template.issuerDer,
    AsnConvert.serialize(new Validity({ notBefore: template.notBefore, notAfter: template.notAfter })),
    template.subjectDer,
    template.publicKey.export({ type: 'spki', format: 'der' }),
    encodeDer(DerTag.ContextConstructed3, AsnConvert.serialize(new Extensions([...template.extensions]))),
  );
  const signature = signData(tbs, template.signingKey);
  return decodeCertificate(
    encodeDer(DerTag.Sequence, tbs, algorithm, encodeBitString(signature)),
    'new certificate',
  );
}
