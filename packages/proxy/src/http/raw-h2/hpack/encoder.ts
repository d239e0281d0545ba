// HPACK encoder (RFC 7541 §6), tuned for a proxy's CPU rather than for the fewest bytes: exact
// matches in the static or dynamic table go out as one index; other fields as literals, indexed
// unless they are secrets (never indexed, §7.1.3) or vary per request (they would only churn the
// table). Huffman coding is spent only on strings entering the table, whose cost is paid once.
import type { ByteSink } from './byte-sink.js';
import { encodeInteger } from './integer.js';
import { huffmanEncode, huffmanEncodedLength } from './huffman.js';
import { STATIC_NAME_INDEX, STATIC_PAIR_INDEX, STATIC_TABLE_LENGTH } from './static-table.js';

export interface HpackEncoderOptions {
  /** The largest dynamic table we are willing to keep, whatever the peer allows. Default 4096. */
  maxTableSize?: number;
}

/** RFC 9113 §6.5.2: SETTINGS_HEADER_TABLE_SIZE until the peer's SETTINGS say otherwise. */
const DEFAULT_PEER_TABLE_SIZE = 4096;
const ENTRY_OVERHEAD = 32;
/** Fields longer than this (name + value octets) are sent without indexing. */
const MAX_INDEXED_FIELD = 1024;
/** Cookies shorter than this are guessable enough to keep out of the table (§7.1.3). */
const MIN_INDEXED_COOKIE = 20;
const INITIAL_SLOTS = 16;

const enum Policy {
  Index = 0,
  /** Literal without indexing (§6.2.2): values that change from request to request. */
  NoIndex = 1,
  /** Never indexed (§6.2.3): credentials; intermediaries must keep them out of tables too. */
  Never = 2,
  /** Never indexed when shorter than MIN_INDEXED_COOKIE, else indexed. */
  Cookie = 3,
}

/** What the encoder knows about a name before looking at the dynamic table. */
interface NameInfo {
  /** Lowest static index with this name, or 0. */
  staticIndex: number;
  /** Value → static index for exact matches, when the name is in the static table. */
  staticValues: ReadonlyMap<string, number> | undefined;
  policy: Policy;
}

const NAME_INFO = new Map<string, NameInfo>();
for (const [name, staticIndex] of STATIC_NAME_INDEX) {
  NAME_INFO.set(name, { staticIndex, staticValues: STATIC_PAIR_INDEX.get(name), policy: Policy.Index });
}
const POLICIES: ReadonlyArray<readonly [string, Policy]> = [
  ['authorization', Policy.Never],
  ['proxy-authorization', Policy.Never],
  ['set-cookie', Policy.Never],
  ['cookie', Policy.Cookie],
  [':path', Policy.NoIndex],
  ['content-length', Policy.NoIndex],
  ['date', Policy.NoIndex],
  ['etag', Policy.NoIndex],
  ['if-modified-since', Policy.NoIndex],
  ['if-none-match', Policy.NoIndex],
  ['last-modified', Policy.NoIndex],
  ['age', Policy.NoIndex],
  ['x-request-id', Policy.NoIndex],
  ['grpc-timeout', Policy.NoIndex],
  ['grpc-message', Policy.NoIndex],
];
for (const [name, policy] of POLICIES) {
  const info = NAME_INFO.get(name);
  if (info === undefined) NAME_INFO.set(name, { staticIndex: 0, staticValues: undefined, policy });
  else info.policy = policy;
}

/** Dynamic table entries with one name, by absolute insertion number (see HpackEncoder). */
interface DynamicName {
  /** Insertion number of the newest entry with this name. */
  latest: number;
  /** Value → insertion number of the entry holding it. */
  values: Map<string, number>;
}

export class HpackEncoder {
  private readonly ownMax: number;
  /** The dynamic table's maximum size now in force on our side. */
  private capacity: number;
  /** The size the peer's decoder believes in: the last one we signalled (initially the default). */
  private signalled = DEFAULT_PEER_TABLE_SIZE;
  /** The smallest `capacity` since the last block: the peer must hear of it if we went below (§4.2). */
  private lowest: number;

  // The dynamic table. Every entry has an absolute insertion number (0, 1, 2, ...); `inserted` is
  // the next one. The entries alive are numbers inserted - count .. inserted - 1, the entry numbered
  // n sits in ring slot n & mask, and its HPACK index is 61 + inserted - n (newest = 62).
  private names: string[];
  private values: string[];
  private mask: number;
  private inserted = 0;
  private count = 0;
  private size = 0;
  private readonly byName = new Map<string, DynamicName>();

  constructor(options: HpackEncoderOptions = {}) {
    const max = options.maxTableSize ?? 4096;
    if (!Number.isInteger(max) || max < 0) {
      throw new RangeError(`HpackEncoder: maxTableSize must be a non-negative integer, got ${max}`);
    }
    this.ownMax = max;
    this.capacity = Math.min(max, DEFAULT_PEER_TABLE_SIZE);
    this.lowest = this.capacity;
    this.names = new Array<string>(INITIAL_SLOTS).fill('');
    this.values = new Array<string>(INITIAL_SLOTS).fill('');
    this.mask = INITIAL_SLOTS - 1;
  }

  /**
   * Takes the peer's SETTINGS_HEADER_TABLE_SIZE. The table we use is min(maxTableSize, n); a change
   * is signalled at the start of the next block, and a shrink evicts at once.
   */
  setMaxTableSize(n: number): void {
    if (!Number.isInteger(n) || n < 0) {
      throw new RangeError(`HpackEncoder: table size must be a non-negative integer, got ${n}`);
    }
    const next = Math.min(this.ownMax, n);
    this.evictTo(next);
    this.capacity = next;
    if (next < this.lowest) this.lowest = next;
  }

