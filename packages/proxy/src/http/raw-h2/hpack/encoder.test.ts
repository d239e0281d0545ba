import { describe, expect, it } from 'vitest';
import { REQUEST_FIELDS, RESPONSE_FIELDS } from './appendix-c.fixtures.js';
import { ByteSink } from './byte-sink.js';
import { HpackDecoder } from './decoder.js';
import { HpackEncoder } from './encoder.js';
import { huffmanDecode } from './huffman.js';
import { STATIC_NAME_INDEX, STATIC_NAMES, STATIC_PAIR_INDEX, STATIC_VALUES } from './static-table.js';

function encode(encoder: HpackEncoder, fields: string[]): Buffer {
  const sink = new ByteSink(64);
  encoder.encode(fields, sink);
  return sink.take();
}

/** Encodes, decodes, and checks the fields come back and both tables agree. Returns the block. */
function roundTrip(encoder: HpackEncoder, decoder: HpackDecoder, fields: string[]): Buffer {
  const block = encode(encoder, fields);
  const out: string[] = [];
  decoder.decode(block, out);
  expect(out).toEqual(fields);
  expect(decoder.tableLength).toBe(encoder.tableLength);
  expect(decoder.tableSize).toBe(encoder.tableSize);
  expect(decoder.tableCapacity).toBe(encoder.tableCapacity);
  return block;
}

describe('static table', () => {
  it('has the 61 entries of RFC 7541 Appendix A', () => {
    expect(STATIC_NAMES).toHaveLength(62);
    expect([STATIC_NAMES[1], STATIC_VALUES[1]]).toEqual([':authority', '']);
    expect([STATIC_NAMES[2], STATIC_VALUES[2]]).toEqual([':method', 'GET']);
    expect([STATIC_NAMES[16], STATIC_VALUES[16]]).toEqual(['accept-encoding', 'gzip, deflate']);
    expect([STATIC_NAMES[61], STATIC_VALUES[61]]).toEqual(['www-authenticate', '']);
    expect(STATIC_NAME_INDEX.get(':status')).toBe(8);
    expect(STATIC_PAIR_INDEX.get(':status')?.get('404')).toBe(13);
    expect(STATIC_PAIR_INDEX.get('cookie')?.get('')).toBe(32);
  });
});

