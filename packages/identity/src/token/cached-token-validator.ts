// Successful reviews are cached until the token expires, so a busy identity service (every proxy
// renews daily, many at once after a rollout) does not send one TokenReview per Certify. Only
// successes are cached; a rejected token is reviewed again next time. The cache is bounded: the
// least recently used entry goes first. Concurrent validations of the same token share one review.
import type { TokenSubject, TokenValidator, ValidateOptions } from './token-validator.js';

export interface CachedTokenValidatorOptions {
  readonly maxEntries?: number;
  /** Upper bound on how long a review is trusted, even for long-lived tokens. Default 10 min. */
  readonly maxTtlMs?: number;
  readonly now?: () => number;
  /** Told about hits and misses (for metrics). */
  readonly onLookup?: (hit: boolean) => void;
}

export interface CachedTokenValidator extends TokenValidator {
  readonly size: number;
  clear(): void;
}

export function createCachedTokenValidator(
  inner: TokenValidator,
  options: CachedTokenValidatorOptions = {},
): CachedTokenValidator {
  const maxEntries = options.maxEntries ?? 10_000;
  const maxTtlMs = options.maxTtlMs ?? 10 * 60_000;
  const now = options.now ?? Date.now;
  const entries = new Map<string, { subject: TokenSubject; untilMs: number }>();
  const inFlight = new Map<string, Promise<TokenSubject>>();

  return {
    get size() {
      return entries.size;
    },
    clear() {
      entries.clear();
    },
    async validate(token: string, validateOptions?: ValidateOptions): Promise<TokenSubject> {
      const cached = entries.get(token);
      const t = now();
      if (cached) {
        if (cached.untilMs > t) {
          // Re-insert to mark it most recently used.
          entries.delete(token);
          entries.set(token, cached);
          options.onLookup?.(true);
          return cached.subject;
        }
        entries.delete(token);
      }
      options.onLookup?.(false);
      let pending = inFlight.get(token);
      if (!pending) {
        pending = inner.validate(token, validateOptions).finally(() => inFlight.delete(token));
        inFlight.set(token, pending);
      }
      const subject = await pending;
      const untilMs = Math.min(subject.expiresAtMs ?? Infinity, now() + maxTtlMs);
      if (untilMs > now()) {
        entries.delete(token);
        entries.set(token, { subject, untilMs });
        while (entries.size > maxEntries) {
          const oldest = entries.keys().next().value as string;
          entries.delete(oldest);
        }
      }
      return subject;
    },
  };
}
