// PKCS#10 certificate signing requests (RFC 2986). A proxy asks for its identity with a CSR whose
// single dNSName SAN is the identity name; the identity service refuses anything else with the
// rules of Linkerd's checkCSR (exactly one DNS SAN equal to the identity, CN empty or equal to it,
// no email/IP/URI SANs) plus two Linkerd leaves to later steps: the key must be ECDSA P-256 and
// the signature must verify (Go's ParseCertificateRequest checks neither).
import { createPublicKey, type KeyObject } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { CertificationRequest } from '@peculiar/asn1-csr';
import { Attribute, Extensions } from '@peculiar/asn1-x509';
import { MeshErrorCode } from '../errors/index.js';
import { DerTag, derChildren, encodeBitString, encodeDer, readDerSequence } from './der.js';
import { IdentityError, IdentityErrorReason } from './identity-error.js';
import { parseIdentityName, type IdentityName } from './identity-name.js';
import { derBlocks, encodePem, type PemOrDer } from './pem.js';
import { describeKey, keyTypeOf, toPrivateKey, type KeyType, type PrivateKeyInput } from './private-key.js';
import {
  signData,
  signatureAlgorithmName,
  signingAlgorithm,
  verifySignature,
} from './signature-algorithm.js';
import { readExtensions, subjectAltNameExtension } from './x509-extensions.js';
import { commonNameOf, encodeCommonNameSubject, formatName } from './x509-name.js';

const EXTENSION_REQUEST = '1.2.840.113549.1.9.14';

/** A parsed PKCS#10 request. Parsing checks structure only; `verifyCertificateRequest` applies the rules. */
export interface CertificateRequest {
  readonly der: Uint8Array;
  readonly pem: string;
  readonly subject: string;
  readonly subjectCommonName: string | undefined;
  readonly dnsNames: readonly string[];
  readonly uris: readonly string[];
  readonly ipAddresses: readonly string[];
  readonly emailAddresses: readonly string[];
  readonly otherNames: readonly string[];
  readonly publicKey: KeyObject;
  readonly keyType: KeyType;
  readonly signatureAlgorithm: string;
  readonly signatureAlgorithmOid: string;
  /** The signed CertificationRequestInfo bytes, exactly as received. */
  readonly infoDer: Uint8Array;
  readonly signature: Uint8Array;
}

export interface CreateCertificateRequestOptions {
  /** The identity name; it becomes the single DNS SAN. */
  identity: string;
  /** The key to certify (ECDSA P-256 for a mesh identity; see `generateKeyPair`). */
  privateKey: PrivateKeyInput;
  /** Put the identity in the subject CN too (default true); false leaves the subject empty, as linkerd2-proxy does. */
  commonName?: boolean;
}

function malformed(message: string, where: string, cause?: unknown): IdentityError {
  return new IdentityError(MeshErrorCode.Decode, message, {
    reason: IdentityErrorReason.Malformed,
    where,
    cause,
  });
}

/** Builds and signs a CSR for `identity`. */
export function createCertificateRequest(options: CreateCertificateRequestOptions): CertificateRequest {
  const identity = options.identity;
  parseIdentityName(identity, { where: 'createCertificateRequest identity' });
  const privateKey = toPrivateKey(options.privateKey, 'createCertificateRequest privateKey');
  const withCommonName = options.commonName ?? true;
  const publicKey = createPublicKey(privateKey);
  const extensions = new Extensions([subjectAltNameExtension({ dnsNames: [identity] }, !withCommonName)]);
  const attribute = new Attribute({ type: EXTENSION_REQUEST, values: [AsnConvert.serialize(extensions)] });
  const info = encodeDer(
    DerTag.Sequence,
    encodeDer(DerTag.Integer, new Uint8Array([0])),
    encodeCommonNameSubject(withCommonName ? identity : undefined),
    publicKey.export({ type: 'spki', format: 'der' }),
    encodeDer(DerTag.ContextConstructed0, AsnConvert.serialize(attribute)),
  );
  const algorithm = AsnConvert.serialize(signingAlgorithm(privateKey, 'createCertificateRequest privateKey'));
  const der = encodeDer(DerTag.Sequence, info, algorithm, encodeBitString(signData(info, privateKey)));
  return decodeCertificateRequest(der, 'new certificate request');
}

