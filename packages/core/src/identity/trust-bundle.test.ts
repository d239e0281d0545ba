import { Extension } from '@peculiar/asn1-x509';
import { OctetString } from '@peculiar/asn1-schema';
import { afterAll, describe, expect, it } from 'vitest';
import { MeshErrorCode } from '../errors/index.js';
import { buildCertificate, type Certificate } from './certificate.js';
import {
  createIntermediateCertificate,
  createRootCertificate,
  createTrustBundle,
  generateKeyPair,
  IdentityError,
  issueLeafCertificate,
  parseTrustBundle,
  type Issuer,
} from './index.js';
import { OpensslDir } from './openssl.test-support.js';
import {
  authorityKeyIdExtension,
  basicConstraintsExtension,
  keyIdentifier,
  subjectKeyIdExtension,
  ExtKeyUsageOid,
  extKeyUsageExtension,
  keyUsageExtension,
  subjectAltNameExtension,
} from './x509-extensions.js';
import { encodeCommonNameSubject } from './x509-name.js';

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

interface ForgeOptions {
  notBefore?: Date;
  notAfter?: Date;
  dnsNames?: string[];
  uris?: string[];
  eku?: string[];
  extra?: Extension[];
}

/** A leaf signed by `issuer` without issueLeafCertificate's safety checks, to build bad chains on purpose. */
function forgeLeaf(issuer: Issuer, options: ForgeOptions = {}): Certificate {
  return buildCertificate({
    issuerDer: issuer.certificate.subjectDer,
    subjectDer: encodeCommonNameSubject(ID),
    notBefore: options.notBefore ?? new Date(Date.now() - HOUR),
    notAfter: options.notAfter ?? new Date(Date.now() + HOUR),
    publicKey: generateKeyPair().publicKey,
    extensions: [
      keyUsageExtension(['digitalSignature']),
      extKeyUsageExtension(options.eku ?? [ExtKeyUsageOid.serverAuth, ExtKeyUsageOid.clientAuth]),
      subjectAltNameExtension({ dnsNames: options.dnsNames ?? [ID], uris: options.uris ?? [SPIFFE] }, false),
      authorityKeyIdExtension(Buffer.from(issuer.certificate.subjectKeyId!, 'hex')),
      ...(options.extra ?? []),
    ],
    signingKey: issuer.privateKey,
  });
}

function leafFor(issuer: Issuer, now?: Date) {
  return issueLeafCertificate({ issuer, publicKey: generateKeyPair().publicKey, identity: ID, now });
}

