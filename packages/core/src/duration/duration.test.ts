import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDurationMs } from './duration.js';

describe('parseDurationMs', () => {
  it.each([
    ['100ms', 100],
    ['10s', 10_000],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['1d', 86_400_000],
    ['1.5s', 1500],
    ['1h30m', 5_400_000],
    ['0', 0],
  ])('%s → %d', (text, ms) => expect(parseDurationMs(text)).toBe(ms));

  it.each(['', '10', 's', '-1s', '10 s', '1y', '1h 30m', '1h30'])('rejects %j', (text) =>
    expect(parseDurationMs(text)).toBeUndefined(),
  );

  it('limits units when asked (Go durations have no days)', () => {
    expect(parseDurationMs('1d', { units: ['ms', 's', 'm', 'h'] })).toBeUndefined();
    expect(parseDurationMs('1h30m', { units: ['ms', 's', 'm', 'h'] })).toBe(5_400_000);
  });

  it('round-trips whole milliseconds and sums parts', () => {
    fc.assert(fc.property(fc.nat(1e9), (n) => parseDurationMs(`${n}ms`) === n));
    fc.assert(
      fc.property(
        fc.nat(1000),
        fc.nat(59),
        (m, s) => parseDurationMs(`${m}m${s}s`) === m * 60_000 + s * 1000,
      ),
    );
  });
});