function decodeCertificateRequest(der: Uint8Array, where: string): CertificateRequest {
  const outer = readDerSequence(der, where);
  const parts = derChildren(outer, where);
  if (parts.length !== 3) throw malformed(`a certificate request has 3 parts, found ${parts.length}`, where);
  const info = parts[0]!;
  const fields = derChildren(info, where);
  if (fields.length < 3)
    throw malformed(`certificationRequestInfo has ${fields.length} fields, expected 4`, where);
  let asn: CertificationRequest;
  try {
    asn = AsnConvert.parse(der, CertificationRequest);
  } catch (cause) {
    throw malformed(`not a PKCS#10 certificate request: ${(cause as Error).message}`, where, cause);
  }
  const body = asn.certificationRequestInfo;
  if (body.version !== 0) throw malformed(`unsupported CSR version ${body.version + 1}; expected 1`, where);
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: Buffer.from(fields[2]!.bytes), format: 'der', type: 'spki' });
  } catch (cause) {
    throw malformed(`unsupported or malformed public key: ${(cause as Error).message}`, where, cause);
  }
  const requested = (body.attributes ?? []).filter((attribute) => attribute.type === EXTENSION_REQUEST);
  if (requested.length > 1) throw malformed('more than one extensionRequest attribute', where);
  let extensions: Extensions | undefined;
  try {
    const value = requested[0]?.values[0];
    extensions = value ? AsnConvert.parse(value, Extensions) : undefined;
  } catch (cause) {
    throw malformed(`extensionRequest does not decode: ${(cause as Error).message}`, where, cause);
  }
  const values = readExtensions(extensions, where);
  const copy = new Uint8Array(der);
  return Object.freeze({
    der: copy,
    pem: encodePem('CERTIFICATE REQUEST', copy),
    subject: formatName(body.subject),
    subjectCommonName: commonNameOf(body.subject),
    dnsNames: values.dnsNames,
    uris: values.uris,
    ipAddresses: values.ipAddresses,
    emailAddresses: values.emailAddresses,
    otherNames: values.otherNames,
    publicKey,
    keyType: keyTypeOf(publicKey),
    signatureAlgorithm: signatureAlgorithmName(asn.signatureAlgorithm.algorithm),
    signatureAlgorithmOid: asn.signatureAlgorithm.algorithm,
    infoDer: new Uint8Array(info.bytes),
    signature: new Uint8Array(asn.signature),
  });
}

/** Parses a CSR from PEM ("CERTIFICATE REQUEST" or the old "NEW CERTIFICATE REQUEST") or DER. Structure only. */
export function parseCertificateRequest(
  input: PemOrDer,
  options: { where?: string } = {},
): CertificateRequest {
  const where = options.where ?? 'certificate request';
  const ders = derBlocks(input, ['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST'], where);
  if (ders.length !== 1) throw malformed(`expected one certificate request, found ${ders.length}`, where);
  return decodeCertificateRequest(ders[0]!, where);
}

export interface VerifyCertificateRequestOptions {
  /** The identity the caller is entitled to (from its token); the CSR's DNS SAN must equal it. */
  identity?: string;
  /** Where the CSR came from, for messages (default `certificate request`). */
  where?: string;
}

/** A CSR that passed every rule, and the identity it asks for. */
export interface VerifiedCertificateRequest {
  readonly identity: string;
  readonly identityName: IdentityName;
  readonly request: CertificateRequest;
}

