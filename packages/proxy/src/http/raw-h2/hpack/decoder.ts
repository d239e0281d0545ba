// HPACK decoder (RFC 7541 §3, §4, §6): turns one complete header block into a flat
// `name, value, name, value, ...` list and keeps the dynamic table in step with the peer's encoder.
// Names are passed on as sent; validating them is the connection layer's job.
import { latin1Slice } from './byte-sink.js';
import { HpackError, HpackHeaderListTooLargeError } from './errors.js';
import { huffmanDecode } from './huffman.js';
import { decodeInteger, MAX_INTEGER } from './integer.js';
import { STATIC_NAMES, STATIC_TABLE_LENGTH, STATIC_VALUES } from './static-table.js';

export interface HpackDecoderOptions {
  /** The SETTINGS_HEADER_TABLE_SIZE we advertise: the largest table the peer may make us keep. */
  maxTableSize?: number;
  /** Limit on the decoded header list, in RFC 7541 §4.1 sizes (name + value + 32 per field). */
  maxHeaderListSize?: number;
}

/** RFC 7541 §4.1: each entry costs its octets plus 32 for bookkeeping. */
const ENTRY_OVERHEAD = 32;
const INITIAL_SLOTS = 16;

/**
 * One connection's HPACK decoder. The peer's encoder may assume the protocol's default table size
 * (4096) until it has our SETTINGS: when advertising less, construct with 4096 and call
 * setMaxTableSize(advertised) once the peer acknowledges the SETTINGS frame.
 */
export class HpackDecoder {
  /** @internal Read position in the block being decoded (decodeInteger advances it via `this`). */
  pos = 0;

  private readonly maxHeaderListSize: number;
  /** The most the peer may set the table to (what we advertise). */
  private limit: number;
  /** The table's current maximum size, as the peer's last size update set it. */
  private capacity: number;
  /** We lowered the limit below `capacity`: the next block must open with a size update (§4.2). */
  private updateRequired = false;

  // The dynamic table: a ring of entries, newest at slot (head - 1), oldest at (head - count).
  private names: string[];
  private values: string[];
  private mask: number;
  private head = 0;
  private count = 0;
  private size = 0;

  constructor(options: HpackDecoderOptions = {}) {
    this.limit = checkSize(options.maxTableSize ?? 4096, 'maxTableSize');
    this.capacity = this.limit;
    this.maxHeaderListSize = checkSize(options.maxHeaderListSize ?? 65536, 'maxHeaderListSize');
    this.names = new Array<string>(INITIAL_SLOTS).fill('');
    this.values = new Array<string>(INITIAL_SLOTS).fill('');
    this.mask = INITIAL_SLOTS - 1;
  }

  /**
   * Sets the table size we advertise, once the peer has acknowledged it. A size below the table's
   * current maximum evicts now and obliges the peer to open its next block with a size update.
   */
  setMaxTableSize(n: number): void {
    this.limit = checkSize(n, 'maxTableSize');
    if (this.capacity > n) {
      this.capacity = n;
      this.evictTo(n);
      this.updateRequired = true;
    }
  }

  /** Entries in the dynamic table. */
  get tableLength(): number {
    return this.count;
  }

  /** Size of the dynamic table in RFC 7541 §4.1 terms. */
  get tableSize(): number {
    return this.size;
  }

  /** The dynamic table's current maximum size (the peer's last size update, or our limit). */
  get tableCapacity(): number {
    return this.capacity;
  }

  /** Dynamic entry `i` (0 = newest) as [name, value], for tests and debugging. */
  tableEntry(i: number): [string, string] | undefined {
    if (i < 0 || i >= this.count) return undefined;
    const slot = (this.head - 1 - i) & this.mask;
    return [this.names[slot] as string, this.values[slot] as string];
  }