  /** Entries in the dynamic table. */
  get tableLength(): number {
    return this.count;
  }

  /** Size of the dynamic table in RFC 7541 §4.1 terms. */
  get tableSize(): number {
    return this.size;
  }

  /** The dynamic table's maximum size now in force. */
  get tableCapacity(): number {
    return this.capacity;
  }

  /** Encodes one header block from a flat `name, value, ...` list (names lowercase) into `out`. */
  encode(fields: readonly string[], out: ByteSink): void {
    const n = fields.length;
    if ((n & 1) !== 0) throw new RangeError('HpackEncoder: fields must be name, value pairs');
    // §4.2: announce a changed size; if it dipped below both the old and the new size in between,
    // announce the low point first, so that the peer evicts what we evicted.
    const dipped = this.lowest < this.capacity && this.lowest < this.signalled;
    if (dipped || this.capacity !== this.signalled) {
      if (dipped) encodeInteger(out, this.lowest, 5, 0x20);
      encodeInteger(out, this.capacity, 5, 0x20);
      this.signalled = this.capacity;
    }
    this.lowest = this.capacity;
    for (let i = 0; i < n; i += 2) this.field(fields[i] as string, fields[i + 1] as string, out);
  }

  private field(name: string, value: string, out: ByteSink): void {
    let nameIndex = 0;
    let policy = Policy.Index;
    const info = NAME_INFO.get(name);
    if (info !== undefined) {
      const index = info.staticValues?.get(value);
      if (index !== undefined) {
        encodeInteger(out, index, 7, 0x80);
        return;
      }
      nameIndex = info.staticIndex;
      policy = info.policy;
    }
    const dynamic = this.byName.get(name);
    if (dynamic !== undefined) {
      const id = dynamic.values.get(value);
      if (id !== undefined) {
        encodeInteger(out, STATIC_TABLE_LENGTH + this.inserted - id, 7, 0x80);
        return;
      }
      if (nameIndex === 0) nameIndex = STATIC_TABLE_LENGTH + this.inserted - dynamic.latest;
    }

    if (policy === Policy.Cookie) policy = value.length < MIN_INDEXED_COOKIE ? Policy.Never : Policy.Index;
    const octets = name.length + value.length;
    if (policy === Policy.Index && (octets > MAX_INDEXED_FIELD || octets + ENTRY_OVERHEAD > this.capacity)) {
      // Too big to be worth a table slot (or to fit at all: inserting would only empty the table).
      policy = Policy.NoIndex;
    }

    if (policy === Policy.Index) {
      // §6.2.1. The name index refers to the table before this insertion, as the decoder reads it.
      encodeInteger(out, nameIndex, 6, 0x40);
      if (nameIndex === 0) writeStringHuffman(name, out);
      writeStringHuffman(value, out);
      this.insert(name, value, octets + ENTRY_OVERHEAD);
    } else {
      // §6.2.2 (0000) or §6.2.3 (0001), both with a 4-bit name index.
      encodeInteger(out, nameIndex, 4, policy === Policy.Never ? 0x10 : 0x00);
      if (nameIndex === 0) writeStringRaw(name, out);
      writeStringRaw(value, out);
    }
  }

  private insert(name: string, value: string, size: number): void {
    this.evictTo(this.capacity - size);
    if (this.count === this.names.length) this.growRing();
    const id = this.inserted++;
    const slot = id & this.mask;
    this.names[slot] = name;
    this.values[slot] = value;
    this.count++;
    this.size += size;
    const dynamic = this.byName.get(name);
    if (dynamic === undefined) {
      this.byName.set(name, { latest: id, values: new Map([[value, id]]) });
    } else {
      dynamic.latest = id;
      dynamic.values.set(value, id);
    }
  }

  /** Evicts the oldest entries until the table's size is at most `target`, and forgets them. */
  private evictTo(target: number): void {
    while (this.size > target) {
      const id = this.inserted - this.count;
      const slot = id & this.mask;
      const name = this.names[slot] as string;
      const value = this.values[slot] as string;
      this.size -= name.length + value.length + ENTRY_OVERHEAD;
      this.names[slot] = '';
      this.values[slot] = '';
      this.count--;
      const dynamic = this.byName.get(name) as DynamicName;
      // Being the oldest, this entry is the newest with its name only if it is the last one.
      if (dynamic.latest === id) this.byName.delete(name);
      else if (dynamic.values.get(value) === id) dynamic.values.delete(value);
    }
  }

  private growRing(): void {
    const slots = this.names.length * 2;
    const mask = slots - 1;
    const names = new Array<string>(slots).fill('');
    const values = new Array<string>(slots).fill('');
    for (let id = this.inserted - this.count; id < this.inserted; id++) {
      names[id & mask] = this.names[id & this.mask] as string;
      values[id & mask] = this.values[id & this.mask] as string;
    }
    this.names = names;
    this.values = values;
    this.mask = mask;
  }
}

/** §5.2 string, raw octets (H = 0). */
function writeStringRaw(s: string, out: ByteSink): void {
  encodeInteger(out, s.length, 7, 0x00);
  out.latin1(s);
}

/** §5.2 string, Huffman-coded when that is shorter. */
function writeStringHuffman(s: string, out: ByteSink): void {
  const length = huffmanEncodedLength(s);
  if (length >= s.length) {
    writeStringRaw(s, out);
    return;
  }
  encodeInteger(out, length, 7, 0x80);
  out.ensure(length);
  out.length = huffmanEncode(s, out.buf, out.length);
}
