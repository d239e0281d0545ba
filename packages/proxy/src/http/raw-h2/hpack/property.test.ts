// Property tests of the HPACK codec: arbitrary input never escapes as anything but HpackError, and
// arbitrary header lists survive encoder → decoder across many blocks and table size changes.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteSink } from './byte-sink.js';
import { HpackDecoder } from './decoder.js';
import { HpackEncoder } from './encoder.js';
import { HpackError, HpackHeaderListTooLargeError } from './errors.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** A block that fills a decoder's table with a few entries, so random indices can land in it. */
const PRIMER = hex('4001 61 0162 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf 7e03 787878');

/** Bytes that are mostly plausible HPACK: representation prefixes, small lengths, Huffman bits. */
const plausibleBytes = fc
  .array(
    fc.oneof(
      fc.uint8Array({ minLength: 1, maxLength: 8 }),
      fc
        .constantFrom(0x80, 0x82, 0xbe, 0xbf, 0xc0, 0xff, 0x40, 0x7e, 0x3f, 0x20, 0x10, 0x0f, 0x00)
        .map((b) => Uint8Array.of(b)),
      fc.integer({ min: 0, max: 0xff }).map((n) => Uint8Array.of(0x01, n & 0x7f)),
    ),
    { maxLength: 24 },
  )
  .map((parts) => Buffer.concat(parts));

function decodeExpectingOnlyHpackErrors(block: Buffer, maxHeaderListSize: number): void {
  const decoder = new HpackDecoder({ maxTableSize: 256, maxHeaderListSize });
  try {
    decoder.decode(PRIMER, []);
  } catch (err) {
    // Over a small list limit the primer still fills the table.
    if (!(err instanceof HpackHeaderListTooLargeError)) throw err;
  }
  expect(decoder.tableLength).toBe(3);
  try {
    decoder.decode(block, []);
  } catch (err) {
    if (!(err instanceof HpackError)) throw err;
    expect(err.message).toMatch(/^HPACK: .+ at byte \d+$/);
    expect(err.offset).toBeGreaterThanOrEqual(0);
    expect(err.offset).toBeLessThanOrEqual(block.length);
  }
}

// Names and values mostly from small pools, so that blocks repeat fields, names get several values
// and the tables fill, evict and get referred to; now and then static names, names the encoder
// treats specially, arbitrary names, non-ASCII octets and long values.
const names = fc.oneof(
  { arbitrary: fc.constantFrom('x-a', 'x-b', 'x-c', 'x-d'), weight: 6 },
  {
    arbitrary: fc.constantFrom(
      ':method',
      ':path',
      ':status',
      ':authority',
      'content-type',
      'cookie',
      'authorization',
      'set-cookie',
      'x-request-id',
      'user-agent',
      '',
    ),
    weight: 2,
  },
  { arbitrary: fc.string({ minLength: 1, maxLength: 12 }), weight: 1 },
);
const values = fc.oneof(
  { arbitrary: fc.constantFrom('v0', 'v1', 'v2', 'v3', 'v4', 'v5'), weight: 6 },
  { arbitrary: fc.constantFrom('GET', '/', '200', 'application/grpc', 'gzip, deflate', ''), weight: 2 },
  { arbitrary: fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b).toString('latin1')), weight: 1 },
  { arbitrary: fc.integer({ min: 900, max: 1300 }).map((n) => 'L'.repeat(n)), weight: 1 },
);
const block = fc.array(fc.tuple(names, values), { maxLength: 12 }).map((pairs) => pairs.flat());
const tableSize = fc.oneof(
  // Room for a few small entries, so that eviction keeps some entries of a name and drops others.
  { arbitrary: fc.integer({ min: 0, max: 200 }), weight: 3 },
  { arbitrary: fc.constantFrom(0, 4096), weight: 1 },
  { arbitrary: fc.integer({ min: 0, max: 8192 }), weight: 1 },
);
const step = fc.record({
  fields: block,
  // SETTINGS_HEADER_TABLE_SIZE changes the peer made (and we acknowledged) before this block.
  tableSizes: fc.array(tableSize, { maxLength: 3 }),
});

describe('HPACK properties', () => {
  it('decoding random bytes throws nothing but HpackError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.integer({ min: 0, max: 300 }), (bytes, listLimit) => {
        decodeExpectingOnlyHpackErrors(Buffer.from(bytes), listLimit);
      }),
      { numRuns: 3000 },
    );
  });

  it('decoding plausible-looking blocks throws nothing but HpackError', () => {
    fc.assert(
      fc.property(plausibleBytes, fc.integer({ min: 0, max: 300 }), (bytes, listLimit) => {
        decodeExpectingOnlyHpackErrors(bytes, listLimit);
      }),
      { numRuns: 3000 },
    );
  });

  it('header lists round-trip over many blocks, with table size changes', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 8192 }),
        fc.array(step, { minLength: 1, maxLength: 40 }),
        (ownMax, steps) => {
          const encoder = new HpackEncoder({ maxTableSize: ownMax });
          // One decoder is told of each SETTINGS change (and so evicts at once, like ours); the
          // other only ever follows the size updates in the blocks, like a decoder that evicts
          // nothing until then. Both must end up with the encoder's table.
          const told = new HpackDecoder({ maxTableSize: 4096, maxHeaderListSize: 1 << 30 });
          const untold = new HpackDecoder({ maxTableSize: 8192, maxHeaderListSize: 1 << 30 });
          const sink = new ByteSink(32);
          for (const { fields, tableSizes } of steps) {
            for (const size of tableSizes) {
              encoder.setMaxTableSize(size);
              told.setMaxTableSize(size);
            }
            encoder.encode(fields, sink);
            const block = sink.take();
            for (const decoder of [told, untold]) {
              const out: string[] = [];
              decoder.decode(block, out);
              expect(out).toEqual(fields);
              expect(decoder.tableSize).toBe(encoder.tableSize);
              expect(decoder.tableLength).toBe(encoder.tableLength);
            }
            expect(encoder.tableSize).toBeLessThanOrEqual(encoder.tableCapacity);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
