// A retry budget (Finagle's, used by linkerd2-proxy for ServiceProfile retries): retries may add
// at most `ratio` of the recent request rate, plus a floor of `minPerSecond` retries, counted over
// a sliding `ttlMs` window. Each original request counts for `ratio` tokens; each retry withdraws one.
// Linkerd's defaults are ratio 0.2, 10 per second, TTL 10s.

export interface RetryBudgetOptions {
  readonly ratio: number;
  readonly minPerSecond: number;
  readonly ttlMs: number;
  readonly now?: () => number;
}

export interface RetryBudget {
  /** An original request passed: deposit. */
  deposit(): void;
  /** Takes one retry from the budget; false when it is spent. */
  tryWithdraw(): boolean;
}

export const DEFAULT_RETRY_BUDGET: RetryBudgetOptions = Object.freeze({
  ratio: 0.2,
  minPerSecond: 10,
  ttlMs: 10_000,
});

/** Buckets of the window: the window slides in these steps. */
const SLOTS = 10;

export function createRetryBudget(options: RetryBudgetOptions): RetryBudget {
  const now = options.now ?? Date.now;
  const ttlMs = Math.max(SLOTS, options.ttlMs);
  const slotMs = ttlMs / SLOTS;
  const ratio = Math.max(0, options.ratio);
  const reserve = Math.max(0, options.minPerSecond) * (ttlMs / 1000);
  const deposits = new Float64Array(SLOTS);
  const withdrawals = new Float64Array(SLOTS);
  let slot = Math.floor(now() / slotMs);

  const advance = () => {
    const current = Math.floor(now() / slotMs);
    const steps = Math.min(SLOTS, current - slot);
    for (let i = 1; i <= steps; i++) {
      const k = (slot + i) % SLOTS;
      deposits[k] = 0;
      withdrawals[k] = 0;
    }
    if (current > slot) slot = current;
    return slot % SLOTS;
  };
  const sum = (a: Float64Array) => a.reduce((s, v) => s + v, 0);

  return {
    deposit() {
      const k = advance();
      deposits[k] = (deposits[k] as number) + 1;
    },
    tryWithdraw() {
      const k = advance();
      // Requests are counted whole and scaled once, so 100 × 0.2 is 20, not 19.999….
      const balance = reserve + ratio * sum(deposits) - sum(withdrawals);
      if (balance < 1 - 1e-9) return false;
      withdrawals[k] = (withdrawals[k] as number) + 1;
      return true;
    },
  };
}
