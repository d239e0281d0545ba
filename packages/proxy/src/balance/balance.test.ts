import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createPeakEwma, pickP2c } from './index.js';

describe('peak EWMA', () => {
  it('starts at the default RTT and takes a slower sample at once (the peak)', () => {
    const e = createPeakEwma({ defaultRttMs: 30, decayMs: 10_000 });
    expect(e.rttAt(0)).toBe(30);
    e.observe(10, 0);
    e.observe(500, 1);
    expect(e.rttAt(1)).toBe(500);
  });

  it('property: the estimate stays within [0, max sample] and never rises without a sample', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.double({ min: 0, max: 1e5, noNaN: true }), fc.integer({ min: 0, max: 5000 })), {
          minLength: 1,
          maxLength: 50,
        }),
        (samples) => {
          const e = createPeakEwma({ defaultRttMs: 30, decayMs: 1000 });
          let now = 0;
          let max = 0;
          for (const [rtt, dt] of samples) {
            now += dt;
            e.observe(rtt, now);
            max = Math.max(max, rtt);
            const v = e.rttAt(now);
            expect(v).toBeGreaterThanOrEqual(0);
            expect(v).toBeLessThanOrEqual(max + 1e-9);
            expect(e.rttAt(now + 100)).toBeLessThanOrEqual(v + 1e-9);
          }
        },
      ),
    );
  });

  it('property: the estimate converges to a steady sample', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 1, max: 1000, noNaN: true }),
        fc.double({ min: 1, max: 1000, noNaN: true }),
        (a, b) => {
          const e = createPeakEwma({ defaultRttMs: a, decayMs: 100 });
          e.observe(a, 0);
          for (let t = 1; t <= 200; t++) e.observe(b, t * 10);
          expect(Math.abs(e.rttAt(2000) - b)).toBeLessThan(Math.max(1, b * 0.05));
        },
      ),
    );
  });

  it('cost grows with requests in flight', () => {
    const e = createPeakEwma({ defaultRttMs: 10, decayMs: 1000 });
    const c0 = e.costAt(0);
    const done = e.start();
    expect(e.costAt(0)).toBeGreaterThan(c0);
    done();
    done();
    expect(e.pending).toBe(0);
  });
});

describe('P2C', () => {
  it('property: picks a valid index and never the strictly costliest of several', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 20 }),
        fc.double({ min: 0, max: 0.999999, noNaN: true }),
        fc.double({ min: 0, max: 0.999999, noNaN: true }),
        (costs, r1, r2) => {
          const rs = [r1, r2];
          let i = 0;
          const pick = pickP2c(
            costs.length,
            (k) => costs[k] as number,
            () => rs[i++ % 2] as number,
          );
          expect(pick).toBeGreaterThanOrEqual(0);
          expect(pick).toBeLessThan(costs.length);
          const max = Math.max(...costs);
          const unique = costs.filter((c) => c === max).length === 1;
          if (costs.length > 1 && unique) expect(costs[pick]).toBeLessThan(max);
        },
      ),
    );
  });

  it('with a slow endpoint among fast ones, sends it a small share', () => {
    const costs = [1, 1, 1, 100];
    const counts = [0, 0, 0, 0];
    for (let n = 0; n < 10_000; n++) (counts[pickP2c(4, (k) => costs[k] as number)] as number)++;
    expect(counts[3]).toBe(0);
    expect(pickP2c(0, () => 0)).toBe(-1);
  });
});
