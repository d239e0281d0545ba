// The workload's CSR and chain check (node:crypto only) against the full identity library: the CSR
// is the one createCertificateRequest writes, the identity service's checks accept it and openssl
// verifies it; the chain check agrees with the trust bundle's verifier on good and bad chains.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createIntermediateCertificate,
  createRootCertificate,
  issueLeafCertificate,
} from './certificate-authority.js';
import {
  createCertificateRequest,
  parseCertificateRequest,
  verifyCertificateRequest,
} from './certificate-request.js';
import { readDerSequence, derChildren } from './der.js';
import { IdentityError } from './identity-error.js';
import { encodePem } from './pem.js';
import { generateKeyPair } from './private-key.js';
import { parseTrustBundle } from './trust-bundle.js';
import { createWorkloadCsr, parseWorkloadTrustAnchors } from './workload-identity.js';

const IDENTITY = 'web.emojivoto.serviceaccount.identity.linkerd.cluster.local';
const label = fc.stringMatching(/^[a-z]([a-z0-9-]{0,20}[a-z0-9])?$/);

const infoOf = (der: Uint8Array): Buffer => {
  const outer = readDerSequence(der, 'csr');
  return Buffer.from(derChildren(outer, 'csr')[0]!.bytes);
};

describe('createWorkloadCsr', () => {
  it('writes the request createCertificateRequest writes without a common name', () => {
    fc.assert(
      fc.property(label, label, (sa, ns) => {
        const identity = `${sa}.${ns}.serviceaccount.identity.linkerd.cluster.local`;
        const { privateKey } = generateKeyPair();
        const light = createWorkloadCsr(identity, privateKey);
        const full = createCertificateRequest({ identity, privateKey, commonName: false });
        // Everything but the (randomized) ECDSA signature is byte for byte the same.
        expect(infoOf(light)).toEqual(infoOf(full.der));
        const parsed = parseCertificateRequest(light);
        expect(parsed.dnsNames).toEqual([identity]);
        expect(parsed.subject).toBe('');
        expect(parsed.signatureAlgorithm).toBe(full.signatureAlgorithm);
        expect(verifyCertificateRequest(light, { identity }).identity).toBe(identity);
      }),
      { numRuns: 25 },
    );
  });

  it('is a request openssl verifies, with the identity as its one DNS SAN', () => {
    const dir = mkdtempSync(join(tmpdir(), 'workload-csr-'));
    const file = join(dir, 'csr.pem');
    writeFileSync(
      file,
      encodePem('CERTIFICATE REQUEST', createWorkloadCsr(IDENTITY, generateKeyPair().privateKey)),
    );
    const text = execFileSync('openssl', ['req', '-in', file, '-noout', '-verify', '-text'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(text).toContain(`DNS:${IDENTITY}`);
    expect(text).toMatch(/X509v3 Subject Alternative Name: critical/);
    expect(text).toContain('ecdsa-with-SHA256');
  });

  it('refuses a key that is not ECDSA P-256 and a name that is not an identity', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    expect(() => createWorkloadCsr(IDENTITY, rsa)).toThrow(/ECDSA P-256/);
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey;
    expect(() => createWorkloadCsr(IDENTITY, p384)).toThrow(IdentityError);
    expect(() => createWorkloadCsr('Not An Identity', generateKeyPair().privateKey)).toThrow(IdentityError);
  });
});

describe('parseWorkloadTrustAnchors', () => {
  const now = new Date();
  const root = createRootCertificate();
  const issuer = createIntermediateCertificate({ issuer: root });
  const otherRoot = createRootCertificate();
  const leafFor = (identity: string, at = now) =>
    issueLeafCertificate({
      issuer,
      csr: createCertificateRequest({
        identity,
        privateKey: generateKeyPair().privateKey,
        commonName: false,
      }),
      now: at,
    });
  const bundle = parseTrustBundle(root.certificate.pem);
  const anchors = parseWorkloadTrustAnchors(
    `# the mesh's roots\n${otherRoot.certificate.pem}${root.certificate.pem}`,
  );

  /** The reason each verifier gives (or 'ok'), to compare them. */
  const outcome = (run: () => unknown): string => {
    try {
      run();
      return 'ok';
    } catch (err) {
      if (IdentityError.is(err)) return err.reason;
      throw err;
    }
  };

  it('accepts the chain the identity service issues, and says when it stops verifying', () => {
    const leaf = leafFor(IDENTITY);
    const chain = anchors.verify(leaf.certificate.der, [issuer.certificate.der], { identity: IDENTITY });
    expect(chain.identity).toBe(IDENTITY);
    expect(chain.notAfter.getTime()).toBe(
      Math.min(
        leaf.certificate.notAfter.getTime(),
        issuer.certificate.notAfter.getTime(),
        root.certificate.notAfter.getTime(),
      ),
    );
    expect(anchors.count).toBe(2);
    expect(anchors.pem.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
  });

  it('agrees with the trust bundle on chains that must fail', () => {
    const leaf = leafFor(IDENTITY);
    const cases: Record<string, [Uint8Array, Uint8Array[], string, Date?]> = {
      'another identity': [
        leaf.certificate.der,
        [issuer.certificate.der],
        'other.ns.serviceaccount.identity.linkerd.cluster.local',
      ],
      'intermediate missing': [leaf.certificate.der, [], IDENTITY],
      expired: [
        leaf.certificate.der,
        [issuer.certificate.der],
        IDENTITY,
        new Date(leaf.certificate.notAfter.getTime() + 1000),
      ],
      'not yet valid': [
        leaf.certificate.der,
        [issuer.certificate.der],
        IDENTITY,
        new Date(now.getTime() - 3_600_000),
      ],
      'a CA as the leaf': [issuer.certificate.der, [], IDENTITY],
    };
    const single = parseWorkloadTrustAnchors(root.certificate.pem);
    for (const [name, [der, intermediates, identity, at]] of Object.entries(cases)) {
      const light = outcome(() => single.verify(der, intermediates, { identity, at }));
      const full = outcome(() => bundle.verify(der, intermediates, { identity, at }));
      expect(light, name).not.toBe('ok');
      expect(full, name).not.toBe('ok');
      if (name !== 'a CA as the leaf') expect(light, name).toBe(full);
    }
    // Signed by an issuer of another mesh: no chain to these anchors.
    const stranger = createIntermediateCertificate({ issuer: otherRoot });
    const foreign = issueLeafCertificate({
      issuer: stranger,
      csr: createCertificateRequest({
        identity: IDENTITY,
        privateKey: generateKeyPair().privateKey,
        commonName: false,
      }),
    });
    expect(
      outcome(() =>
        single.verify(foreign.certificate.der, [stranger.certificate.der], { identity: IDENTITY }),
      ),
    ).toBe('unknown_issuer');
  });

  it('refuses anchors that are not CA certificates or not certificates, saying where', () => {
    const leaf = leafFor(IDENTITY);
    expect(() => parseWorkloadTrustAnchors(`${root.certificate.pem}${leaf.certificate.pem}`)).toThrow(
      expect.objectContaining({
        reason: 'not_a_ca',
        where: 'trust anchors, certificate 2',
        message: expect.stringMatching(/is not a CA certificate/),
      }),
    );
    expect(() => parseWorkloadTrustAnchors('no PEM here')).toThrow(/no CERTIFICATE block/);
    expect(() =>
      parseWorkloadTrustAnchors('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'),
    ).toThrow(IdentityError);
  });
});
