// The fast leaf encoder against the generic one (@peculiar/asn1-schema + decodeCertificate): for
// random identities, flags, dates and issuers, the signed bytes are identical, the returned object
// is what decoding the DER gives, and openssl reads the same certificate from both.
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, verify } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createIntermediateCertificate, createRootCertificate } from './certificate-authority.js';
import { decodeCertificate, type Certificate } from './certificate.js';
import {
  buildLeafCertificate,
  buildLeafCertificateGeneric,
  encodeUtcTime,
  type LeafContents,
} from './leaf-certificate.js';
import { derLength } from './der.js';
import { generateKeyPair } from './private-key.js';

const root = createRootCertificate({
  now: new Date('2000-01-01T00:00:00Z'),
  lifetimeMs: 80 * 365 * 86_400_000,
});
const issuers = {
  'ecdsa-p256 intermediate': createIntermediateCertificate({
    issuer: root,
    now: new Date('2000-01-01T00:00:00Z'),
    lifetimeMs: 79 * 365 * 86_400_000,
  }),
  'ecdsa-p384 root': createRootCertificate({
    privateKey: generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey,
    now: new Date('2000-01-01T00:00:00Z'),
    lifetimeMs: 80 * 365 * 86_400_000,
  }),
  'rsa-2048 root': createRootCertificate({
    privateKey: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey,
    now: new Date('2000-01-01T00:00:00Z'),
    lifetimeMs: 80 * 365 * 86_400_000,
  }),
};
const issuerNames = Object.keys(issuers) as Array<keyof typeof issuers>;
const leafKeys = [generateKeyPair().publicKey, generateKeyPair().publicKey];

const label = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,12}[a-z0-9])?$/);
const leafArbitrary = fc.record({
  issuer: fc.constantFrom(...issuerNames),
  identity: fc
    .tuple(label, label)
    .map(([sa, ns]) => `${sa}.${ns}.serviceaccount.identity.linkerd.cluster.local`),
  commonName: fc.boolean(),
  spiffe: fc.boolean(),
  key: fc.constantFrom(0, 1),
  // 1950–2049 and a little beyond, with milliseconds, so both UTCTime and the fallback are hit.
  notBeforeMs: fc.integer({ min: Date.UTC(1950, 0, 1), max: Date.UTC(2052, 0, 1) }),
  lifetimeMs: fc.integer({ min: 1, max: 3 * 365 * 86_400_000 }),
  serial: fc.uint8Array({ minLength: 1, maxLength: 20 }).map((bytes) => {
    bytes[0] = bytes[0]! & 0x7f || 0x01;
    return bytes;
  }),
});

type LeafInput = typeof leafArbitrary extends fc.Arbitrary<infer T> ? T : never;

function contents(input: LeafInput): LeafContents {
  const [sa, ns] = input.identity.split('.');
  return {
    identity: input.identity,
    publicKey: leafKeys[input.key]!,
    notBefore: new Date(input.notBeforeMs),
    notAfter: new Date(input.notBeforeMs + input.lifetimeMs),
    commonName: input.commonName,
    uris: input.spiffe ? [`spiffe://cluster.local/ns/${ns}/sa/${sa}`] : [],
    serialNumber: input.serial,
  };
}

function withoutKey(certificate: Certificate): Omit<Certificate, 'publicKey' | 'der' | 'pem' | 'signature'> {
  const { publicKey: _key, der: _der, pem: _pem, signature: _signature, ...rest } = certificate;
  return rest;
}

function opensslText(certificate: Certificate): string {
  const text = execFileSync('openssl', ['x509', '-noout', '-text', '-inform', 'DER'], {
    input: certificate.der,
  }).toString();
  // The signature (random for ECDSA) is the only thing that may differ.
  return text.slice(0, text.lastIndexOf('Signature Value:'));
}

