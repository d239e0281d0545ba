// Interop with CA material made by openssl the way Linkerd's docs make it with step-cli
// (`step certificate create root.linkerd.cluster.local ca.crt ca.key --profile root-ca`, then
// `--profile intermediate-ca`), and with an RSA-2048 root: it loads unchanged, we issue from it,
// and both openssl and our verifier accept the result.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createCertificateRequest,
  createIntermediateCertificate,
  createIssuer,
  decodePem,
  generateKeyPair,
  IdentityError,
  issueLeafCertificate,
  parseCertificate,
  parseTrustBundle,
  type Issuer,
} from './index.js';
import { OpensslDir } from './openssl.test-support.js';

const ID = 'web.emojivoto.serviceaccount.identity.linkerd.cluster.local';
const openssl = new OpensslDir();
afterAll(() => openssl.remove());

beforeAll(() => {
  // step certificate create root.linkerd.cluster.local ca.crt ca.key --profile root-ca --kty EC --crv P-256
  openssl.ecKey('ca.key');
  openssl.root('ca.crt', 'ca.key', 'root.linkerd.cluster.local');
  // step certificate create identity.linkerd.cluster.local issuer.crt issuer.key --profile intermediate-ca --ca ca.crt --ca-key ca.key
  openssl.ecKey('issuer.key');
  openssl.signed(
    'issuer.crt',
    'issuer.key',
    'identity.linkerd.cluster.local',
    'ca.crt',
    'ca.key',
    'intermediate_ca',
  );
  // An RSA-2048 root, PKCS#1 key.
  openssl.rsaKey('rsa-ca.key', true);
  openssl.root('rsa-ca.crt', 'rsa-ca.key', 'root.linkerd.cluster.local');
});

function errorOf(fn: () => unknown): IdentityError {
  try {
    fn();
  } catch (error) {
    if (error instanceof IdentityError) return error;
    throw error;
  }
  throw new Error('expected an IdentityError');
}

