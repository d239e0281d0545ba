import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { MeshErrorCode } from '../errors/index.js';
import {
  createCertificateRequest,
  createIntermediateCertificate,
  createIssuer,
  createRootCertificate,
  DEFAULT_CLOCK_SKEW_MS,
  DEFAULT_LEAF_LIFETIME_MS,
  formatIdentityName,
  formatPrivateKey,
  generateKeyPair,
  IdentityError,
  issueLeafCertificate,
  issueServingCertificate,
  parseCertificate,
  parseCertificates,
  parseTrustBundle,
} from './index.js';
import { OpensslDir } from './openssl.test-support.js';

const ID = 'web.emojivoto.serviceaccount.identity.linkerd.cluster.local';
const SPIFFE = 'spiffe://cluster.local/ns/emojivoto/sa/web';
const HOUR = 3_600_000;
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

function x509Text(name: string, pem: string): string {
  openssl.write(name, pem);
  return openssl.run(['x509', '-text', '-noout', '-in', name]);
}

function opensslDate(name: string, which: 'startdate' | 'enddate'): Date {
  const line = openssl.run(['x509', '-noout', `-${which}`, '-in', name]).trim();
  return new Date(line.slice(line.indexOf('=') + 1));
}

describe('roots and issuers', () => {
  it('makes a step-style root: CA:TRUE pathlen:1, keyCertSign+cRLSign, ECDSA P-256, 10 years', () => {
    const now = new Date('2026-01-01T00:00:00Z');
    const root = createRootCertificate({ now });
    const text = x509Text('root.pem', root.certificate.pem);
    expect(text).toContain('Subject: CN = root.linkerd.cluster.local');
    expect(text).toContain('Issuer: CN = root.linkerd.cluster.local');
    expect(text).toMatch(/X509v3 Basic Constraints: critical\s+CA:TRUE, pathlen:1/);
    expect(text).toMatch(/X509v3 Key Usage: critical\s+Certificate Sign, CRL Sign/);
    expect(text).toContain('X509v3 Subject Key Identifier');
    expect(text).toContain('NIST CURVE: P-256');
    expect(text).toContain('Signature Algorithm: ecdsa-with-SHA256');
    expect(opensslDate('root.pem', 'startdate')).toEqual(new Date(now.getTime() - DEFAULT_CLOCK_SKEW_MS));
    expect(opensslDate('root.pem', 'enddate')).toEqual(new Date(now.getTime() + 87_600 * HOUR));
    expect(root.certificate.keyUsage).toEqual(['keyCertSign', 'cRLSign']);
    expect(root.certificate.pathLength).toBe(1);
    expect(createRootCertificate({ pathLength: null }).certificate.pathLength).toBeUndefined();
  });

  it('makes a step-style intermediate: CA:TRUE pathlen:0, AKI = root SKI, 1 year', () => {
    const root = createRootCertificate();
    const issuer = createIntermediateCertificate({ issuer: root });
    const text = x509Text('issuer.pem', issuer.certificate.pem);
    expect(text).toContain('Subject: CN = identity.linkerd.cluster.local');
    expect(text).toContain('Issuer: CN = root.linkerd.cluster.local');
    expect(text).toMatch(/X509v3 Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
    expect(text).toMatch(/X509v3 Key Usage: critical\s+Certificate Sign, CRL Sign/);
    expect(issuer.certificate.authorityKeyId).toBe(root.certificate.subjectKeyId);
    expect(issuer.certificate.issuerDer).toEqual(root.certificate.subjectDer);
    expect(issuer.certificate.notAfter.getTime() - issuer.certificate.notBefore.getTime()).toBe(
      8_760 * HOUR + DEFAULT_CLOCK_SKEW_MS,
    );
    openssl.write('root.pem', root.certificate.pem);
    expect(openssl.verify('root.pem', 'issuer.pem').stdout).toContain('issuer.pem: OK');
    expect(issuer.chain).toEqual([root.certificate]);
  });

  it('accepts RSA anchors and signs with them (sha256WithRSAEncryption)', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const root = createRootCertificate({ privateKey: formatPrivateKey(rsa) });
    expect(root.certificate.keyType).toBe('rsa');
    expect(root.certificate.signatureAlgorithm).toBe('sha256WithRSAEncryption');
    const issuer = createIntermediateCertificate({ issuer: root });
    expect(issuer.certificate.signatureAlgorithm).toBe('sha256WithRSAEncryption');
    expect(issuer.certificate.keyType).toBe('ecdsa-p256');
    const leaf = issueLeafCertificate({ issuer, publicKey: generateKeyPair().publicKey, identity: ID });
    openssl.write('rsa-root.pem', root.certificate.pem);
    openssl.write('rsa-issuer.pem', issuer.certificate.pem);
    openssl.write('rsa-leaf.pem', leaf.certificate.pem);
    expect(openssl.verify('rsa-root.pem', 'rsa-leaf.pem', 'rsa-issuer.pem').stdout).toContain(
      'rsa-leaf.pem: OK',
    );
    expect(parseTrustBundle(root.certificate.pem).verify(leaf.certificate, leaf.intermediates).identity).toBe(
      ID,
    );
  });

  it('loads an issuer from crt.pem + key.pem, and refuses a wrong key or a non-CA', () => {
    const root = createRootCertificate();
    const issuer = createIntermediateCertificate({ issuer: root });
    const loaded = createIssuer({
      certificate: issuer.certificate.pem + root.certificate.pem,
      privateKey: formatPrivateKey(issuer.privateKey, 'sec1'),
    });
    expect(loaded.certificate.der).toEqual(issuer.certificate.der);
    expect(loaded.chain.map((c) => c.subject)).toEqual(['CN=root.linkerd.cluster.local']);

    const mismatch = errorOf(() =>
      createIssuer({
        certificate: issuer.certificate,
        privateKey: generateKeyPair().privateKey,
        where: 'linkerd-identity-issuer',
      }),
    );
    expect(mismatch.reason).toBe('key_mismatch');
    expect(mismatch.where).toBe('linkerd-identity-issuer');

    const leafKey = generateKeyPair();
    const leaf = issueLeafCertificate({ issuer, publicKey: leafKey.publicKey, identity: ID });
    expect(
      errorOf(() => createIssuer({ certificate: leaf.certificate, privateKey: leafKey.privateKey })).reason,
    ).toBe('not_a_ca');
  });

  it('respects pathlen when making intermediates', () => {
    const root = createRootCertificate();
    const issuer = createIntermediateCertificate({ issuer: root });
    const error = errorOf(() => createIntermediateCertificate({ issuer }));
    expect(error.reason).toBe('path_length');
    expect(error.hint).toContain('can only sign leaf certificates');
    expect(errorOf(() => createIntermediateCertificate({ issuer: root, pathLength: 1 })).reason).toBe(
      'path_length',
    );
  });
});