function refused(reason: IdentityErrorReason, message: string, where: string, hint?: string): IdentityError {
  return new IdentityError(MeshErrorCode.FailedPrecondition, message, { reason, where, hint });
}

/**
 * Parses (if needed) and checks a CSR: ECDSA P-256 key, valid signature, exactly one DNS SAN that is
 * a valid identity name (and equals `options.identity` when given), no other SANs, CN empty or the
 * identity. Throws IdentityErrors: `malformed` (code decode), otherwise code failed_precondition
 * with reason `key_type`, `bad_signature`, `unsupported_algorithm`, `san_count`, `unexpected_san`,
 * `invalid_name`, `san_mismatch` or `common_name`.
 */
export function verifyCertificateRequest(
  input: PemOrDer | CertificateRequest,
  options: VerifyCertificateRequestOptions = {},
): VerifiedCertificateRequest {
  const where = options.where ?? 'certificate request';
  const request =
    input instanceof Uint8Array || typeof input === 'string'
      ? parseCertificateRequest(input, { where })
      : input;
  if (request.keyType !== 'ecdsa-p256') {
    throw refused(
      IdentityErrorReason.KeyType,
      `the CSR's key is ${describeKey(request.publicKey)}; an ECDSA P-256 key is required`,
      where,
      'generate the key with `openssl ecparam -genkey -name prime256v1` or generateKeyPair()',
    );
  }
  let signatureOk: boolean;
  try {
    signatureOk = verifySignature(
      request.infoDer,
      request.signatureAlgorithmOid,
      request.signature,
      request.publicKey,
      where,
    );
  } catch (cause) {
    if (IdentityError.is(cause)) {
      throw new IdentityError(MeshErrorCode.FailedPrecondition, cause.message, {
        reason: cause.reason,
        where,
        cause,
      });
    }
    throw cause;
  }
  if (!signatureOk) {
    throw refused(
      IdentityErrorReason.BadSignature,
      `the CSR's ${request.signatureAlgorithm} signature does not verify with its own key`,
      where,
      'the CSR was altered or signed with another key',
    );
  }
  if (request.dnsNames.length !== 1) {
    throw refused(
      IdentityErrorReason.SanCount,
      `the CSR has ${request.dnsNames.length} DNS SANs (${request.dnsNames.join(', ') || 'none'}); exactly one is required`,
      where,
      'request one DNS SAN: the identity name',
    );
  }
  const others = [
    ...request.emailAddresses.map((value) => `email:${value}`),
    ...request.ipAddresses.map((value) => `IP:${value}`),
    ...request.uris.map((value) => `URI:${value}`),
    ...request.otherNames,
  ];
  if (others.length > 0) {
    throw refused(
      IdentityErrorReason.UnexpectedSan,
      `the CSR has SANs that cannot be validated: ${others.join(', ')}`,
      where,
      'request only the DNS SAN; the issuer adds the SPIFFE URI itself',
    );
  }
  const identity = request.dnsNames[0]!;
  let identityName: IdentityName;
  try {
    identityName = parseIdentityName(identity, { where: `${where} DNS SAN` });
  } catch (cause) {
    const error = cause as IdentityError;
    throw new IdentityError(MeshErrorCode.FailedPrecondition, error.message, {
      reason: error.reason,
      where: error.where,
      hint: error.hint,
      cause,
    });
  }
  if (options.identity !== undefined && identity !== options.identity) {
    throw refused(
      IdentityErrorReason.SanMismatch,
      `the CSR asks for ${identity} but the requester is ${options.identity}`,
      where,
    );
  }
  const commonName = request.subjectCommonName;
  if (commonName !== undefined && commonName !== '' && commonName !== identity) {
    throw refused(
      IdentityErrorReason.CommonName,
      `the CSR's subject CN is ${JSON.stringify(commonName)}; it must be empty or the identity ${identity}`,
      where,
    );
  }
  return Object.freeze({ identity, identityName, request });
}