describe('buildLeafCertificate', () => {
  it('signs the same TBSCertificate as the generic encoder and returns what decoding gives', () => {
    fc.assert(
      fc.property(leafArbitrary, (input) => {
        const issuer = issuers[input.issuer];
        const leaf = contents(input);
        const fast = buildLeafCertificate(issuer, leaf);
        const generic = buildLeafCertificateGeneric(issuer, leaf);
        expect(Buffer.from(fast.tbsDer).toString('hex')).toBe(Buffer.from(generic.tbsDer).toString('hex'));
        const decoded = decodeCertificate(fast.der, 'fast leaf');
        expect(withoutKey(fast)).toEqual(withoutKey(decoded));
        expect(withoutKey(fast)).toEqual(withoutKey(generic));
        expect(fast.der).toEqual(decoded.der);
        expect(fast.pem).toBe(decoded.pem);
        expect(fast.signature).toEqual(decoded.signature);
        expect(fast.publicKey.equals(decoded.publicKey)).toBe(true);
        expect(
          verify(
            input.issuer === 'ecdsa-p384 root' ? 'sha384' : 'sha256',
            fast.tbsDer,
            { key: issuer.certificate.publicKey, dsaEncoding: 'der' },
            fast.signature,
          ),
        ).toBe(true);
        expect(Object.isFrozen(fast)).toBe(true);
      }),
      { numRuns: 150 },
    );
  });

  it('reads the same in openssl as the generic encoder', () => {
    fc.assert(
      fc.property(leafArbitrary, (input) => {
        const issuer = issuers[input.issuer];
        const leaf = contents(input);
        expect(opensslText(buildLeafCertificate(issuer, leaf))).toBe(
          opensslText(buildLeafCertificateGeneric(issuer, leaf)),
        );
      }),
      { numRuns: 15 },
    );
  });

  it('shows openssl a Linkerd leaf', () => {
    const leaf = buildLeafCertificate(issuers['ecdsa-p256 intermediate'], {
      identity: 'web.emojivoto.serviceaccount.identity.linkerd.cluster.local',
      publicKey: leafKeys[0]!,
      notBefore: new Date('2026-11-23T16:00:00.500Z'),
      notAfter: new Date('2026-11-24T16:00:20.999Z'),
      commonName: false,
      uris: ['spiffe://cluster.local/ns/emojivoto/sa/web'],
    });
    const text = opensslText(leaf);
    expect(text).toContain('Not Before: Nov 23 16:00:00 2026 GMT');
    expect(text).toContain('Not After : Nov 24 16:00:20 2026 GMT');
    expect(text).toMatch(/Issuer: CN ?= ?identity\.linkerd\.cluster\.local/);
    expect(text).toMatch(
      /X509v3 Subject Alternative Name: critical\s+DNS:web\.emojivoto\.serviceaccount\.identity\.linkerd\.cluster\.local, URI:spiffe:\/\/cluster\.local\/ns\/emojivoto\/sa\/web/,
    );
    expect(text).toMatch(/X509v3 Key Usage: critical\s+Digital Signature/);
    expect(text).toMatch(
      /X509v3 Extended Key Usage:\s+TLS Web Server Authentication, TLS Web Client Authentication/,
    );
    expect(leaf.notBefore).toEqual(new Date('2026-11-23T16:00:00Z'));
  });
});

describe('DER pieces', () => {
  it('writes minimal definite lengths', () => {
    expect(derLength(0)).toEqual([0]);
    expect(derLength(127)).toEqual([127]);
    expect(derLength(128)).toEqual([0x81, 128]);
    expect(derLength(255)).toEqual([0x81, 255]);
    expect(derLength(256)).toEqual([0x82, 1, 0]);
    expect(derLength(70_000)).toEqual([0x83, 0x01, 0x11, 0x70]);
  });

  it('writes UTCTime in whole seconds', () => {
    expect(Buffer.from(encodeUtcTime(new Date('2049-12-31T23:59:59.999Z'))).toString('latin1')).toBe(
      '\x17\x0d491231235959Z',
    );
    expect(Buffer.from(encodeUtcTime(new Date('1950-01-02T03:04:05Z'))).toString('latin1')).toBe(
      '\x17\x0d500102030405Z',
    );
  });
});
