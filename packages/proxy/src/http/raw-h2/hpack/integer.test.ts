import { describe, expect, it } from 'vitest';
import { ByteSink } from './byte-sink.js';
import { HpackError } from './errors.js';
import { decodeInteger, encodeInteger, MAX_INTEGER } from './integer.js';

function encode(value: number, prefixBits: number, flags = 0): string {
  const sink = new ByteSink(16);
  encodeInteger(sink, value, prefixBits, flags);
  return sink.take().toString('hex');
}

function decode(hex: string, prefixBits: number): { value: number; pos: number } {
  const cursor = { pos: 0 };
  const buf = Buffer.from(hex, 'hex');
  const value = decodeInteger(cursor, buf, buf.length, prefixBits);
  return { value, pos: cursor.pos };
}

describe('HPACK integers (RFC 7541 §5.1)', () => {
  it.each<[string, number, number, string]>([
    ['C.1.1: 10 with a 5-bit prefix', 10, 5, '0a'],
    ['C.1.2: 1337 with a 5-bit prefix', 1337, 5, '1f9a0a'],
    ['C.1.3: 42 at an octet boundary', 42, 8, '2a'],
    ['prefix value exactly 2^N-1', 31, 5, '1f00'],
    ['one below the prefix limit', 30, 5, '1e'],
    ['2^31-1 with a 7-bit prefix', MAX_INTEGER, 7, '7f80ffffff07'],
  ])('%s', (_name, value, prefixBits, hex) => {
    expect(encode(value, prefixBits)).toBe(hex);
    expect(decode(hex, prefixBits)).toEqual({ value, pos: hex.length / 2 });
  });

  it('keeps the flag bits above the prefix and ignores them when decoding', () => {
    expect(encode(1337, 5, 0xe0)).toBe('ff9a0a');
    expect(decode('ff9a0a', 5)).toEqual({ value: 1337, pos: 3 });
  });

  it('round-trips values around every prefix size', () => {
    for (let prefix = 1; prefix <= 8; prefix++) {
      for (const value of [0, 1, 126, 127, 128, 255, 256, 16383, 16384, 2 ** 21, 2 ** 28, MAX_INTEGER]) {
        expect(decode(encode(value, prefix), prefix).value).toBe(value);
      }
    }
  });

  it('accepts redundant zero continuation bytes within the length limit', () => {
    expect(decode('1f8000', 5)).toEqual({ value: 31, pos: 3 });
  });

  it.each<[string, string, number, RegExp]>([
    ['empty input', '', 5, /truncated integer at byte 0/],
    ['prefix full, nothing after', '1f', 5, /truncated integer at byte 0/],
    ['continuation bit set on the last byte', '1f8080', 5, /truncated integer at byte 0/],
    ['above 2^31-1', '1fffffffff0f', 5, /integer larger than 2\^31-1 at byte 0/],
    ['2^31 exactly', '7f81ffffff07', 7, /integer larger than 2\^31-1/],
    ['six continuation bytes', '1f808080808000', 5, /integer with too many bytes at byte 0/],
  ])('rejects %s', (_name, hex, prefixBits, message) => {
    expect(() => decode(hex, prefixBits)).toThrow(HpackError);
    expect(() => decode(hex, prefixBits)).toThrow(message);
  });
});
