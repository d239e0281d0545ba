import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rawHeaderValue } from '../http/index.js';
import { formatProtoIp, toProtoIp } from '../inbound-policy/index.js';
import { encodeProxyProtocolV2, forwardedHeaders, ipBytes, parseForwardedMode } from './index.js';

describe('forwarded headers', () => {
  it('appends the client to X-Forwarded-For and Forwarded', () => {
    expect(forwardedHeaders('xff', '198.18.0.7', {})).toEqual({ 'x-forwarded-for': '198.18.0.7' });
    expect(
      forwardedHeaders('both', 'fd00::7', { 'x-forwarded-for': '1.2.3.4', forwarded: 'for=1.2.3.4' }),
    ).toEqual({
      'x-forwarded-for': '1.2.3.4, fd00::7',
      forwarded: 'for=1.2.3.4, for="[fd00::7]"',
    });
    expect(forwardedHeaders('off', '198.18.0.7', {})).toBeUndefined();
    // A lookup by name instead of a header object (the raw-socket HTTP/1 engine builds none).
    const raw = ['X-Forwarded-For', '1.2.3.4', 'Host', 'web', 'x-forwarded-for', '5.6.7.8'];
    expect(forwardedHeaders('xff', '198.18.0.7', (n) => rawHeaderValue(raw, n))).toEqual({
      'x-forwarded-for': '1.2.3.4, 5.6.7.8, 198.18.0.7',
    });
    expect(parseForwardedMode('Forwarded')).toBe('forwarded');
    expect(parseForwardedMode('yes')).toBeUndefined();
  });
});

describe('PROXY protocol v2', () => {
  it('encodes TCP over IPv4 as the spec lays it out', () => {
    const h = encodeProxyProtocolV2({
      sourceIp: '::ffff:198.18.0.7',
      sourcePort: 40000,
      destinationIp: '127.0.0.1',
      destinationPort: 8080,
    });
    expect(h.subarray(0, 12).toString('hex')).toBe('0d0a0d0a000d0a515549540a');
    expect([h[12], h[13], h.readUInt16BE(14)]).toEqual([0x21, 0x11, 12]);
    expect([...h.subarray(16, 20)]).toEqual([198, 18, 0, 7]);
    expect([...h.subarray(20, 24)]).toEqual([127, 0, 0, 1]);
    expect([h.readUInt16BE(24), h.readUInt16BE(26)]).toEqual([40000, 8080]);
  });

  it('encodes IPv6 and falls back to LOCAL for mixed families', () => {
    const h = encodeProxyProtocolV2({
      sourceIp: 'fd00::1',
      sourcePort: 1,
      destinationIp: '::1',
      destinationPort: 2,
    });
    expect([h[13], h.readUInt16BE(14), h.length]).toEqual([0x21, 36, 52]);
    expect(h.subarray(16, 32).toString('hex')).toBe('fd000000000000000000000000000001');
    const local = encodeProxyProtocolV2({
      sourceIp: '::1',
      sourcePort: 1,
      destinationIp: '1.2.3.4',
      destinationPort: 2,
    });
    expect([local[12], local.length]).toEqual([0x20, 16]);
  });
});

describe('PROXY protocol v2 and proto addresses (properties)', () => {
  const v4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((o) => o.join('.'));
  const v6 = fc
    .array(fc.nat(0xffff), { minLength: 8, maxLength: 8 })
    .map((g) => g.map((x) => x.toString(16)).join(':'));
  const port = fc.integer({ min: 0, max: 65535 });

  it('carries any IPv4 or IPv6 address pair and ports, in the bytes the spec lays out', () => {
    fc.assert(
      fc.property(fc.oneof(fc.tuple(v4, v4), fc.tuple(v6, v6)), port, port, ([src, dst], sp, dp) => {
        const h = encodeProxyProtocolV2({
          sourceIp: src,
          sourcePort: sp,
          destinationIp: dst,
          destinationPort: dp,
        });
        const size = src.includes(':') ? 16 : 4;
        expect(h.readUInt16BE(14)).toBe(2 * size + 4);
        expect(h.subarray(16, 16 + size)).toEqual(ipBytes(src));
        expect(h.subarray(16 + size, 16 + 2 * size)).toEqual(ipBytes(dst));
        expect([h.readUInt16BE(16 + 2 * size), h.readUInt16BE(18 + 2 * size)]).toEqual([sp, dp]);
      }),
    );
  });

  it('round-trips addresses through the proxy API form', () => {
    fc.assert(
      fc.property(fc.oneof(v4, v6), (ip) => {
        expect(ipBytes(formatProtoIp(toProtoIp(ip)) ?? '')).toEqual(ipBytes(ip));
      }),
    );
  });
});
