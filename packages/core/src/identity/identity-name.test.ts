import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MeshError, MeshErrorCode } from '../errors/index.js';
import {
  formatIdentityName,
  formatSpiffeId,
  identityNameToSpiffeId,
  IdentityError,
  isDnsLabel,
  isDnsName,
  isIdentityName,
  isSpiffeId,
  parseIdentityName,
  parseServiceAccountUsername,
  parseSpiffeId,
  spiffeIdToIdentityName,
} from './index.js';

const WEB = 'web.emojivoto.serviceaccount.identity.linkerd.cluster.local';

function errorOf(fn: () => unknown): IdentityError {
  try {
    fn();
  } catch (error) {
    if (error instanceof IdentityError) return error;
    throw error;
  }
  throw new Error('expected an IdentityError');
}

// RFC 1123 labels, kept short so that generated names stay under 253 characters.
const label = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,14}[a-z0-9])?$/);
const trustDomain = fc.array(label, { minLength: 1, maxLength: 4 }).map((labels) => labels.join('.'));
const parts = fc.record({
  serviceAccount: label,
  namespace: label,
  controlPlaneNamespace: label,
  trustDomain,
});
const badLabel = fc.oneof(
  fc.constant(''),
  fc.constant('-leading'),
  fc.constant('trailing-'),
  fc.constant('a'.repeat(64)),
  label.map((l) => `${l}_x`),
  label.map((l) => `X${l}`),
  label.map((l) => `${l}.dot`),
  label.map((l) => `${l}é`),
);

describe('identity names', () => {
  it('parses the parts of a Linkerd identity name', () => {
    expect(parseIdentityName(WEB)).toEqual({
      serviceAccount: 'web',
      namespace: 'emojivoto',
      controlPlaneNamespace: 'linkerd',
      trustDomain: 'cluster.local',
    });
    expect(parseIdentityName('a.b.serviceaccount.identity.cp.example').trustDomain).toBe('example');
    expect(parseIdentityName('a.b.serviceaccount.identity.cp.x.y.z.example.org').trustDomain).toBe(
      'x.y.z.example.org',
    );
  });

  it('formats with Linkerd defaults', () => {
    expect(formatIdentityName({ serviceAccount: 'web', namespace: 'emojivoto' })).toBe(WEB);
    expect(
      formatIdentityName({
        serviceAccount: 'a',
        namespace: 'b',
        controlPlaneNamespace: 'l5d',
        trustDomain: 'corp.example',
      }),
    ).toBe('a.b.serviceaccount.identity.l5d.corp.example');
  });

  it('says which part is wrong and where', () => {
    const upper = errorOf(() =>
      parseIdentityName('web.EmojiVoto.serviceaccount.identity.linkerd.cluster.local', {
        where: 'CertifyRequest.identity',
      }),
    );
    expect(upper.code).toBe(MeshErrorCode.InvalidArgument);
    expect(upper.reason).toBe('invalid_name');
    expect(upper.where).toBe('CertifyRequest.identity');
    expect(upper.message).toContain('label 2 (namespace) "EmojiVoto" contains uppercase letters');
    expect(upper).toBeInstanceOf(MeshError);

    expect(
      errorOf(() => parseIdentityName('web.emojivoto.sa.identity.linkerd.cluster.local')).message,
    ).toContain('label 3 is "sa", expected "serviceaccount"');
    expect(
      errorOf(() => parseIdentityName('web.emojivoto.serviceaccount.id.linkerd.cluster.local')).message,
    ).toContain('label 4 is "id", expected "identity"');
    expect(
      errorOf(() => parseIdentityName('web.emojivoto.serviceaccount.identity.linkerd')).message,
    ).toContain('has 5 dot-separated labels');
    expect(
      errorOf(() => parseIdentityName('we_b.emojivoto.serviceaccount.identity.linkerd.cluster.local'))
        .message,
    ).toContain('label 1 (service account) "we_b" contains "_" at position 3');
    expect(
      errorOf(() => parseIdentityName('web.emojivoto.serviceaccount.identity.-cp.cluster.local')).message,
    ).toContain('control-plane namespace');
    expect(
      errorOf(() => parseIdentityName('web.emojivoto.serviceaccount.identity.linkerd.cluster..local'))
        .message,
    ).toContain('trust domain "cluster..local": label 2 ("") is empty');
    expect(
      errorOf(() => parseIdentityName(`web.emojivoto.serviceaccount.identity.linkerd.${'a'.repeat(64)}`))
        .message,
    ).toContain('is 64 characters long; a DNS label has at most 63');
    const long = `web.emojivoto.serviceaccount.identity.linkerd.${Array(20).fill('abcdefghijkl').join('.')}`;
    expect(errorOf(() => parseIdentityName(long)).message).toContain('a DNS name has at most 253');
    expect(errorOf(() => formatIdentityName({ serviceAccount: 'Web', namespace: 'x' })).message).toContain(
      'service account "Web"',
    );
    expect(isIdentityName(WEB)).toBe(true);
    expect(isIdentityName(`${WEB}.`)).toBe(false);
  });

  it('round-trips format and parse (property)', () => {
    fc.assert(
      fc.property(parts, (p) => {
        const text = formatIdentityName(p);
        expect(parseIdentityName(text)).toEqual(p);
        expect(isDnsName(text)).toBe(true);
      }),
    );
  });

  it('rejects any invalid label in any position (property)', () => {
    fc.assert(
      fc.property(
        parts,
        badLabel,
        fc.constantFrom('serviceAccount', 'namespace', 'controlPlaneNamespace'),
        (p, bad, field) => {
          const broken = { ...p, [field]: bad };
          const error = errorOf(() => formatIdentityName(broken));
          expect(error.reason).toBe('invalid_name');
          expect(isDnsLabel(bad)).toBe(false);
          const text = `${broken.serviceAccount}.${broken.namespace}.serviceaccount.identity.${broken.controlPlaneNamespace}.${broken.trustDomain}`;
          // A dotted control-plane namespace just moves labels into the trust domain: still a valid name.
          if (!(field === 'controlPlaneNamespace' && bad.includes('.')))
            expect(isIdentityName(text)).toBe(false);
        },
      ),
    );
  });
});