describe('HpackEncoder: representations', () => {
  it('sends static exact matches as one index byte', () => {
    const block = encode(new HpackEncoder(), [
      ':method',
      'GET',
      ':status',
      '500',
      ':path',
      '/',
      'accept',
      '',
    ]);
    expect(block.toString('hex')).toBe('82' + '8e' + '84' + '93');
  });

  it('indexes a new field with a Huffman-coded name and value, then refers to it', () => {
    const encoder = new HpackEncoder();
    const decoder = new HpackDecoder();
    // Same as RFC 7541 C.4.3's custom-key: custom-value.
    const first = roundTrip(encoder, decoder, ['custom-key', 'custom-value']);
    expect(first.toString('hex')).toBe('40' + '8825a849e95ba97d7f' + '8925a849e95bb8e8b4bf');
    expect(roundTrip(encoder, decoder, ['custom-key', 'custom-value']).toString('hex')).toBe('be');
    // Another value under the same name refers to the name by its dynamic index.
    const other = roundTrip(encoder, decoder, ['custom-key', 'x']);
    expect(other[0]).toBe(0x40 | 62);
    expect(roundTrip(encoder, decoder, ['custom-key', 'custom-value']).toString('hex')).toBe('bf');
  });

  it('uses the static name index for static names', () => {
    const encoder = new HpackEncoder();
    const block = roundTrip(encoder, new HpackDecoder(), [':authority', 'example.org']);
    expect(block[0]).toBe(0x41);
    expect(huffmanDecode(block, 2, block.length)).toBe('example.org');
  });

  it('keeps a string raw when Huffman coding would not make it shorter', () => {
    const encoder = new HpackEncoder();
    const value = '\u00ff\u00fe\u00fd'; // 26+ bits each
    const block = roundTrip(encoder, new HpackDecoder(), ['x-bin', value]);
    expect(block.subarray(block.length - 4).toString('latin1')).toBe('\u0003' + value);
  });

  it.each<[string, string, number]>([
    ['authorization', 'Bearer abc', 0x1f],
    ['proxy-authorization', 'Basic xyz', 0x1f],
    ['set-cookie', 'id=1', 0x1f],
    ['cookie', 'short=1', 0x1f],
  ])('never indexes %s', (name, value, firstByte) => {
    const encoder = new HpackEncoder();
    const decoder = new HpackDecoder();
    for (let i = 0; i < 2; i++) {
      const block = roundTrip(encoder, decoder, [name, value]);
      expect(block[0]).toBe(firstByte);
      // Raw value at the end.
      expect(block.subarray(block.length - value.length).toString('latin1')).toBe(value);
    }
    expect(encoder.tableLength).toBe(0);
  });

  it('indexes a cookie of 20 bytes or more', () => {
    const encoder = new HpackEncoder();
    const decoder = new HpackDecoder();
    const cookie = 'session=0123456789ab';
    expect(roundTrip(encoder, decoder, ['cookie', cookie])[0]).toBe(0x40 | 32);
    expect(roundTrip(encoder, decoder, ['cookie', cookie]).toString('hex')).toBe('be');
  });

  it.each([
    ':path',
    'content-length',
    'date',
    'etag',
    'if-modified-since',
    'if-none-match',
    'last-modified',
    'age',
    'x-request-id',
    'grpc-timeout',
    'grpc-message',
  ])('sends %s without indexing, raw', (name) => {
    const encoder = new HpackEncoder();
    const decoder = new HpackDecoder();
    const block = roundTrip(encoder, decoder, [name, 'value-1234']);
    expect(block[0]! & 0xf0).toBe(0x00);
    expect(block.subarray(block.length - 11).toString('latin1')).toBe('\u000avalue-1234');
    roundTrip(encoder, decoder, [name, 'value-1234']);
    expect(encoder.tableLength).toBe(0);
  });

  it('indexes l5d-client-id and other names not listed', () => {
    const encoder = new HpackEncoder();
    roundTrip(encoder, new HpackDecoder(), ['l5d-client-id', 'web.default.serviceaccount.identity']);
    expect(encoder.tableLength).toBe(1);
  });

  it('does not index fields over 1024 bytes or larger than the table', () => {
    const encoder = new HpackEncoder();
    const decoder = new HpackDecoder();
    roundTrip(encoder, decoder, ['x-big', 'v'.repeat(1020)]);
    expect(encoder.tableLength).toBe(0);
    roundTrip(encoder, decoder, ['x-big', 'v'.repeat(1019)]);
    expect(encoder.tableLength).toBe(1);

    const small = new HpackEncoder({ maxTableSize: 64 });
    const smallDecoder = new HpackDecoder({ maxTableSize: 64 });
    roundTrip(small, smallDecoder, ['x-a', '1']);
    roundTrip(small, smallDecoder, ['x-long', 'y'.repeat(40)]);
    expect(small.tableLength).toBe(1);
  });

  it('encodes chars ≥ 0x80 as latin1 octets', () => {
    const encoder = new HpackEncoder();
    const decoder = new HpackDecoder();
    roundTrip(encoder, decoder, ['x-latin1', 'caf\u00e9 \u00ff\u0080', 'x-request-id', '\u00e9t\u00e9']);
    roundTrip(encoder, decoder, ['x-latin1', 'caf\u00e9 \u00ff\u0080']);
  });

  it('rejects an odd-length field list', () => {
    expect(() => encode(new HpackEncoder(), [':method'])).toThrow(RangeError);
  });
});

