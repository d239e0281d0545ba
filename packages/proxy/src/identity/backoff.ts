// Exponential backoff as a value: min, max and jitter, `next()` for the next delay, `reset()` after
// a success. Full jitter would make the first retry arbitrarily short; this jitters ±ratio around
// the exponential step instead, as linkerd2-proxy's ExponentialBackoff does.

export interface BackoffOptions {
  readonly minMs: number;
  readonly maxMs: number;
  /** 0..1: each delay is multiplied by a random factor in [1 - jitter, 1 + jitter]. */
  readonly jitter: number;
  readonly random?: () => number;
}

export interface Backoff {
  next(): number;
  reset(): void;
  readonly attempts: number;
}

export function createBackoff(options: BackoffOptions): Backoff {
  if (
    !(options.minMs > 0) ||
    !(options.maxMs >= options.minMs) ||
    !(options.jitter >= 0 && options.jitter <= 1)
  ) {
    throw new RangeError(
      `invalid backoff: min ${options.minMs} ms, max ${options.maxMs} ms, jitter ${options.jitter}`,
    );
  }
  const random = options.random ?? Math.random;
  let attempts = 0;
  return {
    get attempts() {
      return attempts;
    },
    next() {
      const base = Math.min(options.maxMs, options.minMs * 2 ** Math.min(attempts, 30));
      attempts++;
      const factor = 1 + options.jitter * (2 * random() - 1);
      return Math.max(1, Math.min(options.maxMs, Math.round(base * factor)));
    },
    reset() {
      attempts = 0;
    },
  };
}
