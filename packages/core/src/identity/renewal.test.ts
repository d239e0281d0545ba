import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expiresInMs, IdentityError, renewalDelayMs, renewalTime } from './index.js';

const HOUR = 3_600_000;
const now = new Date('2026-06-01T00:00:00Z');
const expiringIn = (ms: number) => ({ notAfter: new Date(now.getTime() + ms) });

describe('renewal', () => {
  it('renews at 70 % of the time left, as linkerd2-proxy does', () => {
    expect(renewalDelayMs(expiringIn(24 * HOUR), 0.7, { now })).toBe(16.8 * HOUR);
    expect(renewalTime(expiringIn(24 * HOUR), 0.7, { now })).toEqual(new Date(now.getTime() + 16.8 * HOUR));
    expect(renewalTime(expiringIn(10 * HOUR), undefined, { now })).toEqual(
      new Date(now.getTime() + 7 * HOUR),
    );
  });

  it('stays within [10 s, 24 h]', () => {
    expect(renewalDelayMs(expiringIn(5_000), 0.7, { now })).toBe(10_000);
    expect(renewalDelayMs(expiringIn(-HOUR), 0.7, { now })).toBe(10_000);
    expect(renewalDelayMs(expiringIn(365 * 24 * HOUR), 0.7, { now })).toBe(24 * HOUR);
    expect(renewalDelayMs(expiringIn(HOUR), 0.5, { now, minRefreshMs: 0, maxRefreshMs: 60_000 })).toBe(
      60_000,
    );
  });

  it('is always within the bounds (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -1e10, max: 1e11 }),
        fc.double({ min: 0.01, max: 1, noNaN: true }),
        (left, fraction) => {
          const delay = renewalDelayMs(expiringIn(left), fraction, { now });
          expect(delay).toBeGreaterThanOrEqual(10_000);
          expect(delay).toBeLessThanOrEqual(24 * HOUR);
          if (left > 10_000) expect(delay).toBeLessThanOrEqual(Math.max(10_000, left));
        },
      ),
    );
  });

  it('refuses a fraction outside (0, 1]', () => {
    for (const fraction of [0, -0.5, 1.5, Number.NaN]) {
      expect(() => renewalDelayMs(expiringIn(HOUR), fraction, { now })).toThrow(IdentityError);
    }
  });

  it('tells how long is left', () => {
    expect(expiresInMs(expiringIn(HOUR), now)).toBe(HOUR);
    expect(expiresInMs(expiringIn(-5), now)).toBe(-5);
  });
});
