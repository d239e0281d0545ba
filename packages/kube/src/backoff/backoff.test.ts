import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MeshError } from '@tsmesh/core';
import { Backoff } from './backoff.js';

describe('Backoff', () => {
  it('doubles from min to max without jitter, and resets', () => {
    const b = new Backoff({ minMs: 100, maxMs: 1000, jitter: 0 });
    expect([b.next(), b.next(), b.next(), b.next(), b.next(), b.next()]).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ]);
    expect(b.attempt).toBe(6);
    b.reset();
    expect(b.next()).toBe(100);
  });

  it('jitter takes away up to that fraction of the delay', () => {
    const low = new Backoff({ minMs: 1000, maxMs: 1000, jitter: 0.5, random: () => 0.999999 });
    const high = new Backoff({ minMs: 1000, maxMs: 1000, jitter: 0.5, random: () => 0 });
    expect(low.next()).toBe(500);
    expect(high.next()).toBe(1000);
  });

  it('every delay lies within [min·(1−jitter), max] (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10_000 }),
        fc.integer({ min: 0, max: 100_000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 1, max: 4, noNaN: true }),
        fc.array(fc.double({ min: 0, max: 0.9999, noNaN: true }), { minLength: 1, maxLength: 40 }),
        (minMs, extra, jitter, factor, randoms) => {
          const maxMs = minMs + extra;
          let i = 0;
          const b = new Backoff({
            minMs,
            maxMs,
            jitter,
            factor,
            random: () => randoms[i++ % randoms.length]!,
          });
          for (let n = 0; n < randoms.length; n++) {
            const d = b.next();
            expect(d).toBeGreaterThanOrEqual(Math.floor(minMs * (1 - jitter)));
            expect(d).toBeLessThanOrEqual(maxMs);
          }
        },
      ),
    );
  });

  it('without jitter, delays never decrease until reset (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 0, max: 100_000 }), (minMs, extra) => {
        const b = new Backoff({ minMs, maxMs: minMs + extra, jitter: 0 });
        let last = 0;
        for (let n = 0; n < 30; n++) {
          const d = b.next();
          expect(d).toBeGreaterThanOrEqual(last);
          last = d;
        }
      }),
    );
  });

  it('rejects bad settings with a Config MeshError, and is frozen', () => {
    for (const bad of [
      { minMs: -1, maxMs: 10, jitter: 0 },
      { minMs: 10, maxMs: 5, jitter: 0 },
      { minMs: 1, maxMs: 5, jitter: 1.5 },
      { minMs: 1, maxMs: 5, jitter: 0, factor: 0.5 },
    ]) {
      expect(() => new Backoff(bad)).toThrow(MeshError);
    }
    const b = new Backoff({ minMs: 1, maxMs: 2, jitter: 0 });
    expect(Object.isFrozen(b)).toBe(true);
  });
});