  /**
   * Decodes one complete header block, pushing `name, value` pairs onto `out`. Throws HpackError for
   * anything malformed (the decoder is then unusable and `out` may hold some of the fields), or
   * HpackHeaderListTooLargeError after decoding the whole block when the list is over
   * maxHeaderListSize (the decoder stays usable; `out` is restored to its length before the call).
   */
  decode(block: Buffer, out: string[]): void {
    const end = block.length;
    const outStart = out.length;
    let listSize = 0;
    let fields = 0;
    this.pos = 0;
    while (this.pos < end) {
      const at = this.pos;
      const b = block[at] as number;
      let name: string;
      let value: string;
      if (b >= 0x80) {
        // §6.1 indexed field.
        const index = decodeInteger(this, block, end, 7);
        if (this.updateRequired) throw this.missingUpdate(at);
        if (index <= STATIC_TABLE_LENGTH) {
          if (index === 0) throw new HpackError('index 0', at);
          name = STATIC_NAMES[index] as string;
          value = STATIC_VALUES[index] as string;
        } else {
          const i = index - STATIC_TABLE_LENGTH - 1;
          if (i >= this.count) throw this.badIndex(index, at);
          const slot = (this.head - 1 - i) & this.mask;
          name = this.names[slot] as string;
          value = this.values[slot] as string;
        }
      } else if (b >= 0x40) {
        // §6.2.1 literal with incremental indexing.
        if (this.updateRequired) throw this.missingUpdate(at);
        name = this.literalName(block, end, 6, at);
        value = this.readString(block, end);
        this.insert(name, value);
      } else if (b >= 0x20) {
        // §6.3 dynamic table size update: only before the block's first field.
        if (fields > 0) throw new HpackError('dynamic table size update after a field', at);
        const size = decodeInteger(this, block, end, 5);
        if (size > this.limit) {
          throw new HpackError(`dynamic table size update to ${size} above the limit ${this.limit}`, at);
        }
        this.capacity = size;
        this.evictTo(size);
        this.updateRequired = false;
        continue;
      } else {
        // §6.2.2 literal without indexing (0000) and §6.2.3 never indexed (0001): same layout.
        if (this.updateRequired) throw this.missingUpdate(at);
        name = this.literalName(block, end, 4, at);
        value = this.readString(block, end);
      }
      fields++;
      listSize += name.length + value.length + ENTRY_OVERHEAD;
      // Past the limit keep decoding, for the table's sake, but stop collecting.
      if (listSize <= this.maxHeaderListSize) out.push(name, value);
    }
    if (listSize > this.maxHeaderListSize) {
      out.length = outStart;
      throw new HpackHeaderListTooLargeError(listSize, this.maxHeaderListSize, end);
    }
  }

  /** The name of a literal: an index in the first byte's N-bit prefix, or 0 and a string. */
  private literalName(block: Buffer, end: number, prefixBits: number, at: number): string {
    const index = decodeInteger(this, block, end, prefixBits);
    if (index === 0) return this.readString(block, end);
    if (index <= STATIC_TABLE_LENGTH) return STATIC_NAMES[index] as string;
    const i = index - STATIC_TABLE_LENGTH - 1;
    if (i >= this.count) throw this.badIndex(index, at);
    return this.names[(this.head - 1 - i) & this.mask] as string;
  }

  /** §5.2 string literal at `pos`: H bit, 7-bit-prefix length, octets. */
  private readString(block: Buffer, end: number): string {
    const at = this.pos;
    if (at >= end) throw new HpackError('truncated block: string expected', at);
    const huffman = (block[at] as number) >= 0x80;
    const length = decodeInteger(this, block, end, 7);
    const start = this.pos;
    if (length > end - start) {
      throw new HpackError(`string of ${length} bytes overruns the block (${end - start} left)`, at);
    }
    const stop = start + length;
    this.pos = stop;
    if (length === 0) return '';
    return huffman ? huffmanDecode(block, start, stop) : latin1Slice(block, start, stop);
  }

  /** §4.4: evict from the old end until the entry fits, then add it (or just empty the table). */
  private insert(name: string, value: string): void {
    const size = name.length + value.length + ENTRY_OVERHEAD;
    if (size > this.capacity) {
      this.evictTo(0);
      return;
    }
    this.evictTo(this.capacity - size);
    if (this.count === this.names.length) this.growRing();
    const slot = this.head;
    this.names[slot] = name;
    this.values[slot] = value;
    this.head = (slot + 1) & this.mask;
    this.count++;
    this.size += size;
  }

  /** Evicts oldest entries until the table's size is at most `target`. */
  private evictTo(target: number): void {
    while (this.size > target) {
      const slot = (this.head - this.count) & this.mask;
      this.size -=
        (this.names[slot] as string).length + (this.values[slot] as string).length + ENTRY_OVERHEAD;
      this.names[slot] = '';
      this.values[slot] = '';
      this.count--;
    }
  }

  private growRing(): void {
    const slots = this.names.length * 2;
    const names = new Array<string>(slots).fill('');
    const values = new Array<string>(slots).fill('');
    // Oldest first, so the newest ends at count - 1 and head wraps to count.
    for (let i = 0; i < this.count; i++) {
      const slot = (this.head - this.count + i) & this.mask;
      names[i] = this.names[slot] as string;
      values[i] = this.values[slot] as string;
    }
    this.names = names;
    this.values = values;
    this.mask = slots - 1;
    this.head = this.count;
  }

  private badIndex(index: number, at: number): HpackError {
    const last = STATIC_TABLE_LENGTH + this.count;
    return new HpackError(`index ${index} out of range (table holds 1..${last})`, at);
  }

  private missingUpdate(at: number): HpackError {
    return new HpackError(
      `dynamic table size update to at most ${this.limit} required before the first field`,
      at,
    );
  }
}

function checkSize(n: number, what: string): number {
  if (!Number.isInteger(n) || n < 0 || n > MAX_INTEGER) {
    throw new RangeError(`HpackDecoder: ${what} must be an integer in 0..2^31-1, got ${n}`);
  }
  return n;
}
