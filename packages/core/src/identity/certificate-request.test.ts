import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MeshErrorCode, toGrpcStatus, GrpcStatus } from '../errors/index.js';
import {
  createCertificateRequest,
  decodePem,
  formatIdentityName,
  generateKeyPair,
  IdentityError,
  parseCertificateRequest,
  verifyCertificateRequest,
} from './index.js';
import { DerTag, encodeBitString, encodeDer, readDerElement, readDerSequence } from './der.js';
import { OpensslDir } from './openssl.test-support.js';

const ID = 'web.emojivoto.serviceaccount.identity.linkerd.cluster.local';
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

/** A CSR made by `openssl req` with the given key file, subject and SAN list. */
function opensslCsr(key: string, subject: string, san?: string): Uint8Array {
  const name = `req-${Math.random().toString(36).slice(2)}.csr`;
  openssl.run([
    'req',
    '-new',
    '-key',
    key,
    '-subj',
    subject,
    '-config',
    'openssl.cnf',
    ...(san ? ['-addext', `subjectAltName=${san}`] : []),
    '-outform',
    'DER',
    '-out',
    name,
  ]);
  return openssl.readBytes(name);
}

const label = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,10}[a-z0-9])?$/);
const identity = fc
  .record({
    serviceAccount: label,
    namespace: label,
    controlPlaneNamespace: label,
    trustDomain: label.map((l) => `${l}.local`),
  })
  .map((parts) => formatIdentityName(parts));

describe('creating CSRs', () => {
  it('makes CSRs that openssl accepts, with the identity as the only DNS SAN', () => {
    const { privateKey } = generateKeyPair();
    const csr = createCertificateRequest({ identity: ID, privateKey });
    openssl.write('ours.csr', csr.pem);
    const text = openssl.run(['req', '-verify', '-noout', '-text', '-in', 'ours.csr']);
    expect(text).toContain(`Subject: CN = ${ID}`);
    expect(text).toMatch(new RegExp(`Subject Alternative Name: \\n\\s+DNS:${ID.replace(/\./g, '\\.')}\\n`));
    expect(text).toContain('ASN1 OID: prime256v1');
    expect(text).toContain('Signature Algorithm: ecdsa-with-SHA256');
    expect(openssl.tryRun(['req', '-verify', '-noout', '-in', 'ours.csr']).stderr).toContain('verify OK');

    const noCn = createCertificateRequest({ identity: ID, privateKey, commonName: false });
    openssl.write('no-cn.csr', noCn.pem);
    const noCnText = openssl.run(['req', '-verify', '-noout', '-text', '-in', 'no-cn.csr']);
    expect(noCnText).toMatch(/Subject: *\n/);
    expect(noCnText).toContain('Subject Alternative Name: critical');
    expect(noCn.subjectCommonName).toBeUndefined();
  });

  it('round-trips through PEM and DER', () => {
    const csr = createCertificateRequest({ identity: ID, privateKey: generateKeyPair().privateKey });
    expect(decodePem(csr.pem)[0]!.der).toEqual(csr.der);
    expect(parseCertificateRequest(csr.der).pem).toBe(csr.pem);
    expect(parseCertificateRequest(csr.pem).dnsNames).toEqual([ID]);
    expect(verifyCertificateRequest(csr.der).identityName.namespace).toBe('emojivoto');
  });

  it('refuses to make a CSR for a name that is not an identity', () => {
    expect(
      errorOf(() =>
        createCertificateRequest({ identity: 'example.com', privateKey: generateKeyPair().privateKey }),
      ).reason,
    ).toBe('invalid_name');
  });

  it('round-trips any identity (property)', () => {
    const { privateKey } = generateKeyPair();
    fc.assert(
      fc.property(identity, fc.boolean(), fc.boolean(), (name, commonName, asPem) => {
        const csr = createCertificateRequest({ identity: name, privateKey, commonName });
        const parsed = parseCertificateRequest(asPem ? csr.pem : csr.der);
        expect(parsed.der).toEqual(csr.der);
        expect(parsed.subjectCommonName).toBe(commonName ? name : undefined);
        expect(verifyCertificateRequest(parsed, { identity: name }).identity).toBe(name);
      }),
      { numRuns: 50 },
    );
  });
});

