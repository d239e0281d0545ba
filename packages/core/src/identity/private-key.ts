// Keys: ECDSA P-256 generation (what Linkerd proxies use), and loading private keys in the forms
// real tools write: PKCS#8 "PRIVATE KEY", SEC1 "EC PRIVATE KEY" (step and `openssl ecparam
// -genkey` write this, with an "EC PARAMETERS" block first) and PKCS#1 "RSA PRIVATE KEY".
import { createPrivateKey, generateKeyPairSync, KeyObject } from 'node:crypto';
import { MeshErrorCode } from '../errors/index.js';
import { IdentityError, IdentityErrorReason } from './identity-error.js';
import { decodePem, encodePem, isPem, pemText, type PemOrDer } from './pem.js';

/** The key algorithms this library tells apart. Only `ecdsa-p256` is accepted for proxy identities. */
export type KeyType = 'ecdsa-p256' | 'ecdsa-p384' | 'ecdsa-p521' | 'rsa' | 'ed25519' | 'other';

/** A private key and its public half. */
export interface KeyPair {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

/** A private key as a KeyObject or as PEM/DER (PKCS#8, SEC1 or PKCS#1). */
export type PrivateKeyInput = KeyObject | PemOrDer;

const CURVES: Record<string, KeyType> = {
  prime256v1: 'ecdsa-p256',
  secp384r1: 'ecdsa-p384',
  secp521r1: 'ecdsa-p521',
};

/** The algorithm of a public or private key. */
export function keyTypeOf(key: KeyObject): KeyType {
  switch (key.asymmetricKeyType) {
    case 'ec':
      return CURVES[key.asymmetricKeyDetails?.namedCurve ?? ''] ?? 'other';
    case 'rsa':
      return 'rsa';
    case 'ed25519':
      return 'ed25519';
    default:
      return 'other';
  }
}

/** A human description of a key for messages: "ECDSA P-256", "RSA 2048-bit", "EC secp256k1". */
export function describeKey(key: KeyObject): string {
  const details = key.asymmetricKeyDetails ?? {};
  switch (keyTypeOf(key)) {
    case 'ecdsa-p256':
      return 'ECDSA P-256';
    case 'ecdsa-p384':
      return 'ECDSA P-384';
    case 'ecdsa-p521':
      return 'ECDSA P-521';
    case 'rsa':
      return `RSA ${details.modulusLength ?? '?'}-bit`;
    case 'ed25519':
      return 'Ed25519';
    default:
      return key.asymmetricKeyType === 'ec'
        ? `EC ${details.namedCurve ?? 'explicit-parameters'}`
        : (key.asymmetricKeyType ?? key.type);
  }
}

/** Generates an ECDSA P-256 key pair, the key type of Linkerd proxies and issuers. */
export function generateKeyPair(): KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { privateKey, publicKey };
}

const KEY_BLOCKS: Record<string, 'pkcs8' | 'sec1' | 'pkcs1'> = {
  'PRIVATE KEY': 'pkcs8',
  'EC PRIVATE KEY': 'sec1',
  'RSA PRIVATE KEY': 'pkcs1',
};

function malformed(message: string, where: string, cause?: unknown, hint?: string): IdentityError {
  return new IdentityError(MeshErrorCode.Decode, message, {
    reason: IdentityErrorReason.Malformed,
    where,
    cause,
    hint,
  });
}

function encrypted(where: string): IdentityError {
  return new IdentityError(MeshErrorCode.InvalidArgument, 'the private key is encrypted', {
    reason: IdentityErrorReason.EncryptedKey,
    where,
    hint: 'store it unencrypted (e.g. `openssl pkey -in key.pem -out plain.pem`, or `step crypto change-pass --no-password --insecure`)',
  });
}

function fromDer(der: Uint8Array, type: 'pkcs8' | 'sec1' | 'pkcs1', where: string): KeyObject {
  try {
    return createPrivateKey({ key: Buffer.from(der), format: 'der', type });
  } catch (cause) {
    throw malformed(
      `not a valid ${type.toUpperCase()} private key: ${(cause as Error).message}`,
      where,
      cause,
    );
  }
}

/**
 * Loads a private key from PEM (one key block; "EC PARAMETERS" and other blocks are skipped) or DER
 * (PKCS#8, SEC1 or PKCS#1 tried in turn). Throws `malformed` or `encrypted_key` IdentityErrors.
 */
export function parsePrivateKey(input: PemOrDer, options: { where?: string } = {}): KeyObject {
  const where = options.where ?? 'private key';
  if (!isPem(input)) {
    const der = input as Uint8Array;
    for (const type of ['pkcs8', 'sec1', 'pkcs1'] as const) {
      try {
        return createPrivateKey({ key: Buffer.from(der), format: 'der', type });
      } catch {
        // try the next encoding
      }
    }
    throw malformed('DER bytes are not a PKCS#8, SEC1 or PKCS#1 private key', where);
  }
  const blocks = decodePem(pemText(input), { where });
  if (blocks.some((block) => block.type === 'ENCRYPTED PRIVATE KEY')) throw encrypted(where);
  const keys = blocks.filter((block) => block.type in KEY_BLOCKS);
  if (keys.length === 0) {
    throw malformed(
      'no private key PEM block found',
      where,
      undefined,
      'expected "-----BEGIN PRIVATE KEY-----", "-----BEGIN EC PRIVATE KEY-----" or "-----BEGIN RSA PRIVATE KEY-----"',
    );
  }
  if (keys.length > 1) throw malformed(`${keys.length} private key blocks found; expected one`, where);
  const block = keys[0]!;
  if ('Proc-Type' in block.headers || 'DEK-Info' in block.headers) throw encrypted(where);
  return fromDer(block.der, KEY_BLOCKS[block.type]!, where);
}

/** A KeyObject from any `PrivateKeyInput`. */
export function toPrivateKey(input: PrivateKeyInput, where = 'private key'): KeyObject {
  if (input instanceof KeyObject) {
    if (input.type !== 'private') {
      throw new IdentityError(
        MeshErrorCode.InvalidArgument,
        `expected a private key, got a ${input.type} key`,
        {
          reason: IdentityErrorReason.KeyType,
          where,
        },
      );
    }
    return input;
  }
  return parsePrivateKey(input, { where });
}

/** PEM for a private key: PKCS#8 (default) or SEC1 "EC PRIVATE KEY" (EC keys only, as step and openssl write). */
export function formatPrivateKey(key: KeyObject, format: 'pkcs8' | 'sec1' = 'pkcs8'): string {
  if (format === 'sec1') {
    if (key.asymmetricKeyType !== 'ec') {
      throw new IdentityError(
        MeshErrorCode.InvalidArgument,
        `SEC1 encoding needs an EC key, got ${describeKey(key)}`,
        {
          reason: IdentityErrorReason.KeyType,
          where: 'formatPrivateKey',
        },
      );
    }
    return encodePem('EC PRIVATE KEY', key.export({ format: 'der', type: 'sec1' }));
  }
  return encodePem('PRIVATE KEY', key.export({ format: 'der', type: 'pkcs8' }));
}
