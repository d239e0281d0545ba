import { describe, expect, it } from 'vitest';
import { HpackDecoder } from './decoder.js';
import { HpackError, HpackHeaderListTooLargeError } from './errors.js';
import {
  C3_BLOCKS,
  C4_BLOCKS,
  C5_BLOCKS,
  C6_BLOCKS,
  REQUEST_FIELDS,
  REQUEST_SIZES,
  REQUEST_TABLES,
  RESPONSE_FIELDS,
  RESPONSE_SIZES,
  RESPONSE_TABLES,
} from './appendix-c.fixtures.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function decode(decoder: HpackDecoder, block: Buffer): string[] {
  const out: string[] = [];
  decoder.decode(block, out);
  return out;
}

/** The dynamic table, newest first, as [name, value] pairs. */
function table(decoder: HpackDecoder): [string, string][] {
  const entries: [string, string][] = [];
  for (let i = 0; i < decoder.tableLength; i++) entries.push(decoder.tableEntry(i) as [string, string]);
  return entries;
}

interface Step {
  block: string;
  fields: string[];
  table: [string, string][];
  size: number;
}

/** Decodes the steps in order with one decoder, checking the fields and the table after each. */
function series(decoder: HpackDecoder, steps: Step[]): void {
  for (const [i, step] of steps.entries()) {
    expect(decode(decoder, hex(step.block)), `block ${i + 1}`).toEqual(step.fields);
    expect(table(decoder), `table after block ${i + 1}`).toEqual(step.table);
    expect(decoder.tableSize, `table size after block ${i + 1}`).toBe(step.size);
  }
}

const steps = (blocks: string[], fields: string[][], tables: [string, string][][], sizes: number[]) =>
  blocks.map((block, i) => ({
    block,
    fields: fields[i] as string[],
    table: tables[i] as [string, string][],
    size: sizes[i] as number,
  }));

describe('HpackDecoder: RFC 7541 Appendix C', () => {
  it('C.2.1 literal with indexing', () => {
    const decoder = new HpackDecoder();
    series(decoder, [
      {
        block: '400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572',
        fields: ['custom-key', 'custom-header'],
        table: [['custom-key', 'custom-header']],
        size: 55,
      },
    ]);
  });

  it('C.2.2 literal without indexing', () => {
    series(new HpackDecoder(), [
      { block: '040c 2f73 616d 706c 652f 7061 7468', fields: [':path', '/sample/path'], table: [], size: 0 },
    ]);
  });

  it('C.2.3 literal never indexed', () => {
    series(new HpackDecoder(), [
      {
        block: '1008 7061 7373 776f 7264 0673 6563 7265 74',
        fields: ['password', 'secret'],
        table: [],
        size: 0,
      },
    ]);
  });

  it('C.2.4 indexed field', () => {
    series(new HpackDecoder(), [{ block: '82', fields: [':method', 'GET'], table: [], size: 0 }]);
  });

  it('C.3 requests without Huffman coding', () => {
    series(new HpackDecoder(), steps(C3_BLOCKS, REQUEST_FIELDS, REQUEST_TABLES, REQUEST_SIZES));
  });

  it('C.4 requests with Huffman coding', () => {
    series(new HpackDecoder(), steps(C4_BLOCKS, REQUEST_FIELDS, REQUEST_TABLES, REQUEST_SIZES));
  });

  it('C.5 responses without Huffman coding, 256-byte table with evictions', () => {
    series(
      new HpackDecoder({ maxTableSize: 256 }),
      steps(C5_BLOCKS, RESPONSE_FIELDS, RESPONSE_TABLES, RESPONSE_SIZES),
    );
  });

  it('C.6 responses with Huffman coding, 256-byte table with evictions', () => {
    series(
      new HpackDecoder({ maxTableSize: 256 }),
      steps(C6_BLOCKS, RESPONSE_FIELDS, RESPONSE_TABLES, RESPONSE_SIZES),
    );
  });
});