describe('HpackEncoder: round trips and table management', () => {
  it('round-trips the RFC 7541 C.3 requests with a shared table', () => {
    const encoder = new HpackEncoder();
    const decoder = new HpackDecoder();
    const sizes = REQUEST_FIELDS.map((fields) => roundTrip(encoder, decoder, fields).length);
    // The third request repeats :authority from the table (one byte).
    expect(sizes[1]).toBeLessThan(sizes[0]!);
    expect(decoder.tableEntry(2)).toEqual([':authority', 'www.example.com']);
  });

  it('round-trips the RFC 7541 C.5 responses with a 256-byte table, evicting', () => {
    // The peer advertises 256: the first block must announce it.
    const encoder = new HpackEncoder();
    encoder.setMaxTableSize(256);
    const decoder = new HpackDecoder({ maxTableSize: 256 });
    const first = roundTrip(encoder, decoder, RESPONSE_FIELDS[0]!);
    expect(first.subarray(0, 3).toString('hex')).toBe('3fe101');
    for (let round = 0; round < 3; round++) {
      for (const fields of RESPONSE_FIELDS) roundTrip(encoder, decoder, fields);
    }
    expect(decoder.tableSize).toBeLessThanOrEqual(256);
  });

  it('evicts oldest entries and never refers to an evicted one', () => {
    const encoder = new HpackEncoder({ maxTableSize: 200 });
    const decoder = new HpackDecoder({ maxTableSize: 4096 });
    // Each entry is 3 + 4 + 32 = 39 bytes: five fit in 200.
    for (let i = 0; i < 40; i++) {
      const fields = [
        `x-${i % 7}`,
        `v${String(i % 11).padStart(3, '0')}`,
        `x-${(i * 3) % 7}`,
        `v${i % 3}xyz`,
      ];
      roundTrip(encoder, decoder, fields);
      expect(encoder.tableSize).toBeLessThanOrEqual(200);
      expect(encoder.tableLength).toBeLessThanOrEqual(5);
    }
  });

  it('a new entry can name the entry it evicts', () => {
    const encoder = new HpackEncoder({ maxTableSize: 64 });
    const decoder = new HpackDecoder({ maxTableSize: 64 });
    expect(encode(encoder, []).toString('hex')).toBe('3f21'); // 64, announced once
    decoder.decode(Buffer.from('3f21', 'hex'), []);
    roundTrip(encoder, decoder, ['x', '1']);
    const block = roundTrip(encoder, decoder, ['x', '2']);
    expect(block[0]).toBe(0x40 | 62);
    expect(decoder.tableEntry(0)).toEqual(['x', '2']);
    expect(encoder.tableLength).toBe(1);
  });

  it('grows its ring beyond the initial slots', () => {
    const encoder = new HpackEncoder({ maxTableSize: 65536 });
    encoder.setMaxTableSize(65536);
    const decoder = new HpackDecoder({ maxTableSize: 65536 });
    const all: string[] = [];
    for (let i = 0; i < 300; i++) all.push(`x-${i % 13}`, `value-${i}`);
    roundTrip(encoder, decoder, all);
    expect(encoder.tableLength).toBe(300);
    // Every one of them is now an index: 62..126 one byte, 127..254 two, 255..361 three.
    const again = roundTrip(encoder, decoder, all);
    expect(again.length).toBe(65 + 128 * 2 + 107 * 3);
    expect(encoder.tableLength).toBe(300);
    for (let i = 0; i < 5; i++) roundTrip(encoder, decoder, all.slice(i * 100, i * 100 + 200));
  });

  it('shrinks on the peer setting, evicting at once and announcing it in the next block', () => {
    const encoder = new HpackEncoder();
    const decoder = new HpackDecoder();
    roundTrip(encoder, decoder, ['x-a', 'aaaa', 'x-b', 'bbbb', 'x-c', 'cccc']);
    encoder.setMaxTableSize(80);
    decoder.setMaxTableSize(80);
    expect(encoder.tableLength).toBe(2);
    const block = roundTrip(encoder, decoder, ['x-c', 'cccc', 'x-b', 'bbbb']);
    expect(block.toString('hex')).toBe('3f31' + 'be' + 'bf');
    // No further announcement.
    expect(roundTrip(encoder, decoder, ['x-c', 'cccc']).toString('hex')).toBe('be');
  });

  it('announces the minimum and then the final size after shrinking and growing between blocks', () => {
    const encoder = new HpackEncoder();
    const decoder = new HpackDecoder();
    roundTrip(encoder, decoder, ['x-a', 'aaaa', 'x-b', 'bbbb']);
    encoder.setMaxTableSize(0);
    encoder.setMaxTableSize(4096);
    expect(encoder.tableLength).toBe(0);
    const block = roundTrip(encoder, decoder, ['x-a', 'aaaa']);
    expect(block.subarray(0, 4).toString('hex')).toBe('20' + '3fe11f');
    expect(encoder.tableLength).toBe(1);
  });

  it('never uses more than its own maximum, whatever the peer allows', () => {
    const encoder = new HpackEncoder({ maxTableSize: 1024 });
    const decoder = new HpackDecoder({ maxTableSize: 65536 });
    // The peer's decoder starts at 4096: our smaller table is announced in the first block.
    expect(roundTrip(encoder, decoder, [':method', 'GET']).toString('hex')).toBe('3fe107' + '82');
    encoder.setMaxTableSize(65536);
    expect(encoder.tableCapacity).toBe(1024);
    expect(roundTrip(encoder, decoder, [':method', 'GET']).toString('hex')).toBe('82');

    const big = new HpackEncoder({ maxTableSize: 8192 });
    expect(big.tableCapacity).toBe(4096);
    big.setMaxTableSize(65536);
    expect(big.tableCapacity).toBe(8192);
    expect(roundTrip(big, decoder, [':method', 'GET']).toString('hex')).toBe('3fe13f' + '82');
  });

  it('with a zero-size table sends everything as literals', () => {
    const encoder = new HpackEncoder({ maxTableSize: 0 });
    const decoder = new HpackDecoder();
    roundTrip(encoder, decoder, ['x-a', 'b', ':method', 'GET']);
    const block = roundTrip(encoder, decoder, ['x-a', 'b']);
    expect(block[0]).toBe(0x00);
    expect(encoder.tableLength).toBe(0);
  });

  it('rejects bad sizes', () => {
    expect(() => new HpackEncoder({ maxTableSize: -1 })).toThrow(RangeError);
    expect(() => new HpackEncoder().setMaxTableSize(1.5)).toThrow(RangeError);
  });
});
