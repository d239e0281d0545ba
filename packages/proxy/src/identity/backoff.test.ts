import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createBackoff } from './backoff.js';

describe('createBackoff', () => {
  it('doubles from min to max and resets', () => {
    const b = createBackoff({ minMs: 100, maxMs: 1000, jitter: 0 });
    expect([b.next(), b.next(), b.next(), b.next(), b.next()]).toEqual([100, 200, 400, 800, 1000]);
    b.reset();
    expect(b.next()).toBe(100);
  });

  it('stays within [1, max] for any jitter and attempt count', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 0, max: 100_000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer({ min: 1, max: 80 }),
        (minMs, extra, jitter, n) => {
          const b = createBackoff({ minMs, maxMs: minMs + extra, jitter });
          for (let i = 0; i < n; i++) {
            const d = b.next();
            expect(d).toBeGreaterThanOrEqual(1);
            expect(d).toBeLessThanOrEqual(minMs + extra);
          }
        },
      ),
    );
  });

  it('refuses nonsense', () => {
    expect(() => createBackoff({ minMs: 0, maxMs: 1, jitter: 0 })).toThrow(RangeError);
    expect(() => createBackoff({ minMs: 10, maxMs: 5, jitter: 0 })).toThrow(RangeError);
    expect(() => createBackoff({ minMs: 1, maxMs: 5, jitter: 2 })).toThrow(RangeError);
  });
});
