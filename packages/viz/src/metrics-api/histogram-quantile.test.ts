import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { histogramQuantile } from './histogram-quantile.js';

describe('histogramQuantile (Prometheus bucketQuantile)', () => {
  const h = new Map([
    [10, 50],
    [20, 90],
    [50, 100],
    [Infinity, 100],
  ]);
  it('interpolates linearly inside the bucket holding the rank', () => {
    expect(histogramQuantile(0.5, h)).toBe(10); // rank 50: end of the first bucket
    expect(histogramQuantile(0.25, h)).toBe(5); // first bucket starts at 0
    expect(histogramQuantile(0.7, h)).toBe(15); // rank 70: 20 of 40 into (10, 20]
    expect(histogramQuantile(0.95, h)).toBe(35); // rank 95: 5 of 10 into (20, 50]
  });
  it('answers the highest finite bound for a rank in +Inf, NaN without observations or +Inf', () => {
    expect(
      histogramQuantile(
        0.99,
        new Map([
          [1, 1],
          [5, 2],
          [Infinity, 10],
        ]),
      ),
    ).toBe(5);
    expect(
      histogramQuantile(
        0.5,
        new Map([
          [1, 0],
          [Infinity, 0],
        ]),
      ),
    ).toBeNaN();
    expect(
      histogramQuantile(
        0.5,
        new Map([
          [1, 4],
          [5, 8],
        ]),
      ),
    ).toBeNaN();
    // q = 0 with every observation in +Inf: rank 0 falls in the first (empty) bucket.
    expect(
      histogramQuantile(
        0,
        new Map([
          [1, 0],
          [5, 0],
          [Infinity, 1],
        ]),
      ),
    ).toBe(0);
    expect(histogramQuantile(-1, h)).toBe(-Infinity);
    expect(histogramQuantile(2, h)).toBe(Infinity);
  });
  it('is monotonic in q and stays within the finite bounds (fast-check)', () => {
    const bounds = [1, 2, 3, 4, 5, 10, 20, 50, 100];
    fc.assert(
      fc.property(
        fc.array(fc.nat(1000), { minLength: bounds.length + 1, maxLength: bounds.length + 1 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (counts, a, b) => {
          let cum = 0;
          const buckets = new Map<number, number>();
          [...bounds, Infinity].forEach((le, i) => buckets.set(le, (cum += counts[i]!)));
          if (cum === 0) return;
          const [lo, hi] = a < b ? [a, b] : [b, a];
          const x = histogramQuantile(lo, buckets);
          const y = histogramQuantile(hi, buckets);
          expect(x).toBeLessThanOrEqual(y + 1e-9);
          expect(x).toBeGreaterThanOrEqual(0);
          expect(y).toBeLessThanOrEqual(100);
        },
      ),
    );
  });
});
