import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  formatSocketAddr,
  parseDurationMs,
  parsePortSet,
  parseSocketAddr,
  parseSocketAddrList,
  ValueError,
} from './parse-value.js';

describe('parseDurationMs', () => {
  it.each([
    ['100ms', 100],
    ['10s', 10_000],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['1.5s', 1500],
    ['0', 0],
  ])('%s → %d', (raw, ms) => expect(parseDurationMs(raw)).toBe(ms));
  it.each(['10', 's', '-1s', '10 s', '1y', ''])('rejects %j', (raw) =>
    expect(() => parseDurationMs(raw)).toThrow(ValueError),
  );
  it('round-trips any whole number of ms', () => {
    fc.assert(fc.property(fc.nat(1e9), (n) => parseDurationMs(`${n}ms`) === n));
  });
});

describe('parseSocketAddr', () => {
  it('parses IPv4 and bracketed IPv6', () => {
    expect(parseSocketAddr('0.0.0.0:4143')).toEqual({ host: '0.0.0.0', port: 4143, family: 4 });
    expect(parseSocketAddr('[::1]:4140')).toEqual({ host: '::1', port: 4140, family: 6 });
  });
  it.each(['localhost:80', '1.2.3.4', '::1:80', '1.2.3.4:70000', '[1.2.3.4]:80', ''])('rejects %j', (raw) =>
    expect(() => parseSocketAddr(raw)).toThrow(ValueError),
  );
  it('formats what it parses', () => {
    for (const raw of ['127.0.0.1:1', '[fd00::1]:4143'])
      expect(formatSocketAddr(parseSocketAddr(raw))).toBe(raw);
  });
  it('parses lists', () => {
    expect(parseSocketAddrList('127.0.0.1:4140, [::1]:4140').map((a) => a.family)).toEqual([4, 6]);
  });
  it('never throws anything but ValueError', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        try {
          parseSocketAddr(s);
        } catch (err) {
          return err instanceof ValueError;
        }
        return true;
      }),
    );
  });
});

describe('parsePortSet', () => {
  it('parses ports and ranges', () => {
    const set = parsePortSet('25, 587,4000-4002');
    expect(set.ports).toEqual([25, 587, 4000, 4001, 4002]);
    expect(set.has(4001)).toBe(true);
    expect(set.has(4003)).toBe(false);
  });
  it.each(['0', '65536', '5-3', 'a', '1-', '80;81'])('rejects %j', (raw) =>
    expect(() => parsePortSet(raw)).toThrow(ValueError),
  );
});