describe('leaf certificates', () => {
  const root = createRootCertificate();
  const issuer = createIntermediateCertificate({ issuer: root });

  it('carries the identity as DNS SAN and SPIFFE URI SAN, serverAuth+clientAuth, digitalSignature, 24 h from now-20 s', () => {
    const now = new Date(Math.floor(Date.now() / 1000) * 1000);
    const csr = createCertificateRequest({ identity: ID, privateKey: generateKeyPair().privateKey });
    const issued = issueLeafCertificate({ issuer, csr: csr.pem, now });
    const text = x509Text('leaf.pem', issued.certificate.pem);
    expect(text).toContain(`Subject: CN = ${ID}`);
    expect(text).toMatch(
      new RegExp(`X509v3 Subject Alternative Name: \\n\\s+DNS:${ID.replace(/\./g, '\\.')}, URI:${SPIFFE}\\n`),
    );
    expect(text).toMatch(/X509v3 Key Usage: critical\s+Digital Signature\n/);
    expect(text).toMatch(
      /X509v3 Extended Key Usage: \n\s+TLS Web Server Authentication, TLS Web Client Authentication\n/,
    );
    expect(text).not.toContain('CA:TRUE');
    expect(opensslDate('leaf.pem', 'startdate')).toEqual(new Date(now.getTime() - 20_000));
    expect(opensslDate('leaf.pem', 'enddate')).toEqual(new Date(now.getTime() + 24 * HOUR));
    expect(issued.validUntil).toEqual(issued.certificate.notAfter);
    expect(issued.intermediates).toEqual([issuer.certificate]);
    expect(issued.certificate.publicKey.export({ type: 'spki', format: 'der' })).toEqual(
      csr.publicKey.export({ type: 'spki', format: 'der' }),
    );

    openssl.write('root.pem', root.certificate.pem);
    openssl.write('issuer.pem', issuer.certificate.pem);
    for (const purpose of [[], ['-purpose', 'sslserver'], ['-purpose', 'sslclient']]) {
      const result = openssl.verify('root.pem', 'leaf.pem', 'issuer.pem', purpose);
      expect(result.stdout, `${purpose.join(' ')} ${result.stderr}`).toContain('leaf.pem: OK');
    }
  });

  it('can leave the subject empty (SAN then critical) and omit the SPIFFE URI', () => {
    const issued = issueLeafCertificate({
      issuer,
      publicKey: generateKeyPair().publicKey,
      identity: ID,
      commonName: false,
      spiffeUri: false,
    });
    const text = x509Text('empty-subject.pem', issued.certificate.pem);
    expect(text).toMatch(/Subject: *\n/);
    expect(text).toMatch(/X509v3 Subject Alternative Name: critical\s+DNS:[^,\n]+\n/);
    expect(issued.certificate.uris).toEqual([]);
    openssl.write('root.pem', root.certificate.pem);
    openssl.write('issuer.pem', issuer.certificate.pem);
    expect(openssl.verify('root.pem', 'empty-subject.pem', 'issuer.pem').stdout).toContain('OK');
  });

  it('never outlives the issuer chain: notAfter is clamped to its earliest expiry', () => {
    const now = new Date();
    const shortRoot = createRootCertificate({ now, lifetimeMs: 30 * HOUR });
    const longIssuer = createIntermediateCertificate({ issuer: shortRoot, now, lifetimeMs: 8_760 * HOUR });
    expect(longIssuer.certificate.notAfter).toEqual(shortRoot.certificate.notAfter);
    const shortIssuer = createIntermediateCertificate({ issuer: root, now, lifetimeMs: 10 * HOUR });
    const leaf = issueLeafCertificate({
      issuer: shortIssuer,
      publicKey: generateKeyPair().publicKey,
      identity: ID,
      now,
    });
    expect(leaf.certificate.notAfter).toEqual(shortIssuer.certificate.notAfter);

    // A loaded issuer whose crt.pem also holds a root expiring sooner: the root's expiry bounds the leaf,
    // and the root is not sent as an intermediate.
    const nearRoot = createRootCertificate({ now, lifetimeMs: 2 * HOUR });
    const intermediate = createIntermediateCertificate({ issuer: nearRoot, now });
    const loaded = createIssuer({
      certificate: intermediate.certificate.pem + nearRoot.certificate.pem,
      privateKey: formatPrivateKey(intermediate.privateKey),
    });
    const bounded = issueLeafCertificate({
      issuer: loaded,
      publicKey: generateKeyPair().publicKey,
      identity: ID,
      now,
    });
    expect(bounded.certificate.notAfter).toEqual(nearRoot.certificate.notAfter);
    expect(bounded.intermediates).toEqual([intermediate.certificate]);
    expect(
      issueLeafCertificate({
        issuer,
        publicKey: generateKeyPair().publicKey,
        identity: ID,
        now,
        lifetimeMs: HOUR,
      }).certificate.notAfter,
    ).toEqual(new Date(Math.floor((now.getTime() + HOUR) / 1000) * 1000));
    expect(DEFAULT_LEAF_LIFETIME_MS).toBe(24 * HOUR);
  });

  it('uses random positive 128-bit serial numbers', () => {
    const serials = new Set<string>();
    const { publicKey } = generateKeyPair();
    for (let i = 0; i < 20; i++) {
      const serial = issueLeafCertificate({ issuer, publicKey, identity: ID }).certificate.serialNumber;
      expect(serial).toMatch(/^[0-7][0-9a-f]{31}$/);
      expect(serial.startsWith('00')).toBe(false);
      serials.add(serial);
    }
    expect(serials.size).toBe(20);
  });

  it('refuses to issue from an issuer outside its validity, for a bad CSR, or for a non-P-256 key', () => {
    const past = new Date(Date.now() - 400 * 24 * HOUR);
    const expired = createIntermediateCertificate({
      issuer: createRootCertificate({ now: past }),
      now: past,
      lifetimeMs: HOUR,
    });
    const error = errorOf(() =>
      issueLeafCertificate({ issuer: expired, publicKey: generateKeyPair().publicKey, identity: ID }),
    );
    expect(error.reason).toBe('expired');
    expect(error.code).toBe(MeshErrorCode.CertificateInvalid);
    expect(error.message).toContain('the issuer CN=identity.linkerd.cluster.local expired at');

    const early = errorOf(() =>
      issueLeafCertificate({
        issuer,
        publicKey: generateKeyPair().publicKey,
        identity: ID,
        now: new Date(Date.now() - 48 * HOUR),
      }),
    );
    expect(early.reason).toBe('not_yet_valid');

    const csr = createCertificateRequest({ identity: ID, privateKey: generateKeyPair().privateKey });
    expect(
      errorOf(() => issueLeafCertificate({ issuer, csr: csr.der, identity: ID.replace('web', 'vote') }))
        .reason,
    ).toBe('san_mismatch');

    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey;
    expect(errorOf(() => issueLeafCertificate({ issuer, publicKey: rsa, identity: ID })).reason).toBe(
      'key_type',
    );
    expect(
      errorOf(() =>
        issueLeafCertificate({ issuer, publicKey: generateKeyPair().publicKey, identity: 'nope' }),
      ).reason,
    ).toBe('invalid_name');
    expect(errorOf(() => issueLeafCertificate({ issuer, identity: ID })).reason).toBe('invalid_options');
    expect(
      errorOf(() =>
        issueLeafCertificate({
          issuer,
          publicKey: generateKeyPair().publicKey,
          identity: ID,
          lifetimeMs: -1,
        }),
      ).reason,
    ).toBe('invalid_options');
  });

  it('round-trips certificate encodings for any identity (property)', () => {
    const label = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,10}[a-z0-9])?$/);
    const identity = fc
      .record({ serviceAccount: label, namespace: label })
      .map((parts) => formatIdentityName(parts));
    const { publicKey } = generateKeyPair();
    const bundle = parseTrustBundle(root.certificate.pem);
    fc.assert(
      fc.property(identity, fc.boolean(), (name, commonName) => {
        const issued = issueLeafCertificate({ issuer, publicKey, identity: name, commonName });
        const fromPem = parseCertificate(issued.certificate.pem);
        expect(fromPem.der).toEqual(issued.certificate.der);
        expect(parseCertificate(fromPem.der).pem).toBe(issued.certificate.pem);
        expect(fromPem.dnsNames).toEqual([name]);
        expect(fromPem.uris).toEqual([
          `spiffe://cluster.local/ns/${name.split('.')[1]}/sa/${name.split('.')[0]}`,
        ]);
        expect(fromPem.subjectCommonName).toBe(commonName ? name : undefined);
        const verified = bundle.verify(
          issued.certificate.pem + issued.intermediates.map((c) => c.pem).join(''),
        );
        expect(verified.identity).toBe(name);
        expect(verified.spiffeId).toBe(fromPem.uris[0]);
      }),
      { numRuns: 40 },
    );
  });

  it('never fails with anything but an IdentityError on corrupted certificates (property)', () => {
    const der = issueLeafCertificate({ issuer, publicKey: generateKeyPair().publicKey, identity: ID })
      .certificate.der;
    const bundle = parseTrustBundle(root.certificate.pem);
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ at: fc.nat({ max: der.length - 1 }), value: fc.integer({ min: 0, max: 255 }) }),
          { minLength: 1, maxLength: 4 },
        ),
        fc.nat({ max: der.length }),
        (edits, cut) => {
          const bytes = new Uint8Array(der.subarray(0, Math.max(cut, 2)));
          for (const { at, value } of edits) if (at < bytes.length) bytes[at] = value;
          try {
            bundle.verify(parseCertificates(bytes)[0]!, [issuer.certificate]);
          } catch (error) {
            expect(error).toBeInstanceOf(IdentityError);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('serving certificates (webhooks)', () => {
  const ca = createRootCertificate({
    commonName: 'webhook.linkerd-proxy-injector.linkerd.svc',
    pathLength: 0,
  });
  const host = 'linkerd-proxy-injector.linkerd.svc';

  it('is a TLS server certificate for the names that openssl verifies against its CA', () => {
    const { publicKey } = generateKeyPair();
    const cert = issueServingCertificate({ issuer: ca, publicKey, dnsNames: [host, 'alt.linkerd.svc'] });
    expect(cert.subjectCommonName).toBe(host);
    expect(cert.dnsNames).toEqual([host, 'alt.linkerd.svc']);
    expect(cert.isCa).toBe(false);
    expect(cert.extKeyUsage).toEqual(['serverAuth']);
    openssl.write('serving-ca.pem', ca.certificate.pem);
    openssl.write('serving.pem', cert.pem);
    const out = openssl.run([
      'verify',
      '-CAfile',
      'serving-ca.pem',
      '-purpose',
      'sslserver',
      '-verify_hostname',
      host,
      'serving.pem',
    ]);
    expect(out).toContain('serving.pem: OK');
  });

  it('always encodes as strict DER (OpenSSL parses every one of 400, whatever the random serial)', () => {
    // A serial whose first byte is 0x00 before a byte < 0x80 is non-minimal DER and OpenSSL refuses
    // it ("illegal padding"): one certificate in 512 when the high bit is merely masked off.
    const { publicKey } = generateKeyPair();
    for (let i = 0; i < 400; i++) {
      const cert = issueServingCertificate({ issuer: ca, publicKey, dnsNames: [host] });
      expect(() => new X509Certificate(cert.der)).not.toThrow();
      expect(cert.serialNumber).toMatch(/^(?!00)[0-7][0-9a-f]{31}$/);
    }
  });

  it('refuses an empty name list', () => {
    const { publicKey } = generateKeyPair();
    expect(errorOf(() => issueServingCertificate({ issuer: ca, publicKey, dnsNames: [] })).message).toMatch(
      /at least one DNS name/,
    );
  });
});
