import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRetryBudget } from './index.js';

describe('retry budget', () => {
  it('allows the floor, then ratio × requests, and refills as the window slides', () => {
    let t = 0;
    const b = createRetryBudget({ ratio: 0.5, minPerSecond: 1, ttlMs: 2000, now: () => t });
    expect(b.tryWithdraw()).toBe(true);
    expect(b.tryWithdraw()).toBe(true);
    expect(b.tryWithdraw()).toBe(false);
    for (let i = 0; i < 4; i++) b.deposit();
    expect(b.tryWithdraw()).toBe(true);
    expect(b.tryWithdraw()).toBe(true);
    expect(b.tryWithdraw()).toBe(false);
    t = 2500;
    expect(b.tryWithdraw()).toBe(true);
  });

  it('property: within one window, retries never exceed floor + ratio × requests', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer({ min: 0, max: 20 }),
        fc.array(fc.boolean(), { maxLength: 300 }),
        (ratio, minPerSecond, ops) => {
          const b = createRetryBudget({ ratio, minPerSecond, ttlMs: 1000, now: () => 0 });
          let requests = 0;
          let retries = 0;
          for (const isRequest of ops) {
            if (isRequest) {
              b.deposit();
              requests++;
            } else if (b.tryWithdraw()) retries++;
          }
          expect(retries).toBeLessThanOrEqual(minPerSecond + ratio * requests + 1e-9);
        },
      ),
    );
  });
});
