import { describe, expect, it } from 'vitest';
import { encodeProxyProtocolV2, forwardedHeaders, parseForwardedMode } from './index.js';

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