describe('step-style ECDSA P-256 anchor and issuer made by openssl', () => {
  let issuer: Issuer;

  beforeAll(() => {
    // As the linkerd-identity-issuer secret holds them: crt.pem and a SEC1 key.pem with EC PARAMETERS.
    issuer = createIssuer({
      certificate: openssl.read('issuer.crt'),
      privateKey: openssl.read('issuer.key'),
    });
  });

  it('loads them unchanged and reads their profile', () => {
    const root = parseCertificate(openssl.read('ca.crt'));
    expect(root.isCa).toBe(true);
    expect(root.pathLength).toBe(1);
    expect(root.keyUsage).toEqual(['keyCertSign', 'cRLSign']);
    expect(root.subject).toBe('CN=root.linkerd.cluster.local');
    expect(root.keyType).toBe('ecdsa-p256');
    expect(issuer.certificate.pathLength).toBe(0);
    expect(issuer.certificate.authorityKeyId).toBe(root.subjectKeyId);
    expect(
      parseTrustBundle(openssl.read('ca.crt')).verify(issuer.certificate, [], { purpose: 'issuer' }).anchor
        .der,
    ).toEqual(root.der);
  });

  it('issues leaves from the openssl issuer that openssl and we verify', () => {
    const csr = createCertificateRequest({
      identity: ID,
      privateKey: generateKeyPair().privateKey,
      commonName: false,
    });
    const leaf = issueLeafCertificate({ issuer, csr: csr.der });
    // The issuer name is copied byte for byte from openssl's encoding of the issuer's subject.
    const opensslIssuerDer = Buffer.from(decodePem(openssl.read('issuer.crt'))[0]!.der);
    expect(opensslIssuerDer.includes(Buffer.from(leaf.certificate.issuerDer))).toBe(true);
    expect(leaf.certificate.issuerDer).toEqual(issuer.certificate.subjectDer);
    openssl.write('leaf.pem', leaf.certificate.pem);
    for (const purpose of [[], ['-purpose', 'sslserver'], ['-purpose', 'sslclient']]) {
      const result = openssl.verify('ca.crt', 'leaf.pem', 'issuer.crt', purpose);
      expect(result.stdout, result.stderr).toContain('leaf.pem: OK');
    }
    const verified = parseTrustBundle(openssl.read('ca.crt')).verify(leaf.certificate, leaf.intermediates, {
      identity: ID,
    });
    expect(verified.identity).toBe(ID);
    expect(verified.path).toHaveLength(3);
  });

  it('validates CSRs made by openssl and issues for them', () => {
    openssl.ecKey('proxy.key');
    openssl.run([
      'req',
      '-new',
      '-key',
      'proxy.key',
      '-subj',
      `/CN=${ID}`,
      '-addext',
      `subjectAltName=DNS:${ID}`,
      '-config',
      'openssl.cnf',
      '-out',
      'proxy.csr',
    ]);
    const leaf = issueLeafCertificate({ issuer, csr: openssl.read('proxy.csr'), identity: ID });
    openssl.write('proxy.pem', leaf.certificate.pem);
    expect(openssl.verify('ca.crt', 'proxy.pem', 'issuer.crt').stdout).toContain('OK');
    // The certified key is the proxy's: openssl agrees the certificate matches the key.
    const fromCert = openssl.run(['x509', '-in', 'proxy.pem', '-noout', '-pubkey']);
    const fromKey = openssl.run(['ec', '-in', 'proxy.key', '-pubout']);
    expect(fromCert).toBe(fromKey);
  });

  it('refuses to sign with the openssl root key under the wrong certificate', () => {
    expect(
      errorOf(() =>
        createIssuer({ certificate: openssl.read('issuer.crt'), privateKey: openssl.read('ca.key') }),
      ).reason,
    ).toBe('key_mismatch');
  });

  it('verifies leaves signed by openssl itself from our CA', () => {
    // The other direction: our issuer's key, openssl doing the signing with Linkerd-like leaf extensions.
    const ours = createIntermediateCertificate({
      issuer: createIssuer({ certificate: openssl.read('ca.crt'), privateKey: openssl.read('ca.key') }),
    });
    openssl.write('our-issuer.crt', ours.certificate.pem);
    openssl.write('our-issuer.key', ours.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
    openssl.write(
      'leaf.ext',
      `keyUsage = critical, digitalSignature\nextendedKeyUsage = serverAuth, clientAuth\nsubjectAltName = DNS:${ID}\nauthorityKeyIdentifier = keyid:always\n`,
    );
    openssl.ecKey('ossl-leaf.key');
    openssl.run([
      'req',
      '-new',
      '-key',
      'ossl-leaf.key',
      '-subj',
      '/',
      '-config',
      'openssl.cnf',
      '-out',
      'ossl-leaf.csr',
    ]);
    openssl.run([
      'x509',
      '-req',
      '-in',
      'ossl-leaf.csr',
      '-CA',
      'our-issuer.crt',
      '-CAkey',
      'our-issuer.key',
      '-days',
      '1',
      '-set_serial',
      '7',
      '-extfile',
      'leaf.ext',
      '-out',
      'ossl-leaf.crt',
    ]);
    const verified = parseTrustBundle(openssl.read('ca.crt')).verify(openssl.read('ossl-leaf.crt'), [
      ours.certificate,
    ]);
    expect(verified.identity).toBe(ID);
    expect(verified.spiffeId).toBeUndefined();
  });
});

describe('RSA-2048 anchor made by openssl', () => {
  it('loads unchanged and is accepted as an anchor beside an ECDSA one', () => {
    const root = parseCertificate(openssl.read('rsa-ca.crt'));
    expect(root.keyType).toBe('rsa');
    expect(root.signatureAlgorithm).toBe('sha256WithRSAEncryption');
    const bundle = parseTrustBundle(openssl.read('rsa-ca.crt') + openssl.read('ca.crt'));
    expect(bundle.anchors.map((a) => a.keyType)).toEqual(['rsa', 'ecdsa-p256']);
  });

  it('verifies a chain under it with an openssl-made ECDSA issuer', () => {
    openssl.ecKey('rsa-issuer.key');
    openssl.signed(
      'rsa-issuer.crt',
      'rsa-issuer.key',
      'identity.linkerd.cluster.local',
      'rsa-ca.crt',
      'rsa-ca.key',
      'intermediate_ca',
    );
    const issuer = createIssuer({
      certificate: openssl.read('rsa-issuer.crt'),
      privateKey: openssl.read('rsa-issuer.key'),
    });
    expect(issuer.certificate.signatureAlgorithm).toBe('sha256WithRSAEncryption');
    const leaf = issueLeafCertificate({ issuer, publicKey: generateKeyPair().publicKey, identity: ID });
    openssl.write('rsa-leaf.pem', leaf.certificate.pem);
    expect(openssl.verify('rsa-ca.crt', 'rsa-leaf.pem', 'rsa-issuer.crt').stdout).toContain('OK');
    expect(
      parseTrustBundle(openssl.read('rsa-ca.crt')).verify(leaf.certificate, leaf.intermediates).identity,
    ).toBe(ID);
  });

  it('issues from the RSA root itself (sha256WithRSAEncryption signatures)', () => {
    const root = createIssuer({
      certificate: openssl.read('rsa-ca.crt'),
      privateKey: openssl.read('rsa-ca.key'),
      where: 'rsa root',
    });
    const issuer = createIntermediateCertificate({ issuer: root });
    expect(issuer.certificate.signatureAlgorithm).toBe('sha256WithRSAEncryption');
    const leaf = issueLeafCertificate({ issuer, publicKey: generateKeyPair().publicKey, identity: ID });
    openssl.write('rsa-our-issuer.pem', issuer.certificate.pem);
    openssl.write('rsa-our-leaf.pem', leaf.certificate.pem);
    expect(openssl.verify('rsa-ca.crt', 'rsa-our-leaf.pem', 'rsa-our-issuer.pem').stdout).toContain('OK');
    expect(
      parseTrustBundle(openssl.read('rsa-ca.crt')).verify(leaf.certificate, leaf.intermediates).anchor
        .keyType,
    ).toBe('rsa');
  });
});

describe('name-constrained issuer made by openssl', () => {
  it('enforces its DNS name constraints as openssl does', () => {
    openssl.ecKey('nc.key');
    openssl.signed(
      'nc.crt',
      'nc.key',
      'identity.linkerd.cluster.local',
      'ca.crt',
      'ca.key',
      'name_constrained_ca',
    );
    const issuer = createIssuer({ certificate: openssl.read('nc.crt'), privateKey: openssl.read('nc.key') });
    expect(issuer.certificate.nameConstraints?.permitted).toEqual([
      { kind: 'dns', value: '.emojivoto.serviceaccount.identity.linkerd.cluster.local' },
    ]);
    const bundle = parseTrustBundle(openssl.read('ca.crt'));
    const inside = issueLeafCertificate({ issuer, publicKey: generateKeyPair().publicKey, identity: ID });
    expect(bundle.verify(inside.certificate, inside.intermediates).identity).toBe(ID);
    openssl.write('nc-inside.pem', inside.certificate.pem);
    expect(openssl.verify('ca.crt', 'nc-inside.pem', 'nc.crt').stdout).toContain('OK');

    const outsideId = 'web.other.serviceaccount.identity.linkerd.cluster.local';
    const outside = issueLeafCertificate({
      issuer,
      publicKey: generateKeyPair().publicKey,
      identity: outsideId,
      commonName: false,
    });
    const error = errorOf(() => bundle.verify(outside.certificate, outside.intermediates));
    expect(error.reason).toBe('name_constraints');
    expect(error.message).toBe(
      `${outsideId} is outside the permitted names (.emojivoto.serviceaccount.identity.linkerd.cluster.local)`,
    );
    openssl.write('nc-outside.pem', outside.certificate.pem);
    const result = openssl.verify('ca.crt', 'nc-outside.pem', 'nc.crt');
    expect(result.stdout + result.stderr).toContain('permitted subtree violation');
  });
});
