// What the identity service needs to know about the token a proxy presents: who it is (the
// ServiceAccount and its namespace) and until when that is true. Kubernetes mode asks the API
// server (TokenReview); local mode checks tokens minted by the local control plane. Both sit
// behind this one interface so the Certify handler does not care which is in use.
import { MeshError, MeshErrorCode, parseServiceAccountUsername } from '@tsmesh/core';

/** The account a token authenticates. */
export interface TokenSubject {
  readonly namespace: string;
  readonly serviceAccount: string;
  /** When the token stops being valid (ms since the epoch), if known; bounds how long it is cached. */
  readonly expiresAtMs: number | undefined;
}

export interface ValidateOptions {
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
}

/**
 * Validates a bearer token. Resolves with the subject, or rejects with a MeshError:
 * `unauthenticated` for a token that is invalid, expired or not a ServiceAccount token;
 * `unavailable` when the validator cannot decide right now (API server unreachable).
 */
export interface TokenValidator {
  validate(token: string, options?: ValidateOptions): Promise<TokenSubject>;
}

/**
 * The ServiceAccount behind a Kubernetes username `system:serviceaccount:<ns>:<sa>` (the identity
 * library's parser), refused as `unauthenticated`: a token of anything else cannot get an identity.
 */
export function serviceAccountOfUsername(username: string): { namespace: string; serviceAccount: string } {
  try {
    return parseServiceAccountUsername(username, { where: 'token username' });
  } catch (err) {
    throw new MeshError(
      MeshErrorCode.Unauthenticated,
      `token belongs to ${JSON.stringify(username)}, not a ServiceAccount`,
      {
        cause: err,
        hint: 'use a ServiceAccount token (a projected token with audience identity.l5d.io)',
      },
    );
  }
}

/**
 * The `exp` claim of a JWT, read without verifying the signature: only used to bound a cache
 * entry after the token has been validated by someone who did verify it.
 */
export function readJwtExpiryMs(token: string): number | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof claims.exp === 'number' && Number.isFinite(claims.exp) ? claims.exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}
