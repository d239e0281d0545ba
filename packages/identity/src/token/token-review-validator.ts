// Kubernetes TokenReview, as Linkerd's identity service does it: review with the audience the
// injector projects the token for (identity.l5d.io); if the API server reports an audience error
// (a token minted for the default audience, e.g. a legacy or non-projected token), review once
// more without audiences.
import type { AuthenticationV1Api, V1TokenReview } from '@kubernetes/client-node';
import { IDENTITY_TOKEN_AUDIENCE, MeshError, MeshErrorCode } from '@tsmesh/core';
import {
  serviceAccountOfUsername,
  readJwtExpiryMs,
  type TokenSubject,
  type TokenValidator,
  type ValidateOptions,
} from './token-validator.js';

/** The part of AuthenticationV1Api this validator uses (so tests can pass a fake). */
export type TokenReviewApi = Pick<AuthenticationV1Api, 'createTokenReview'>;

export interface TokenReviewValidatorOptions {
  readonly api: TokenReviewApi;
  /** Audience to review against; default identity.l5d.io. */
  readonly audience?: string;
}

export function createTokenReviewValidator(options: TokenReviewValidatorOptions): TokenValidator {
  const audience = options.audience ?? IDENTITY_TOKEN_AUDIENCE;
  const review = async (
    token: string,
    audiences: string[] | undefined,
    callOptions: ValidateOptions | undefined,
  ): Promise<V1TokenReview> => {
    try {
      const call = options.api.createTokenReview({
        body: {
          apiVersion: 'authentication.k8s.io/v1',
          kind: 'TokenReview',
          spec: audiences ? { token, audiences } : { token },
        },
      });
      return await withDeadline(call, callOptions);
    } catch (err) {
      throw new MeshError(MeshErrorCode.Unavailable, `TokenReview failed: ${describeApiError(err)}`, {
        cause: err,
        hint: 'the identity service could not reach the Kubernetes API; retry',
      });
    }
  };

  return {
    async validate(token: string, callOptions?: ValidateOptions): Promise<TokenSubject> {
      if (token.length === 0) {
        throw new MeshError(MeshErrorCode.Unauthenticated, 'no token in the request', {
          hint: 'send the ServiceAccount token (LINKERD2_PROXY_IDENTITY_TOKEN_FILE)',
        });
      }
      let result = await review(token, [audience], callOptions);
      let error = result.status?.error ?? '';
      if (!result.status?.authenticated && /audience/i.test(error)) {
        result = await review(token, undefined, callOptions);
        error = result.status?.error ?? '';
      }
      const status = result.status;
      if (!status?.authenticated) {
        throw new MeshError(
          MeshErrorCode.Unauthenticated,
          `token rejected by TokenReview${error ? `: ${error}` : ''}`,
          { hint: 'the token is invalid, expired, or its ServiceAccount no longer exists' },
        );
      }
      const username = status.user?.username ?? '';
      const { namespace, serviceAccount } = serviceAccountOfUsername(username);
      return { namespace, serviceAccount, expiresAtMs: readJwtExpiryMs(token) };
    },
  };
}

function describeApiError(err: unknown): string {
  if (err && typeof err === 'object') {
    const e = err as { code?: unknown; body?: unknown; message?: unknown };
    if (typeof e.code === 'number')
      return `HTTP ${e.code}${typeof e.body === 'string' ? ` ${e.body.slice(0, 200)}` : ''}`;
    if (typeof e.message === 'string') return e.message;
  }
  return String(err);
}

/**
 * The review, or a rejection once `timeoutMs` passes or `signal` aborts (the client-node call
 * cannot be cancelled; its late answer is ignored). Listeners and timers are removed either way.
 */
function withDeadline<T>(call: Promise<T>, options: ValidateOptions | undefined): Promise<T> {
  const { signal, timeoutMs } = options ?? {};
  if (!signal && timeoutMs === undefined) return call;
  return new Promise<T>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const cleanup = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    const onAbort = () => {
      cleanup();
      reject(signal?.reason ?? new Error('aborted'));
    };
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    if (timeoutMs !== undefined) {
      timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no answer within ${timeoutMs} ms`));
      }, timeoutMs);
    }
    call.then(
      (value) => {
        cleanup();
        resolve(value);
      },
      (err: unknown) => {
        cleanup();
        reject(err);
      },
    );
  });
}
