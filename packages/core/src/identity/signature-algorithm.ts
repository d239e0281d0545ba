// X.509 signature algorithms, mapped onto node:crypto sign/verify. Signing picks the algorithm
// from the key (P-256 → ecdsa-with-SHA256, as Go and Linkerd do; RSA → sha256WithRSAEncryption).
// Verification covers what real trust anchors use; SHA-1 and RSA-PSS are refused by name.
import { sign, verify, type KeyObject } from 'node:crypto';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { MeshErrorCode } from '../errors/index.js';
import { IdentityError, IdentityErrorReason } from './identity-error.js';
import { describeKey, keyTypeOf } from './private-key.js';

interface AlgorithmInfo {
  readonly name: string;
  /** node:crypto digest name; null for Ed25519. */
  readonly hash: string | null;
  readonly keyType: 'ec' | 'rsa' | 'ed25519';
  /** RSA PKCS#1 v1.5 AlgorithmIdentifiers carry an explicit NULL; ECDSA and EdDSA carry none. */
  readonly nullParameters: boolean;
}

const SUPPORTED: Record<string, AlgorithmInfo> = {
  '1.2.840.10045.4.3.2': { name: 'ecdsa-with-SHA256', hash: 'sha256', keyType: 'ec', nullParameters: false },
  '1.2.840.10045.4.3.3': { name: 'ecdsa-with-SHA384', hash: 'sha384', keyType: 'ec', nullParameters: false },
  '1.2.840.10045.4.3.4': { name: 'ecdsa-with-SHA512', hash: 'sha512', keyType: 'ec', nullParameters: false },
  '1.2.840.113549.1.1.11': {
    name: 'sha256WithRSAEncryption',
    hash: 'sha256',
    keyType: 'rsa',
    nullParameters: true,
  },
  '1.2.840.113549.1.1.12': {
    name: 'sha384WithRSAEncryption',
    hash: 'sha384',
    keyType: 'rsa',
    nullParameters: true,
  },
  '1.2.840.113549.1.1.13': {
    name: 'sha512WithRSAEncryption',
    hash: 'sha512',
    keyType: 'rsa',
    nullParameters: true,
  },
  '1.3.101.112': { name: 'Ed25519', hash: null, keyType: 'ed25519', nullParameters: false },
};

const REFUSED: Record<string, string> = {
  '1.2.840.113549.1.1.5': 'sha1WithRSAEncryption',
  '1.2.840.113549.1.1.4': 'md5WithRSAEncryption',
  '1.2.840.10045.4.1': 'ecdsa-with-SHA1',
  '1.2.840.113549.1.1.10': 'RSASSA-PSS',
};

const SIGNING_OID: Record<string, string> = {
  'ecdsa-p256': '1.2.840.10045.4.3.2',
  'ecdsa-p384': '1.2.840.10045.4.3.3',
  'ecdsa-p521': '1.2.840.10045.4.3.4',
  rsa: '1.2.840.113549.1.1.11',
  ed25519: '1.3.101.112',
};

const DER_NULL = new Uint8Array([0x05, 0x00]).buffer;

/** The readable name of a signature algorithm OID (the OID itself when unknown). */
export function signatureAlgorithmName(oid: string): string {
  return SUPPORTED[oid]?.name ?? REFUSED[oid] ?? oid;
}

function unsupported(message: string, where: string): IdentityError {
  return new IdentityError(MeshErrorCode.InvalidArgument, message, {
    reason: IdentityErrorReason.UnsupportedAlgorithm,
    where,
    hint: 'use ECDSA (P-256/P-384) or RSA with SHA-256 or better',
  });
}

/** The AlgorithmIdentifier a signature by `privateKey` will carry. */
export function signingAlgorithm(privateKey: KeyObject, where = 'signing key'): AlgorithmIdentifier {
  const oid = SIGNING_OID[keyTypeOf(privateKey)];
  if (!oid) throw unsupported(`cannot sign with a ${describeKey(privateKey)} key`, where);
  const info = SUPPORTED[oid] as AlgorithmInfo;
  return new AlgorithmIdentifier(
    info.nullParameters ? { algorithm: oid, parameters: DER_NULL } : { algorithm: oid },
  );
}

/** The node:crypto digest for a signature algorithm OID `signingAlgorithm` returned (null for Ed25519). */
export function signingHashOf(algorithmOid: string): string | null {
  const info = SUPPORTED[algorithmOid];
  if (!info) throw unsupported(`unknown signature algorithm ${algorithmOid}`, 'signing key');
  return info.hash;
}

/** Signs `data` with `privateKey` using the algorithm `signingAlgorithm` names. */
export function signData(data: Uint8Array, privateKey: KeyObject): Uint8Array {
  const info = SUPPORTED[signingAlgorithm(privateKey).algorithm] as AlgorithmInfo;
  return new Uint8Array(sign(info.hash, data, { key: privateKey, dsaEncoding: 'der' }));
}

/**
 * True when `signature` over `data` verifies under `publicKey` with `algorithmOid`. Throws an
 * `unsupported_algorithm` IdentityError for algorithms it refuses or does not know.
 */
export function verifySignature(
  data: Uint8Array,
  algorithmOid: string,
  signature: Uint8Array,
  publicKey: KeyObject,
  where: string,
): boolean {
  const info = SUPPORTED[algorithmOid];
  if (!info) {
    const refused = REFUSED[algorithmOid];
    throw unsupported(
      refused
        ? `signature algorithm ${refused} is not accepted`
        : `unknown signature algorithm ${algorithmOid}`,
      where,
    );
  }
  if (publicKey.asymmetricKeyType !== info.keyType) return false;
  try {
    return verify(info.hash, data, { key: publicKey, dsaEncoding: 'der' }, signature);
  } catch {
    return false;
  }
}