describe('SPIFFE IDs', () => {
  it('converts between the DNS and SPIFFE forms', () => {
    expect(identityNameToSpiffeId(WEB)).toBe('spiffe://cluster.local/ns/emojivoto/sa/web');
    expect(spiffeIdToIdentityName('spiffe://cluster.local/ns/emojivoto/sa/web')).toBe(WEB);
    expect(spiffeIdToIdentityName('spiffe://corp.example/ns/a/sa/b', { controlPlaneNamespace: 'l5d' })).toBe(
      'b.a.serviceaccount.identity.l5d.corp.example',
    );
    expect(formatSpiffeId(parseIdentityName(WEB))).toBe('spiffe://cluster.local/ns/emojivoto/sa/web');
  });

  it('rejects what is not a workload SPIFFE ID, saying why', () => {
    const cases: Array<[string, string]> = [
      ['https://cluster.local/ns/a/sa/b', 'does not start with spiffe://'],
      ['spiffe://cluster.local/ns/a/sa/b/', 'path must be /ns/<namespace>/sa/<serviceaccount>'],
      ['spiffe://cluster.local/ns/a', 'path must be'],
      ['spiffe://cluster.local', 'path must be'],
      ['spiffe://cluster.local:8443/ns/a/sa/b', 'contains ":" at position 23'],
      ['spiffe://cluster.local/ns/a/sa/b?x=1', 'contains "?"'],
      ['spiffe://Cluster.local/ns/a/sa/b', 'contains uppercase letters'],
      ['spiffe://cluster_local/ns/a/sa/b', 'trust domain "cluster_local"'],
      ['spiffe://cluster.local/ns/A/sa/b', 'namespace "A"'],
      ['spiffe://cluster.local/ns/a/sa/b.c', 'service account "b.c"'],
      ['spiffe:///ns/a/sa/b', 'trust domain "": is empty'],
    ];
    for (const [uri, expected] of cases) {
      const error = errorOf(() => parseSpiffeId(uri));
      expect(error.reason, uri).toBe('invalid_name');
      expect(error.message, uri).toContain(expected);
      expect(isSpiffeId(uri)).toBe(false);
    }
  });

  it('round-trips SPIFFE IDs and conversions (property)', () => {
    fc.assert(
      fc.property(parts, (p) => {
        const dns = formatIdentityName(p);
        const spiffe = identityNameToSpiffeId(dns);
        expect(parseSpiffeId(spiffe)).toEqual({
          trustDomain: p.trustDomain,
          namespace: p.namespace,
          serviceAccount: p.serviceAccount,
        });
        expect(spiffeIdToIdentityName(spiffe, { controlPlaneNamespace: p.controlPlaneNamespace })).toBe(dns);
        expect(formatSpiffeId(parseSpiffeId(spiffe))).toBe(spiffe);
      }),
    );
  });

  it('never throws anything but an invalid_name IdentityError on arbitrary input (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 120 }), (text) => {
        for (const parse of [parseIdentityName, parseSpiffeId] as const) {
          try {
            parse(text);
          } catch (error) {
            expect(error).toBeInstanceOf(IdentityError);
            expect((error as IdentityError).reason).toBe('invalid_name');
          }
        }
      }),
    );
  });
});

describe('service account usernames', () => {
  it('parses TokenReview usernames', () => {
    expect(parseServiceAccountUsername('system:serviceaccount:emojivoto:web')).toEqual({
      namespace: 'emojivoto',
      serviceAccount: 'web',
    });
    expect(formatIdentityName(parseServiceAccountUsername('system:serviceaccount:emojivoto:web'))).toBe(WEB);
    expect(errorOf(() => parseServiceAccountUsername('system:node:worker-1')).message).toContain(
      'is not a service account username',
    );
    expect(
      errorOf(() => parseServiceAccountUsername('system:serviceaccount:emojivoto:web.v2')).message,
    ).toContain('service account "web.v2"');
  });
});
