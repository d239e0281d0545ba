import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MeshError } from '../errors/index.js';
import {
  formatIpAddress,
  networkContains,
  networkMatchContains,
  parseIpAddress,
  parseIpNetwork,
} from './ip-network.js';

const ip = (text: string) => {
  const a = parseIpAddress(text);
  if (!a) throw new Error(`bad ip ${text}`);
  return a;
};

describe('ip-network', () => {
  it('parses IPv4 and IPv6 addresses and rejects malformed ones', () => {
    expect(ip('10.1.2.3')).toEqual({ family: 4, value: 0x0a010203 });
    expect(ip('::1')).toEqual({ family: 6, value: 1n });
    expect(ip('fd00::1').family).toBe(6);
    expect(ip('::ffff:10.0.0.1')).toEqual({ family: 6, value: 0xffff0a000001n });
    for (const bad of [
      '',
      '1.2.3',
      '1.2.3.4.5',
      '256.0.0.1',
      '01.2.3.4',
      'a.b.c.d',
      '1::2::3',
      '12345::',
      'fe80:1',
    ]) {
      expect(parseIpAddress(bad), bad).toBeUndefined();
    }
  });

  it('matches CIDRs by prefix, across the families separately', () => {
    const net = parseIpNetwork('10.0.0.0/8');
    expect(networkContains(net, ip('10.255.0.1'))).toBe(true);
    expect(networkContains(net, ip('11.0.0.1'))).toBe(false);
    expect(networkContains(net, ip('::1'))).toBe(false);
    expect(networkContains(parseIpNetwork('0.0.0.0/0'), ip('198.18.0.1'))).toBe(true);
    expect(networkContains(parseIpNetwork('fd00::/8'), ip('fd12::3'))).toBe(true);
    expect(networkContains(parseIpNetwork('fd00::/8'), ip('fe80::1'))).toBe(false);
    expect(networkContains(parseIpNetwork('198.18.0.7'), ip('198.18.0.7'))).toBe(true);
    expect(parseIpNetwork('10.1.2.3/8').address).toEqual(ip('10.0.0.0'));
  });

  it('honours except holes', () => {
    const match = { net: parseIpNetwork('198.18.0.0/15'), except: [parseIpNetwork('198.18.5.0/24')] };
    expect(networkMatchContains(match, ip('198.18.4.1'))).toBe(true);
    expect(networkMatchContains(match, ip('198.18.5.1'))).toBe(false);
  });

  it('names the field in errors', () => {
    const err = (() => {
      try {
        parseIpNetwork('10.0.0.0/33', 'spec.networks[0].cidr');
      } catch (e) {
        return e;
      }
    })();
    expect(MeshError.is(err)).toBe(true);
    expect((err as MeshError).where).toBe('spec.networks[0].cidr');
    expect(() => parseIpNetwork('nope')).toThrow(/not an IP network/);
  });

  it('round-trips IPv4 addresses and agrees with a bit-level containment check (property)', () => {
    fc.assert(
      fc.property(fc.ipV4(), fc.ipV4(), fc.integer({ min: 0, max: 32 }), (a, b, len) => {
        const addr = ip(a);
        expect(formatIpAddress(addr)).toBe(a);
        const net = parseIpNetwork(`${b}/${len}`);
        const bits = (x: string) =>
          x
            .split('.')
            .map((o) => Number(o).toString(2).padStart(8, '0'))
            .join('');
        expect(networkContains(net, addr)).toBe(bits(a).slice(0, len) === bits(b).slice(0, len));
      }),
    );
  });

  it('agrees for IPv6 with a bigint reference (property)', () => {
    fc.assert(
      fc.property(fc.ipV6(), fc.ipV6(), fc.integer({ min: 0, max: 128 }), (a, b, len) => {
        const x = ip(a);
        const y = ip(b);
        const shift = BigInt(128 - len);
        const expected = (x.value as bigint) >> shift === (y.value as bigint) >> shift;
        expect(networkContains(parseIpNetwork(`${b}/${len}`), x)).toBe(expected);
      }),
    );
  });
});
