import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { MeshErrorCode } from '../errors/index.js';
import {
  decodePem,
  describeKey,
  encodePem,
  formatPrivateKey,
  generateKeyPair,
  IdentityError,
  isPem,
  keyTypeOf,
  parsePrivateKey,
} from './index.js';
import { OpensslDir } from './openssl.test-support.js';

const openssl = new OpensslDir();
afterAll(() => openssl.remove());

function errorOf(fn: () => unknown): IdentityError {
  try {
    fn();
  } catch (error) {
    if (error instanceof IdentityError) return error;
    throw error;
  }
  throw new Error('expected an IdentityError');
}

function sameKey(
  a: Parameters<typeof createPublicKey>[0],
  b: Parameters<typeof createPublicKey>[0],
): boolean {
  const spki = (key: Parameters<typeof createPublicKey>[0]) =>
    createPublicKey(key).export({ type: 'spki', format: 'der' });
  return Buffer.compare(spki(a), spki(b)) === 0;
}

describe('PEM', () => {
  it('decodes bundles, skipping text between blocks, and encodes 64-column blocks', () => {
    const der = new Uint8Array(100).map((_, i) => i);
    const block = encodePem('CERTIFICATE', der);
    expect(block.split('\n')[1]).toHaveLength(64);
    const text = `subject=CN = x\n${block}garbage\r\n${encodePem('EC PARAMETERS', new Uint8Array([6, 1, 0]))}`;
    const blocks = decodePem(text);
    expect(blocks.map((b) => b.type)).toEqual(['CERTIFICATE', 'EC PARAMETERS']);
    expect(blocks[0]!.der).toEqual(der);
    expect(decodePem(block.replace(/\n/g, '\r\n'))[0]!.der).toEqual(der);
    expect(decodePem('no pem here')).toEqual([]);
  });

  it('reports truncation and corruption with the block that is broken', () => {
    const block = encodePem('CERTIFICATE', new Uint8Array(60).fill(7));
    const truncated = errorOf(() => decodePem(block.slice(0, 60), { where: 'ca-bundle.crt' }));
    expect(truncated.code).toBe(MeshErrorCode.Decode);
    expect(truncated.reason).toBe('malformed');
    expect(truncated.where).toBe('ca-bundle.crt, block 1 (CERTIFICATE)');
    expect(truncated.message).toContain('has no matching "-----END CERTIFICATE-----"');
    const corrupted = errorOf(() => decodePem(block.replace('BwcH', 'B*cH')));
    expect(corrupted.message).toContain('invalid base64 character "*"');
  });

  it('tells PEM from DER', () => {
    expect(isPem('-----BEGIN')).toBe(true);
    expect(isPem(new TextEncoder().encode('\n-----BEGIN'))).toBe(true);
    expect(isPem(new Uint8Array([0x30, 0x03]))).toBe(false);
  });
});

describe('keys', () => {
  it('generates ECDSA P-256 keys', () => {
    const { privateKey, publicKey } = generateKeyPair();
    expect(keyTypeOf(privateKey)).toBe('ecdsa-p256');
    expect(keyTypeOf(publicKey)).toBe('ecdsa-p256');
    expect(describeKey(publicKey)).toBe('ECDSA P-256');
  });

  it('writes and reads PKCS#8 and SEC1, as PEM and DER', () => {
    const { privateKey } = generateKeyPair();
    const pkcs8 = formatPrivateKey(privateKey);
    const sec1 = formatPrivateKey(privateKey, 'sec1');
    expect(pkcs8).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(sec1).toMatch(/^-----BEGIN EC PRIVATE KEY-----\n/);
    for (const input of [pkcs8, sec1, decodePem(pkcs8)[0]!.der, decodePem(sec1)[0]!.der]) {
      expect(sameKey(parsePrivateKey(input), privateKey)).toBe(true);
    }
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
    expect(errorOf(() => formatPrivateKey(rsa, 'sec1')).reason).toBe('key_type');
  });

  it('loads keys exactly as openssl writes them', () => {
    // `openssl ecparam -genkey` writes an EC PARAMETERS block, then SEC1.
    const ec = openssl.ecKey('ec.key');
    expect(ec).toContain('-----BEGIN EC PARAMETERS-----');
    expect(ec).toContain('-----BEGIN EC PRIVATE KEY-----');
    const key = parsePrivateKey(ec);
    expect(keyTypeOf(key)).toBe('ecdsa-p256');
    expect(sameKey(key, openssl.run(['ec', '-in', 'ec.key', '-pubout']))).toBe(true);

    openssl.run(['pkcs8', '-topk8', '-nocrypt', '-in', 'ec.key', '-out', 'ec-pkcs8.key']);
    expect(sameKey(parsePrivateKey(openssl.read('ec-pkcs8.key')), key)).toBe(true);
    openssl.run(['ec', '-in', 'ec.key', '-outform', 'DER', '-out', 'ec.der']);
    expect(sameKey(parsePrivateKey(openssl.readBytes('ec.der')), key)).toBe(true);

    const rsaPkcs8 = parsePrivateKey(openssl.rsaKey('rsa.key'));
    expect(describeKey(rsaPkcs8)).toBe('RSA 2048-bit');
    const rsaPkcs1 = openssl.rsaKey('rsa1.key', true);
    expect(rsaPkcs1).toContain('-----BEGIN RSA PRIVATE KEY-----');
    expect(keyTypeOf(parsePrivateKey(rsaPkcs1))).toBe('rsa');

    expect(keyTypeOf(parsePrivateKey(openssl.ecKey('p384.key', 'secp384r1')))).toBe('ecdsa-p384');
  });

  it('refuses encrypted keys and junk with a clear reason', () => {
    openssl.ecKey('plain.key');
    openssl.run(['pkcs8', '-topk8', '-in', 'plain.key', '-passout', 'pass:secret', '-out', 'enc.key']);
    const encrypted = errorOf(() => parsePrivateKey(openssl.read('enc.key'), { where: 'key.pem' }));
    expect(encrypted.reason).toBe('encrypted_key');
    expect(encrypted.where).toBe('key.pem');
    openssl.run(['ec', '-in', 'plain.key', '-aes256', '-passout', 'pass:secret', '-out', 'enc-legacy.key']);
    expect(errorOf(() => parsePrivateKey(openssl.read('enc-legacy.key'))).reason).toBe('encrypted_key');

    expect(errorOf(() => parsePrivateKey(encodePem('CERTIFICATE', new Uint8Array([1])))).message).toContain(
      'no private key PEM block found',
    );
    expect(
      errorOf(() => parsePrivateKey(encodePem('EC PRIVATE KEY', new Uint8Array([0x30, 0])))).reason,
    ).toBe('malformed');
    expect(errorOf(() => parsePrivateKey(new Uint8Array([0x30, 0x01, 0x00]))).reason).toBe('malformed');
    const two =
      formatPrivateKey(generateKeyPair().privateKey) + formatPrivateKey(generateKeyPair().privateKey);
    expect(errorOf(() => parsePrivateKey(two)).message).toContain('2 private key blocks');
  });
});
