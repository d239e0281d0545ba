import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HpackError } from './errors.js';
import { huffmanDecode, huffmanEncode, huffmanEncodedLength } from './huffman.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function encode(s: string): Buffer {
  const length = huffmanEncodedLength(s);
  const out = Buffer.alloc(length + 4, 0xaa);
  const end = huffmanEncode(s, out, 2);
  expect(end).toBe(2 + length);
  // Nothing written outside the reported range.
  expect(out[0]).toBe(0xaa);
  expect(out[end]).toBe(0xaa);
  return out.subarray(2, end);
}

const decode = (buf: Buffer) => huffmanDecode(buf, 0, buf.length);

describe('HPACK Huffman code (RFC 7541 Appendix B)', () => {
  // The Huffman-coded strings of RFC 7541 Appendix C.4 and C.6.
  it.each<[string, string]>([
    ['www.example.com', 'f1e3 c2e5 f23a 6ba0 ab90 f4ff'],
    ['no-cache', 'a8eb 1064 9cbf'],
    ['custom-key', '25a8 49e9 5ba9 7d7f'],
    ['custom-value', '25a8 49e9 5bb8 e8b4 bf'],
    ['302', '6402'],
    ['private', 'aec3 771a 4b'],
    ['Mon, 21 Oct 2013 20:13:21 GMT', 'd07a be94 1054 d444 a820 0595 040b 8166 e082 a62d 1bff'],
    ['https://www.example.com', '9d29 ad17 1863 c78f 0b97 c8e9 ae82 ae43 d3'],
    ['307', '640e ff'],
    ['gzip', '9bd9 ab'],
    [
      'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1',
      '94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07',
    ],
  ])('%s', (text, code) => {
    expect(encode(text).toString('hex')).toBe(hex(code).toString('hex'));
    expect(decode(hex(code))).toBe(text);
  });

  it('round-trips every octet, alone and all together', () => {
    let all = '';
    for (let c = 0; c < 256; c++) {
      const s = String.fromCharCode(c);
      all += s;
      expect(decode(encode(s))).toBe(s);
      expect(decode(encode(s.repeat(7)))).toBe(s.repeat(7));
    }
    expect(decode(encode(all))).toBe(all);
    const reversed = all.split('').reverse().join('');
    expect(decode(encode(reversed))).toBe(reversed);
  });

  it('encodes the empty string as nothing and decodes nothing as empty', () => {
    expect(huffmanEncodedLength('')).toBe(0);
    expect(encode('').length).toBe(0);
    expect(decode(Buffer.alloc(0))).toBe('');
  });

  it('codes a char above U+00FF as its low byte', () => {
    expect(encode('\u0161').toString('hex')).toBe(encode('a').toString('hex'));
  });

  it('round-trips random latin1 strings', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const s = Buffer.from(bytes).toString('latin1');
        const coded = encode(s);
        expect(coded.length).toBe(huffmanEncodedLength(s));
        expect(decode(coded)).toBe(s);
        // Decoding a slice of a bigger buffer reads only that slice.
        const framed = Buffer.concat([Buffer.from([0x00, 0xff]), coded, Buffer.from([0x00])]);
        expect(huffmanDecode(framed, 2, 2 + coded.length)).toBe(s);
      }),
      { numRuns: 500 },
    );
  });

  it.each<[string, string, RegExp]>([
    // 30 one-bits are EOS; here followed by two more padding bits.
    ['EOS alone', 'ffff ffff', /EOS symbol in Huffman string at byte 3/],
    ['EOS after a symbol', '1fff ffff ff', /EOS symbol/],
    ['a whole byte of padding', 'ff', /invalid Huffman padding at byte 0/],
    ["'a' (00011) then 11 one-bits of padding", '1fff', /invalid Huffman padding at byte 1/],
    ["'a' then padding with a zero bit", '1e', /invalid Huffman padding at byte 0/],
    ["'0' (00000) then padding 011", '03', /invalid Huffman padding/],
    ['a truncated long code', 'fffe', /invalid Huffman padding/],
  ])('rejects %s', (_name, code, message) => {
    expect(() => decode(hex(code))).toThrow(HpackError);
    expect(() => decode(hex(code))).toThrow(message);
  });

  it('accepts 1 to 7 bits of one-padding', () => {
    // 'a' = 00011 then 111; '0' = 00000 then 111; "00" = 10 bits then 111111.
    expect(decode(hex('1f'))).toBe('a');
    expect(decode(hex('07'))).toBe('0');
    expect(decode(hex('003f'))).toBe('00');
  });
});