describe('HpackDecoder: behaviour', () => {
  it('passes names on as sent and values with bytes ≥ 0x80 as latin1', () => {
    const decoder = new HpackDecoder();
    // Literal without indexing, new name "X-Up" (not lowercased), value bytes e9 ff.
    const out = decode(decoder, hex('00 04 582d5570 02 e9ff'));
    expect(out).toEqual(['X-Up', '\u00e9\u00ff']);
  });

  it('appends to what is already in the output list', () => {
    const out = ['a', 'b'];
    new HpackDecoder().decode(hex('82'), out);
    expect(out).toEqual(['a', 'b', ':method', 'GET']);
  });

  it('decodes an empty block to no fields', () => {
    expect(decode(new HpackDecoder(), Buffer.alloc(0))).toEqual([]);
  });

  it('an entry larger than the table empties it (§4.4)', () => {
    const decoder = new HpackDecoder({ maxTableSize: 64 });
    decode(decoder, hex('4001 61 0162')); // a: b (34 bytes)
    expect(decoder.tableSize).toBe(34);
    // x: 32 bytes of value, 65 > 64.
    const out = decode(decoder, Buffer.concat([hex('4001 78 20'), Buffer.alloc(32, 0x7a)]));
    expect(out).toEqual(['x', 'z'.repeat(32)]);
    expect(decoder.tableLength).toBe(0);
    expect(decoder.tableSize).toBe(0);
  });

  it('a new entry may take its name from the entry its insertion evicts (§4.4)', () => {
    const decoder = new HpackDecoder({ maxTableSize: 64 });
    decode(decoder, hex('4001 61 0162')); // a: b
    expect(decode(decoder, hex('7e 0163'))).toEqual(['a', 'c']); // name = index 62, evicted by insertion
    expect(table(decoder)).toEqual([['a', 'c']]);
  });

  it('grows its ring past the initial slots and indexes old entries correctly', () => {
    const decoder = new HpackDecoder({ maxTableSize: 65536 });
    for (let i = 0; i < 100; i++)
      decode(
        decoder,
        Buffer.concat([
          hex('4002'),
          Buffer.from(`k${i % 10}`),
          hex('03'),
          Buffer.from(String(i).padStart(3, '0')),
        ]),
      );
    expect(decoder.tableLength).toBe(100);
    // Index 62 is the newest (099), 161 the oldest (000).
    expect(decode(decoder, hex('be ff 22'))).toEqual(['k9', '099', 'k0', '000']);
  });

  it('applies size updates at the start of a block, twice if need be', () => {
    const decoder = new HpackDecoder();
    decode(decoder, hex('4001 61 0162 4001 63 0164')); // two entries, 68 bytes
    // Update to 34 (evicts the older), then to 4096, then a field.
    expect(decode(decoder, hex('3f03 3fe11f 82'))).toEqual([':method', 'GET']);
    expect(table(decoder)).toEqual([['c', 'd']]);
    expect(decoder.tableCapacity).toBe(4096);
    // Update to 0 empties the table.
    decode(decoder, hex('20'));
    expect(decoder.tableLength).toBe(0);
    expect(decoder.tableCapacity).toBe(0);
  });

  it('requires a size update after the limit drops below the table size in force', () => {
    const decoder = new HpackDecoder();
    decode(decoder, hex('4001 61 0162'));
    decoder.setMaxTableSize(1024);
    // Already evicted down to the new limit (nothing to evict here), but the peer must confirm.
    expect(decoder.tableCapacity).toBe(1024);
    expect(() => decode(decoder, hex('82'))).toThrow(/size update to at most 1024 required.* at byte 0/);

    const confirmed = new HpackDecoder();
    decode(confirmed, hex('4001 61 0162'));
    confirmed.setMaxTableSize(16);
    expect(confirmed.tableLength).toBe(0);
    expect(() => decode(confirmed, hex('3f00 82'))).toThrow(/above the limit 16/);
    expect(decode(confirmed, hex('2f 82'))).toEqual([':method', 'GET']);
    expect(decode(confirmed, hex('82'))).toEqual([':method', 'GET']);
  });

  it('does not require a size update when the limit rises', () => {
    const decoder = new HpackDecoder({ maxTableSize: 256 });
    decoder.setMaxTableSize(8192);
    expect(decoder.tableCapacity).toBe(256);
    expect(decode(decoder, hex('82'))).toEqual([':method', 'GET']);
    expect(decode(decoder, hex('3fe13f 82'))).toEqual([':method', 'GET']);
    expect(decoder.tableCapacity).toBe(8192);
  });

  it('a header list over the limit: whole block decoded, table updated, then the error', () => {
    const decoder = new HpackDecoder({ maxHeaderListSize: 100 });
    // 82 (:method GET, 42), then a: 50 bytes indexed (83), then b: c indexed (34): 159 > 100.
    const block = Buffer.concat([hex('82 4001 61 32'), Buffer.alloc(50, 0x78), hex('4001 62 0163')]);
    const out = ['keep'];
    let error: unknown;
    try {
      decoder.decode(block, out);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(HpackHeaderListTooLargeError);
    expect(error).toBeInstanceOf(HpackError);
    expect((error as HpackHeaderListTooLargeError).listSize).toBe(42 + 83 + 34);
    expect((error as Error).message).toMatch(/header list of 159 bytes exceeds the limit of 100/);
    expect(out).toEqual(['keep']);
    expect(table(decoder)).toEqual([
      ['b', 'c'],
      ['a', 'x'.repeat(50)],
    ]);
    // The decoder is still in step: the next block can use both entries.
    expect(decode(decoder, hex('be'))).toEqual(['b', 'c']);
    expect(() => decode(decoder, hex('bebf'))).toThrow(HpackHeaderListTooLargeError);
  });

  it('counts the list size per block', () => {
    const decoder = new HpackDecoder({ maxHeaderListSize: 84 });
    for (let i = 0; i < 5; i++) expect(decode(decoder, hex('8282'))).toHaveLength(4);
    expect(() => decode(decoder, hex('828282'))).toThrow(HpackHeaderListTooLargeError);
  });

  it('rejects bad options', () => {
    expect(() => new HpackDecoder({ maxTableSize: -1 })).toThrow(RangeError);
    expect(() => new HpackDecoder({ maxHeaderListSize: 1.5 })).toThrow(RangeError);
    expect(() => new HpackDecoder().setMaxTableSize(Number.NaN)).toThrow(RangeError);
  });
});

describe('HpackDecoder: malformed blocks', () => {
  it.each<[string, string, RegExp]>([
    ['index 0', '82 80', /index 0 at byte 1/],
    [
      'indexed field past an empty dynamic table',
      'be',
      /index 62 out of range \(table holds 1\.\.61\) at byte 0/,
    ],
    [
      'indexed field past the dynamic table',
      '4001 61 0162 bf',
      /index 63 out of range \(table holds 1\.\.62\) at byte 5/,
    ],
    [
      'literal name index past the table',
      '7e 0161',
      /index 62 out of range \(table holds 1\.\.61\) at byte 0/,
    ],
    ['never-indexed name index past the table', '82 1f2f 0161', /index 62 out of range .* at byte 1/],
    ['huge index', 'ff ffffffff07', /integer larger than 2\^31-1 at byte 0/],
    ['integer with too many bytes', 'ff 8080808080 00', /integer with too many bytes at byte 0/],
    ['truncated index', 'ff 80', /truncated integer at byte 0/],
    ['truncated name length', '40', /truncated block: string expected at byte 1/],
    ['missing value', '4001 61', /truncated block: string expected at byte 3/],
    [
      'string longer than the block',
      '4001 61 0562 63',
      /string of 5 bytes overruns the block \(2 left\) at byte 3/,
    ],
    ['huge string length', '0001 61 7fffffffff07', /integer larger than 2\^31-1 at byte 3/],
    ['string length past the block', '0001 61 7f ffffff7f', /string of .* bytes overruns the block/],
    ['EOS in a Huffman name', '40 84 ffffffff 0161', /EOS symbol in Huffman string at byte 5/],
    ['Huffman padding of 8 bits', '40 82 1fff 0161', /invalid Huffman padding at byte 3/],
    ['Huffman padding with a zero bit', '0001 61 81 1e', /invalid Huffman padding at byte 4/],
    ['size update after a field', '82 20', /dynamic table size update after a field at byte 1/],
    ['size update above the limit', '3fe21f', /size update to 4097 above the limit 4096 at byte 0/],
    ['truncated size update', '3f', /truncated integer at byte 0/],
  ])('%s', (_name, block, message) => {
    const decoder = new HpackDecoder();
    let error: unknown;
    try {
      decoder.decode(hex(block), []);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(HpackError);
    expect(error).not.toBeInstanceOf(HpackHeaderListTooLargeError);
    expect((error as Error).message).toMatch(message);
  });

  it('every truncation of a valid block fails with HpackError or decodes a prefix', () => {
    const block = hex(`88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab
       77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f`);
    for (let n = 0; n < block.length; n++) {
      const decoder = new HpackDecoder({ maxTableSize: 256 });
      decode(
        decoder,
        hex(
          '4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3',
        ),
      );
      try {
        decoder.decode(block.subarray(0, n), []);
      } catch (err) {
        expect(err).toBeInstanceOf(HpackError);
      }
    }
  });
});