describe('validating CSRs', () => {
  beforeAll(() => {
    openssl.ecKey('p256.key');
    openssl.ecKey('p384.key', 'secp384r1');
    openssl.rsaKey('rsa.key');
  });

  it('accepts CSRs made by openssl with the identity as DNS SAN, with or without CN', () => {
    expect(
      verifyCertificateRequest(opensslCsr('p256.key', `/CN=${ID}`, `DNS:${ID}`), { identity: ID }).identity,
    ).toBe(ID);
    expect(verifyCertificateRequest(opensslCsr('p256.key', '/', `DNS:${ID}`)).identity).toBe(ID);
  });

  it('refuses a wrong key type, SAN count, SAN kind, CN, identity or signature with the right reason', () => {
    const cases: Array<[string, () => unknown, string, string]> = [
      [
        'RSA key',
        () => verifyCertificateRequest(opensslCsr('rsa.key', `/CN=${ID}`, `DNS:${ID}`)),
        'key_type',
        'RSA 2048-bit',
      ],
      [
        'P-384 key',
        () => verifyCertificateRequest(opensslCsr('p384.key', `/CN=${ID}`, `DNS:${ID}`)),
        'key_type',
        'ECDSA P-384',
      ],
      [
        'two SANs',
        () => verifyCertificateRequest(opensslCsr('p256.key', `/CN=${ID}`, `DNS:${ID},DNS:other.example`)),
        'san_count',
        'has 2 DNS SANs',
      ],
      [
        'no SAN',
        () => verifyCertificateRequest(opensslCsr('p256.key', `/CN=${ID}`)),
        'san_count',
        'has 0 DNS SANs (none)',
      ],
      [
        'URI SAN',
        () =>
          verifyCertificateRequest(
            opensslCsr('p256.key', '/', `DNS:${ID},URI:spiffe://cluster.local/ns/emojivoto/sa/web`),
          ),
        'unexpected_san',
        'URI:spiffe://',
      ],
      [
        'IP SAN',
        () => verifyCertificateRequest(opensslCsr('p256.key', '/', `DNS:${ID},IP:198.18.0.1`)),
        'unexpected_san',
        'IP:198.18.0.1',
      ],
      [
        'email SAN',
        () => verifyCertificateRequest(opensslCsr('p256.key', '/', `DNS:${ID},email:a@b.example`)),
        'unexpected_san',
        'email:a@b.example',
      ],
      [
        'other CN',
        () => verifyCertificateRequest(opensslCsr('p256.key', '/CN=web', `DNS:${ID}`)),
        'common_name',
        'CN is "web"',
      ],
      [
        'not an identity',
        () => verifyCertificateRequest(opensslCsr('p256.key', '/', 'DNS:web.example.com')),
        'invalid_name',
        'web.example.com',
      ],
      [
        'other identity',
        () =>
          verifyCertificateRequest(opensslCsr('p256.key', '/', `DNS:${ID}`), {
            identity: ID.replace('web', 'voting'),
          }),
        'san_mismatch',
        'asks for web.emojivoto',
      ],
    ];
    for (const [name, run, reason, text] of cases) {
      const error = errorOf(run);
      expect(error.reason, name).toBe(reason);
      expect(error.code, name).toBe(MeshErrorCode.FailedPrecondition);
      expect(error.message, name).toContain(text);
      expect(toGrpcStatus(error).code, name).toBe(GrpcStatus.FAILED_PRECONDITION);
    }
  });

  it('refuses a CSR whose signed content was altered', () => {
    const der = opensslCsr('p256.key', `/CN=${ID}`, `DNS:${ID}`);
    const tampered = Buffer.from(der);
    const at = tampered.indexOf(Buffer.from('emojivoto'));
    tampered[at] = 'E'.charCodeAt(0); // still well-formed, no longer what was signed
    const error = errorOf(() => verifyCertificateRequest(new Uint8Array(tampered)));
    expect(error.reason).toBe('bad_signature');
    expect(error.message).toContain('ecdsa-with-SHA256 signature does not verify');

    // Another key's signature over the same request.
    const ours = createCertificateRequest({ identity: ID, privateKey: generateKeyPair().privateKey });
    const theirs = createCertificateRequest({ identity: ID, privateKey: generateKeyPair().privateKey });
    const algorithm = readDerSequence(ours.der, 'test').content.subarray(ours.infoDer.length);
    const algorithmOnly = algorithm.subarray(0, readDerElement(algorithm, 0, 'test').bytes.length);
    const swapped = encodeDer(
      DerTag.Sequence,
      ours.infoDer,
      algorithmOnly,
      encodeBitString(theirs.signature),
    );
    expect(parseCertificateRequest(swapped).infoDer).toEqual(ours.infoDer);
    expect(errorOf(() => verifyCertificateRequest(swapped)).reason).toBe('bad_signature');
  });

  it('reports undecodable input as malformed (decode, INVALID_ARGUMENT)', () => {
    const csr = createCertificateRequest({ identity: ID, privateKey: generateKeyPair().privateKey });
    for (const bad of [
      new Uint8Array([0x30, 0x00]),
      csr.der.subarray(0, csr.der.length - 5),
      new Uint8Array([...csr.der, 0]),
      new TextEncoder().encode(
        '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n',
      ),
      new TextEncoder().encode('not a csr'),
    ]) {
      const error = errorOf(() =>
        verifyCertificateRequest(bad, { where: 'CertifyRequest.certificate_signing_request' }),
      );
      expect(error.reason).toBe('malformed');
      expect(error.code).toBe(MeshErrorCode.Decode);
      expect(error.where).toContain('CertifyRequest.certificate_signing_request');
      expect(toGrpcStatus(error).code).toBe(GrpcStatus.INVALID_ARGUMENT);
    }
  });

  it('never fails with anything but an IdentityError on corrupted bytes (property)', () => {
    const csr = createCertificateRequest({ identity: ID, privateKey: generateKeyPair().privateKey });
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ at: fc.nat({ max: csr.der.length - 1 }), value: fc.integer({ min: 0, max: 255 }) }),
          { minLength: 1, maxLength: 4 },
        ),
        fc.nat({ max: csr.der.length }),
        (edits, cut) => {
          const bytes = new Uint8Array(csr.der.subarray(0, Math.max(cut, 2)));
          for (const { at, value } of edits) if (at < bytes.length) bytes[at] = value;
          try {
            verifyCertificateRequest(bytes);
          } catch (error) {
            expect(error).toBeInstanceOf(IdentityError);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
