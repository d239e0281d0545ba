import { describe, expect, it, vi } from 'vitest';
import { MeshError } from '@tsmesh/core';
import {
  createCachedTokenValidator,
  createLocalTokenIssuer,
  createLocalTokenValidator,
  createTokenReviewValidator,
  readJwtExpiryMs,
  serviceAccountOfUsername,
  type TokenReviewApi,
  type TokenValidator,
} from './index.js';

const codeOf = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (err) {
    return MeshError.is(err) ? err.code : 'not-mesh';
  }
  return 'resolved';
};

describe('serviceAccountOfUsername', () => {
  it('parses system:serviceaccount:<ns>:<sa>', () => {
    expect(serviceAccountOfUsername('system:serviceaccount:emojivoto:web')).toEqual({
      namespace: 'emojivoto',
      serviceAccount: 'web',
    });
  });
  it('refuses users and malformed names', () => {
    expect(() => serviceAccountOfUsername('alice')).toThrow(/not a ServiceAccount/);
    expect(() => serviceAccountOfUsername('system:serviceaccount:a')).toThrow(/not a ServiceAccount/);
    expect(() => serviceAccountOfUsername('system:serviceaccount:a:b:c')).toThrow(/not a ServiceAccount/);
  });
});

describe('local tokens', () => {
  it('round-trips a minted token', async () => {
    const issuer = createLocalTokenIssuer();
    const validator = createLocalTokenValidator({ publicKey: issuer.publicKey });
    const token = issuer.mint({ namespace: 'ns1', serviceAccount: 'sa1', lifetimeMs: 3600_000 });
    const subject = await validator.validate(token);
    expect(subject).toMatchObject({ namespace: 'ns1', serviceAccount: 'sa1' });
    expect(subject.expiresAtMs).toBe(readJwtExpiryMs(token));
  });

  it('refuses expired, tampered, foreign and wrong-audience tokens', async () => {
    let now = Date.now();
    const issuer = createLocalTokenIssuer({ now: () => now });
    const validator = createLocalTokenValidator({ publicKey: issuer.publicKey, now: () => now });
    const token = issuer.mint({ namespace: 'ns1', serviceAccount: 'sa1', lifetimeMs: 10_000 });
    const [h, p, s] = token.split('.') as [string, string, string];
    const forged = Buffer.from(Buffer.from(p, 'base64url').toString().replace('sa1', 'sa2')).toString(
      'base64url',
    );
    await expect(validator.validate(`${h}.${forged}.${s}`)).rejects.toThrow(/bad signature/);
    const other = createLocalTokenIssuer().mint({ namespace: 'ns1', serviceAccount: 'sa1' });
    await expect(validator.validate(other)).rejects.toThrow(/bad signature/);
    const aud = issuer.mint({ namespace: 'ns1', serviceAccount: 'sa1', audience: 'other' });
    await expect(validator.validate(aud)).rejects.toThrow(/audience/);
    await expect(validator.validate('garbage')).rejects.toThrow(/not a JWT/);
    expect(await codeOf(validator.validate('a.b.c'))).toBe('unauthenticated');
    now += 120_000;
    await expect(validator.validate(token)).rejects.toThrow(/expired/);
  });
});

describe('TokenReview validator', () => {
  const answer = (status: object) => ({
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenReview',
    spec: {},
    status,
  });

  it('reviews with identity.l5d.io and falls back without audiences on an audience error', async () => {
    const calls: unknown[] = [];
    const api: TokenReviewApi = {
      createTokenReview: vi.fn(async ({ body }) => {
        calls.push(body.spec.audiences);
        return body.spec.audiences
          ? answer({
              authenticated: false,
              error:
                '[invalid bearer token, token audiences ["api"] is invalid for the target audiences ["identity.l5d.io"]]',
            })
          : answer({ authenticated: true, user: { username: 'system:serviceaccount:ns:sa' } });
      }) as TokenReviewApi['createTokenReview'],
    };
    const subject = await createTokenReviewValidator({ api }).validate('tok');
    expect(subject).toMatchObject({ namespace: 'ns', serviceAccount: 'sa' });
    expect(calls).toEqual([['identity.l5d.io'], undefined]);
  });

  it('maps rejection to unauthenticated and API failure to unavailable', async () => {
    const rejecting: TokenReviewApi = {
      createTokenReview: (async () =>
        answer({
          authenticated: false,
          error: 'invalid bearer token',
        })) as TokenReviewApi['createTokenReview'],
    };
    expect(await codeOf(createTokenReviewValidator({ api: rejecting }).validate('tok'))).toBe(
      'unauthenticated',
    );
    const user: TokenReviewApi = {
      createTokenReview: (async () =>
        answer({ authenticated: true, user: { username: 'admin' } })) as TokenReviewApi['createTokenReview'],
    };
    expect(await codeOf(createTokenReviewValidator({ api: user }).validate('tok'))).toBe('unauthenticated');
    const down: TokenReviewApi = {
      createTokenReview: (async () => {
        throw new Error('connect ECONNREFUSED');
      }) as TokenReviewApi['createTokenReview'],
    };
    expect(await codeOf(createTokenReviewValidator({ api: down }).validate('tok'))).toBe('unavailable');
    const hanging: TokenReviewApi = {
      createTokenReview: (() => new Promise(() => {})) as TokenReviewApi['createTokenReview'],
    };
    const slow = createTokenReviewValidator({ api: hanging }).validate('tok', { timeoutMs: 20 });
    await expect(slow).rejects.toThrow(/TokenReview failed: no answer within 20 ms/);
  });
});

describe('cached validator', () => {
  it('caches successes until expiry, not failures, and stays bounded', async () => {
    let now = 1_000_000;
    let calls = 0;
    const inner: TokenValidator = {
      async validate(token) {
        calls++;
        if (token.startsWith('bad')) throw new Error('no');
        return { namespace: 'ns', serviceAccount: token, expiresAtMs: now + 5_000 };
      },
    };
    const cached = createCachedTokenValidator(inner, { maxEntries: 2, now: () => now });
    await Promise.all([cached.validate('a'), cached.validate('a')]);
    await cached.validate('a');
    expect(calls).toBe(1);
    await expect(cached.validate('bad')).rejects.toThrow();
    await expect(cached.validate('bad')).rejects.toThrow();
    expect(calls).toBe(3);
    await cached.validate('b');
    await cached.validate('c');
    expect(cached.size).toBe(2);
    now += 6_000;
    await cached.validate('c');
    expect(calls).toBe(6);
  });
});