describe('trust bundles', () => {
  const rootsMadeAt = new Date(Date.now() - 48 * HOUR);
  const oldRoot = createRootCertificate({ now: rootsMadeAt });
  const newRoot = createRootCertificate({ now: rootsMadeAt });
  const oldIssuer = createIntermediateCertificate({ issuer: oldRoot });
  const newIssuer = createIntermediateCertificate({ issuer: newRoot });

  it('verifies chains from either anchor while both are trusted (rotation)', () => {
    const bundle = parseTrustBundle(oldRoot.certificate.pem + newRoot.certificate.pem);
    expect(bundle.anchors).toHaveLength(2);
    for (const [issuer, root] of [
      [oldIssuer, oldRoot],
      [newIssuer, newRoot],
    ] as const) {
      const leaf = leafFor(issuer);
      const verified = bundle.verify(leaf.certificate, leaf.intermediates);
      expect(verified.anchor.der).toEqual(root.certificate.der);
      expect(verified.identity).toBe(ID);
      expect(verified.identityName?.serviceAccount).toBe('web');
      expect(verified.spiffeId).toBe(SPIFFE);
      expect(verified.path.map((c) => c.subject)).toEqual([
        `CN=${ID}`,
        'CN=identity.linkerd.cluster.local',
        'CN=root.linkerd.cluster.local',
      ]);
      expect(verified.notAfter).toEqual(leaf.certificate.notAfter);
    }
    // Both roots have the same name: the key identifiers pick the right one.
    expect(oldRoot.certificate.subjectDer).toEqual(newRoot.certificate.subjectDer);

    // Several bundles, as PEM strings, DER bytes or both; duplicates collapse.
    const merged = parseTrustBundle([
      oldRoot.certificate.pem,
      newRoot.certificate.der,
      oldRoot.certificate.pem,
    ]);
    expect(merged.anchors).toHaveLength(2);
    expect(merged.pem).toBe(oldRoot.certificate.pem + newRoot.certificate.pem);
  });

  it('rejects a leaf from a root that is not (or no longer) trusted', () => {
    const onlyNew = createTrustBundle([newRoot.certificate]);
    const leaf = leafFor(oldIssuer);
    const error = errorOf(() => onlyNew.verify(leaf.certificate, leaf.intermediates));
    expect(error.reason).toBe('unknown_issuer');
    expect(error.code).toBe(MeshErrorCode.CertificateInvalid);
    expect(error.where).toBe('chain certificate 1 (CN=identity.linkerd.cluster.local)');
    expect(error.message).toContain(
      'its issuer CN=root.linkerd.cluster.local is neither among the intermediates nor a trust anchor',
    );

    const missing = errorOf(() => onlyNew.verify(leafFor(newIssuer).certificate));
    expect(missing.reason).toBe('unknown_issuer');
    expect(missing.where).toBe(`leaf (CN=${ID})`);
    expect(missing.hint).toContain('add the missing intermediate');
  });

  it('rejects an expired issuer, naming it', () => {
    const past = new Date(Date.now() - 10 * HOUR);
    const expiredIssuer = createIntermediateCertificate({ issuer: oldRoot, now: past, lifetimeMs: HOUR });
    const leaf = forgeLeaf(expiredIssuer);
    const error = errorOf(() =>
      parseTrustBundle(oldRoot.certificate.pem).verify(leaf, [expiredIssuer.certificate]),
    );
    expect(error.reason).toBe('expired');
    expect(error.where).toBe('chain certificate 1 (CN=identity.linkerd.cluster.local)');
    expect(error.message).toMatch(/^expired at .* \(checked at .*\)$/);
    expect(error.hint).toBe('rotate this CA certificate');

    openssl.write('root.pem', oldRoot.certificate.pem);
    openssl.write('expired-issuer.pem', expiredIssuer.certificate.pem);
    openssl.write('leaf-of-expired.pem', leaf.pem);
    const result = openssl.verify('root.pem', 'leaf-of-expired.pem', 'expired-issuer.pem');
    expect(result.status).not.toBe(0);
    expect(result.stdout + result.stderr).toContain('certificate has expired');
  });

  it('rejects a leaf that is not yet valid, and accepts it at a later `at`', () => {
    const future = new Date(Date.now() + 48 * HOUR);
    const leaf = leafFor(oldIssuer, future);
    const bundle = parseTrustBundle(oldRoot.certificate.pem);
    const error = errorOf(() => bundle.verify(leaf.certificate, leaf.intermediates));
    expect(error.reason).toBe('not_yet_valid');
    expect(error.where).toBe(`leaf (CN=${ID})`);
    expect(
      bundle.verify(leaf.certificate, leaf.intermediates, { at: new Date(future.getTime() + HOUR) }).identity,
    ).toBe(ID);
    expect(
      errorOf(() =>
        bundle.verify(leaf.certificate, leaf.intermediates, { at: new Date(future.getTime() + 25 * HOUR) }),
      ).reason,
    ).toBe('expired');

    openssl.write('root.pem', oldRoot.certificate.pem);
    openssl.write('issuer.pem', oldIssuer.certificate.pem);
    openssl.write('future-leaf.pem', leaf.certificate.pem);
    const result = openssl.verify('root.pem', 'future-leaf.pem', 'issuer.pem');
    expect(result.stdout + result.stderr).toContain('certificate is not yet valid');
  });

  it('checks the expected identity, and that the SPIFFE URI agrees with the DNS identity', () => {
    const bundle = parseTrustBundle(oldRoot.certificate.pem);
    const leaf = leafFor(oldIssuer);
    const mismatch = errorOf(() =>
      bundle.verify(leaf.certificate, leaf.intermediates, { identity: ID.replace('web', 'voting') }),
    );
    expect(mismatch.reason).toBe('identity_mismatch');
    expect(mismatch.message).toBe(`is for ${ID}, expected ${ID.replace('web', 'voting')}`);

    const lying = forgeLeaf(oldIssuer, { uris: ['spiffe://cluster.local/ns/emojivoto/sa/admin'] });
    expect(errorOf(() => bundle.verify(lying, [oldIssuer.certificate])).message).toContain(
      'does not match its DNS identity',
    );
  });

  it('enforces CA, pathlen, EKU and critical-extension rules', () => {
    const bundle = parseTrustBundle(oldRoot.certificate.pem);
    // An issuer presented as a leaf identity.
    expect(errorOf(() => bundle.verify(oldIssuer.certificate)).reason).toBe('leaf_is_ca');
    // ... but it verifies as an issuer, which is how the identity service checks its issuer at load.
    expect(bundle.verify(oldIssuer.certificate, [], { purpose: 'issuer' }).anchor.der).toEqual(
      oldRoot.certificate.der,
    );
    expect(bundle.verify(oldRoot.certificate, [], { purpose: 'issuer' }).path).toHaveLength(1);
    expect(
      errorOf(() =>
        bundle.verify(leafFor(oldIssuer).certificate, [oldIssuer.certificate], { purpose: 'issuer' }),
      ).reason,
    ).toBe('not_a_ca');

    // A leaf used as an issuer.
    const leafKey = generateKeyPair();
    const leaf = issueLeafCertificate({ issuer: oldIssuer, publicKey: leafKey.publicKey, identity: ID });
    const underLeaf = forgeLeaf({
      certificate: { ...leaf.certificate, subjectKeyId: '00' },
      privateKey: leafKey.privateKey,
      chain: [],
    });
    const notCa = errorOf(() => bundle.verify(underLeaf, [leaf.certificate, oldIssuer.certificate]));
    expect(notCa.reason).toBe('not_a_ca');
    expect(notCa.where).toBe(`chain certificate 1 (CN=${ID})`);

    // A pathlen:0 root with a CA under it (createIntermediateCertificate would refuse to make it).
    const strictRoot = createRootCertificate({ pathLength: 0 });
    const subKey = generateKeyPair();
    const sub = buildCertificate({
      issuerDer: strictRoot.certificate.subjectDer,
      subjectDer: encodeCommonNameSubject('identity.linkerd.cluster.local'),
      notBefore: new Date(Date.now() - HOUR),
      notAfter: new Date(Date.now() + HOUR),
      publicKey: subKey.publicKey,
      extensions: [
        basicConstraintsExtension(true, 0),
        keyUsageExtension(['keyCertSign', 'cRLSign']),
        subjectKeyIdExtension(keyIdentifier(subKey.publicKey)),
        authorityKeyIdExtension(Buffer.from(strictRoot.certificate.subjectKeyId!, 'hex')),
      ],
      signingKey: strictRoot.privateKey,
    });
    const tooDeep = forgeLeaf({ certificate: sub, privateKey: subKey.privateKey, chain: [] });
    const pathLength = errorOf(() => parseTrustBundle(strictRoot.certificate.pem).verify(tooDeep, [sub]));
    expect(pathLength.reason).toBe('path_length');
    expect(pathLength.where).toBe('chain certificate 2 (CN=root.linkerd.cluster.local)');
    expect(pathLength.message).toBe('has pathlen 0 but 1 CA certificate(s) follow it towards the leaf');
    openssl.write('strict-root.pem', strictRoot.certificate.pem);
    openssl.write('sub.pem', sub.pem);
    openssl.write('too-deep.pem', tooDeep.pem);
    const deep = openssl.verify('strict-root.pem', 'too-deep.pem', 'sub.pem');
    expect(deep.stdout + deep.stderr).toContain('path length constraint exceeded');

    // EKU: a serverAuth-only leaf is refused for mesh identity unless only serverAuth is asked for.
    const serverOnly = forgeLeaf(oldIssuer, { eku: [ExtKeyUsageOid.serverAuth] });
    const eku = errorOf(() => bundle.verify(serverOnly, [oldIssuer.certificate]));
    expect(eku.reason).toBe('ext_key_usage');
    expect(eku.message).toBe('extKeyUsage (serverAuth) does not allow clientAuth');
    expect(bundle.verify(serverOnly, [oldIssuer.certificate], { extKeyUsage: ['serverAuth'] }).identity).toBe(
      ID,
    );

    // An unknown critical extension.
    const critical = forgeLeaf(oldIssuer, {
      extra: [
        new Extension({
          extnID: '1.3.6.1.4.1.99999.1',
          critical: true,
          extnValue: new OctetString(new Uint8Array([5, 0])),
        }),
      ],
    });
    const crit = errorOf(() => bundle.verify(critical, [oldIssuer.certificate]));
    expect(crit.reason).toBe('critical_extension');
    expect(crit.message).toContain('1.3.6.1.4.1.99999.1');
  });

  it('rejects a chain whose signature does not verify', () => {
    const leaf = leafFor(oldIssuer);
    const bundle = parseTrustBundle(oldRoot.certificate.pem);
    // Change one bit of the serial number: everything still parses, only the signature can fail.
    const tampered = Buffer.from(leaf.certificate.der);
    const serialAt = tampered.indexOf(Buffer.from(leaf.certificate.serialNumber, 'hex'));
    tampered[serialAt + 3] = tampered[serialAt + 3]! ^ 0x01;
    const bad = errorOf(() => bundle.verify(new Uint8Array(tampered), leaf.intermediates));
    expect(bad.reason).toBe('bad_signature');
    expect(bad.message).toBe(
      'its ecdsa-with-SHA256 signature does not verify with the key of CN=identity.linkerd.cluster.local',
    );
  });

  it('reads a leaf PEM that carries its intermediates, and reports an empty bundle', () => {
    const leaf = leafFor(newIssuer);
    const bundle = parseTrustBundle(newRoot.certificate.pem);
    expect(bundle.verify(leaf.certificate.pem + newIssuer.certificate.pem).identity).toBe(ID);
    expect(bundle.verify(leaf.certificate.pem + newIssuer.certificate.pem, '').identity).toBe(ID);
    expect(errorOf(() => bundle.verify(leaf.certificate, 'not a certificate')).reason).toBe('malformed');
    const empty = errorOf(() =>
      parseTrustBundle('# no certificates here\n', { where: 'linkerd-identity-trust-roots/ca-bundle.crt' }),
    );
    expect(empty.reason).toBe('malformed');
    expect(empty.where).toBe('linkerd-identity-trust-roots/ca-bundle.crt');
  });
});
