// What the identity service needs to know about the token a proxy presents: who it is (the
// ServiceAccount and its namespace) and until when that is true. Kubernetes mode asks the API
// server (TokenReview); local mode checks tokens minted by the local control plane. Both sit
// behind this one interface so the Certify handler does not care which is in use.
import { MeshError, MeshErrorCode } from '@tsmesh/core';

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

const SA_PREFIX = 'system:serviceaccount:';

/** Parse a Kubernetes username `system:serviceaccount:<ns>:<sa>`. */
export function parseServiceAccountUsername(username: string): { namespace: string; serviceAccount: string } {
  if (!username.startsWith(SA_PREFIX)) {
    throw new MeshError(
      MeshErrorCode.Unauthenticated,
      `token belongs to "${username}", not a ServiceAccount`,
      {
        hint: 'use a ServiceAccount token (a projected token with audience identity.l5d.io)',
      },
    );
  }
  const parts = username.slice(SA_PREFIX.length).split(':');
  if (parts.length !== 2 || !parts[0] || !parts[1]) {
    throw new MeshError(MeshErrorCode.Unauthenticated, `malformed ServiceAccount username "${username}"`, {
      hint: 'expected system:serviceaccount:<namespace>:<name>',
    });
  }
  return { namespace: parts[0], serviceAccount: parts[1] };
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
