// Tokens for local mode (no cluster): the local control plane mints ES256 JWTs that look like
// Kubernetes projected ServiceAccount tokens (sub = system:serviceaccount:<ns>:<sa>, aud, exp), and
// the identity service checks them with the matching public key. Same claims as Kubernetes, so a
// proxy cannot tell the difference and the Certify path is the same in both modes.
import { createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { IDENTITY_TOKEN_AUDIENCE, MeshError, MeshErrorCode } from '@tsmesh/core';
import { serviceAccountOfUsername, type TokenSubject, type TokenValidator } from './token-validator.js';

export const LOCAL_TOKEN_ISSUER = 'tsmesh-local';
const DEFAULT_LIFETIME_MS = 24 * 3600_000;
/** Clock-skew allowance for exp/nbf, as Kubernetes' JWT validation allows. */
const LEEWAY_MS = 60_000;

export interface MintOptions {
  readonly namespace: string;
  readonly serviceAccount: string;
  /** Default identity.l5d.io. */
  readonly audience?: string;
  readonly lifetimeMs?: number;
}

export interface LocalTokenIssuer {
  /** The key tokens are verified with; give it to createLocalTokenValidator. */
  readonly publicKey: KeyObject;
  mint(options: MintOptions): string;
}

export interface LocalTokenIssuerOptions {
  /** An EC P-256 private key; generated when omitted. */
  readonly privateKey?: KeyObject;
  readonly issuer?: string;
  readonly now?: () => number;
}

export function createLocalTokenIssuer(options: LocalTokenIssuerOptions = {}): LocalTokenIssuer {
  const privateKey = options.privateKey ?? generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  if (privateKey.asymmetricKeyType !== 'ec' || privateKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new MeshError(MeshErrorCode.Config, 'local token issuer key must be ECDSA P-256');
  }
  const issuer = options.issuer ?? LOCAL_TOKEN_ISSUER;
  const now = options.now ?? Date.now;
  return {
    publicKey: createPublicKey(privateKey),
    mint({
      namespace,
      serviceAccount,
      audience = IDENTITY_TOKEN_AUDIENCE,
      lifetimeMs = DEFAULT_LIFETIME_MS,
    }) {
      const iat = Math.floor(now() / 1000);
      const header = b64json({ alg: 'ES256', typ: 'JWT' });
      const payload = b64json({
        iss: issuer,
        sub: `system:serviceaccount:${namespace}:${serviceAccount}`,
        aud: [audience],
        iat,
        nbf: iat,
        exp: iat + Math.max(1, Math.floor(lifetimeMs / 1000)),
        'kubernetes.io': { namespace, serviceaccount: { name: serviceAccount } },
      });
      const signingInput = `${header}.${payload}`;
      const signature = sign('sha256', Buffer.from(signingInput), {
        key: privateKey,
        dsaEncoding: 'ieee-p1363',
      });
      return `${signingInput}.${signature.toString('base64url')}`;
    },
  };
}

export interface LocalTokenValidatorOptions {
  /** The issuer's public key (KeyObject or SPKI PEM). */
  readonly publicKey: KeyObject | string;
  readonly audience?: string;
  readonly issuer?: string;
  readonly now?: () => number;
}

export function createLocalTokenValidator(options: LocalTokenValidatorOptions): TokenValidator {
  let key: KeyObject;
  try {
    key = typeof options.publicKey === 'string' ? createPublicKey(options.publicKey) : options.publicKey;
  } catch (err) {
    throw new MeshError(MeshErrorCode.Config, 'the local token key is not a PEM public key', {
      cause: err,
      hint: 'give the SPKI PEM of the local control plane token key (-----BEGIN PUBLIC KEY-----)',
    });
  }
  const audience = options.audience ?? IDENTITY_TOKEN_AUDIENCE;
  const issuer = options.issuer ?? LOCAL_TOKEN_ISSUER;
  const now = options.now ?? Date.now;
  const reject = (why: string) =>
    new MeshError(MeshErrorCode.Unauthenticated, `invalid token: ${why}`, {
      hint: 'use a token minted by the local control plane',
    });

  return {
    async validate(token: string): Promise<TokenSubject> {
      const parts = token.split('.');
      if (parts.length !== 3) throw reject('not a JWT (expected three dot-separated parts)');
      const [h, p, s] = parts as [string, string, string];
      let header: { alg?: unknown };
      let claims: Record<string, unknown>;
      try {
        header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as { alg?: unknown };
        claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as Record<string, unknown>;
      } catch {
        throw reject('header or payload is not base64url JSON');
      }
      if (header.alg !== 'ES256') throw reject(`algorithm ${String(header.alg)} is not ES256`);
      const ok = verify(
        'sha256',
        Buffer.from(`${h}.${p}`),
        { key, dsaEncoding: 'ieee-p1363' },
        Buffer.from(s, 'base64url'),
      );
      if (!ok) throw reject('bad signature');
      if (claims.iss !== issuer) throw reject(`issuer ${JSON.stringify(claims.iss)} is not ${issuer}`);
      const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
      if (!aud.includes(audience))
        throw reject(`audience ${JSON.stringify(claims.aud)} does not include ${audience}`);
      const nowMs = now();
      if (typeof claims.exp !== 'number' || claims.exp * 1000 + LEEWAY_MS <= nowMs)
        throw reject('token has expired');
      if (typeof claims.nbf === 'number' && claims.nbf * 1000 - LEEWAY_MS > nowMs)
        throw reject('token is not valid yet');
      if (typeof claims.sub !== 'string') throw reject('no subject');
      const { namespace, serviceAccount } = serviceAccountOfUsername(claims.sub);
      return { namespace, serviceAccount, expiresAtMs: claims.exp * 1000 };
    },
  };
}

function b64json(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}
