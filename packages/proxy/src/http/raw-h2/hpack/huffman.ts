// The HPACK Huffman code (RFC 7541 Appendix B, §5.2): the table of 257 codes (256 octets and EOS),
// an encoder, and a decoder that consumes input a nibble at a time through a state machine built
// from the table when the module loads. Strings are octets, handled as latin1 chars.
import { latin1Slice } from './byte-sink.js';
import { HpackError } from './errors.js';

/** Code of each symbol, right-aligned; symbol 256 is EOS. Facts from RFC 7541 Appendix B. */
// prettier-ignore
const CODES = new Uint32Array([
  0x1ff8, 0x7fffd8, 0xfffffe2, 0xfffffe3, 0xfffffe4, 0xfffffe5, 0xfffffe6, 0xfffffe7,
  0xfffffe8, 0xffffea, 0x3ffffffc, 0xfffffe9, 0xfffffea, 0x3ffffffd, 0xfffffeb, 0xfffffec,
  0xfffffed, 0xfffffee, 0xfffffef, 0xffffff0, 0xffffff1, 0xffffff2, 0x3ffffffe, 0xffffff3,
  0xffffff4, 0xffffff5, 0xffffff6, 0xffffff7, 0xffffff8, 0xffffff9, 0xffffffa, 0xffffffb,
  0x14, 0x3f8, 0x3f9, 0xffa, 0x1ff9, 0x15, 0xf8, 0x7fa,
  0x3fa, 0x3fb, 0xf9, 0x7fb, 0xfa, 0x16, 0x17, 0x18,
  0x0, 0x1, 0x2, 0x19, 0x1a, 0x1b, 0x1c, 0x1d,
  0x1e, 0x1f, 0x5c, 0xfb, 0x7ffc, 0x20, 0xffb, 0x3fc,
  0x1ffa, 0x21, 0x5d, 0x5e, 0x5f, 0x60, 0x61, 0x62,
  0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a,
  0x6b, 0x6c, 0x6d, 0x6e, 0x6f, 0x70, 0x71, 0x72,
  0xfc, 0x73, 0xfd, 0x1ffb, 0x7fff0, 0x1ffc, 0x3ffc, 0x22,
  0x7ffd, 0x3, 0x23, 0x4, 0x24, 0x5, 0x25, 0x26,
  0x27, 0x6, 0x74, 0x75, 0x28, 0x29, 0x2a, 0x7,
  0x2b, 0x76, 0x2c, 0x8, 0x9, 0x2d, 0x77, 0x78,
  0x79, 0x7a, 0x7b, 0x7ffe, 0x7fc, 0x3ffd, 0x1ffd, 0xffffffc,
  0xfffe6, 0x3fffd2, 0xfffe7, 0xfffe8, 0x3fffd3, 0x3fffd4, 0x3fffd5, 0x7fffd9,
  0x3fffd6, 0x7fffda, 0x7fffdb, 0x7fffdc, 0x7fffdd, 0x7fffde, 0xffffeb, 0x7fffdf,
  0xffffec, 0xffffed, 0x3fffd7, 0x7fffe0, 0xffffee, 0x7fffe1, 0x7fffe2, 0x7fffe3,
  0x7fffe4, 0x1fffdc, 0x3fffd8, 0x7fffe5, 0x3fffd9, 0x7fffe6, 0x7fffe7, 0xffffef,
  0x3fffda, 0x1fffdd, 0xfffe9, 0x3fffdb, 0x3fffdc, 0x7fffe8, 0x7fffe9, 0x1fffde,
  0x7fffea, 0x3fffdd, 0x3fffde, 0xfffff0, 0x1fffdf, 0x3fffdf, 0x7fffeb, 0x7fffec,
  0x1fffe0, 0x1fffe1, 0x3fffe0, 0x1fffe2, 0x7fffed, 0x3fffe1, 0x7fffee, 0x7fffef,
  0xfffea, 0x3fffe2, 0x3fffe3, 0x3fffe4, 0x7ffff0, 0x3fffe5, 0x3fffe6, 0x7ffff1,
  0x3ffffe0, 0x3ffffe1, 0xfffeb, 0x7fff1, 0x3fffe7, 0x7ffff2, 0x3fffe8, 0x1ffffec,
  0x3ffffe2, 0x3ffffe3, 0x3ffffe4, 0x7ffffde, 0x7ffffdf, 0x3ffffe5, 0xfffff1, 0x1ffffed,
  0x7fff2, 0x1fffe3, 0x3ffffe6, 0x7ffffe0, 0x7ffffe1, 0x3ffffe7, 0x7ffffe2, 0xfffff2,
  0x1fffe4, 0x1fffe5, 0x3ffffe8, 0x3ffffe9, 0xffffffd, 0x7ffffe3, 0x7ffffe4, 0x7ffffe5,
  0xfffec, 0xfffff3, 0xfffed, 0x1fffe6, 0x3fffe9, 0x1fffe7, 0x1fffe8, 0x7ffff3,
  0x3fffea, 0x3fffeb, 0x1ffffee, 0x1ffffef, 0xfffff4, 0xfffff5, 0x3ffffea, 0x7ffff4,
  0x3ffffeb, 0x7ffffe6, 0x3ffffec, 0x3ffffed, 0x7ffffe7, 0x7ffffe8, 0x7ffffe9, 0x7ffffea,
  0x7ffffeb, 0xffffffe, 0x7ffffec, 0x7ffffed, 0x7ffffee, 0x7ffffef, 0x7fffff0, 0x3ffffee,
  0x3fffffff,
]);

/** Bit length of each symbol's code. */
// prettier-ignore
const LENGTHS = new Uint8Array([
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28,
  28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
  6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6,
  5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
  13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
  7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
  15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5,
  6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
  20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23,
  24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
  22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23,
  21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
  26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25,
  19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
  20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23,
  26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
  30,
]);

const EOS = 256;

// ---------------------------------------------------------------------------------------------
// Decoder state machine.
//
// The states are the internal nodes of the code tree (a complete binary tree with 257 leaves has
// 256 internal nodes; node 0 is the root). For each state and each 4-bit input, TRANSITIONS holds
// the state reached, and whether a symbol was completed on the way (at most one: every code is at
// least 5 bits long, so a nibble that finishes one code cannot also finish the next) or EOS was
// reached, which §5.2 makes an error. Entry layout: bits 0-7 next state, 8-15 symbol, 16 emit,
// 17 fail.

const STATES = 256;
const EMIT = 1 << 16;
const FAIL = 1 << 17;
const TRANSITIONS = new Uint32Array(STATES * 16);
/**
 * States a string may end in: the root (ended on a code boundary) or a node reached from the root
 * by 1 to 7 one-bits, i.e. padding that is a short prefix of EOS (§5.2).
 */
const ACCEPTING = new Uint8Array(STATES);

buildDecoder();

function buildDecoder(): void {
  // child[node * 2 + bit]: an internal node id (≥ 0) or a leaf as -(symbol + 1).
  const child = new Int32Array(STATES * 2).fill(STATES);
  let nodes = 1;
  for (let sym = 0; sym <= EOS; sym++) {
    const code = CODES[sym] as number;
    const len = LENGTHS[sym] as number;
    let node = 0;
    for (let i = len - 1; i > 0; i--) {
      const slot = node * 2 + ((code >>> i) & 1);
      if (child[slot] === STATES) child[slot] = nodes++;
      node = child[slot] as number;
    }
    child[node * 2 + (code & 1)] = -(sym + 1);
  }
  if (nodes !== STATES) throw new Error(`HPACK Huffman table is not a complete code (${nodes} nodes)`);

  // The all-ones path from the root: those nodes within 7 bits are where valid padding ends.
  ACCEPTING[0] = 1;
  let onesNode = 0;
  for (let depth = 1; depth <= 7; depth++) {
    onesNode = child[onesNode * 2 + 1] as number;
    ACCEPTING[onesNode] = 1;
  }

  for (let state = 0; state < STATES; state++) {
    for (let nibble = 0; nibble < 16; nibble++) {
      let node = state;
      let entry = 0;
      for (let bit = 3; bit >= 0; bit--) {
        const next = child[node * 2 + ((nibble >>> bit) & 1)] as number;
        if (next >= 0) {
          node = next;
          continue;
        }
        const sym = -next - 1;
        if (sym === EOS) {
          entry = FAIL;
          break;
        }
        if (entry !== 0) throw new Error('HPACK Huffman table has a code shorter than 5 bits');
        entry = EMIT | (sym << 8);
        node = 0;
      }
      TRANSITIONS[state * 16 + nibble] = entry === FAIL ? FAIL : entry | node;
    }
  }
}

// Decoded symbols are collected here and turned into one string at the end; grown as needed and
// reused, since decoding is synchronous.
let scratch = Buffer.allocUnsafe(1024);

/**
 * Decodes the Huffman-coded octets `buf[start, end)` to a latin1 string. Throws HpackError (with the
 * offset in `buf`) when the input holds EOS or its padding is not 0-7 one-bits (RFC 7541 §5.2).
 */
export function huffmanDecode(buf: Buffer, start: number, end: number): string {
  // Every code is at least 5 bits, which bounds the output.
  const most = Math.floor(((end - start) * 8) / 5);
  if (most > scratch.length) scratch = Buffer.allocUnsafe(Math.max(most, scratch.length * 2));
  const out = scratch;
  let n = 0;
  let state = 0;
  for (let i = start; i < end; i++) {
    const b = buf[i] as number;
    let e = TRANSITIONS[(state << 4) | (b >>> 4)] as number;
    if (e >= EMIT) {
      if (e & FAIL) throw new HpackError('EOS symbol in Huffman string', i);
      out[n++] = e >>> 8;
    }
    state = e & 0xff;
    e = TRANSITIONS[(state << 4) | (b & 0x0f)] as number;
    if (e >= EMIT) {
      if (e & FAIL) throw new HpackError('EOS symbol in Huffman string', i);
      out[n++] = e >>> 8;
    }
    state = e & 0xff;
  }
  if (ACCEPTING[state] === 0) throw new HpackError('invalid Huffman padding', end - 1);
  return latin1Slice(out, 0, n);
}

/** Bytes `s` takes Huffman-coded (chars are octets: only the low 8 bits count). */
export function huffmanEncodedLength(s: string): number {
  let bits = 0;
  for (let i = 0; i < s.length; i++) bits += LENGTHS[s.charCodeAt(i) & 0xff] as number;
  return (bits + 7) >>> 3;
}

/**
 * Writes `s` Huffman-coded into `out` at `offset`, padded with one-bits, and returns the offset
 * after it. `out` must have huffmanEncodedLength(s) bytes of room.
 */
export function huffmanEncode(s: string, out: Buffer, offset: number): number {
  // `acc` holds the `bits` (< 8 between symbols) not yet written, right-aligned; adding a code of
  // up to 24 bits keeps it within 31 bits, longer codes go in two parts.
  let acc = 0;
  let bits = 0;
  let at = offset;
  for (let i = 0; i < s.length; i++) {
    const sym = s.charCodeAt(i) & 0xff;
    const code = CODES[sym] as number;
    const len = LENGTHS[sym] as number;
    if (len > 24) {
      acc = (acc << (len - 16)) | (code >>> 16);
      bits += len - 16;
      while (bits >= 8) {
        bits -= 8;
        out[at++] = acc >>> bits;
      }
      acc = ((acc & ((1 << bits) - 1)) << 16) | (code & 0xffff);
      bits += 16;
    } else {
      acc = (acc << len) | code;
      bits += len;
    }
    while (bits >= 8) {
      bits -= 8;
      out[at++] = acc >>> bits;
    }
    acc &= (1 << bits) - 1;
  }
  if (bits > 0) out[at++] = (acc << (8 - bits)) | (0xff >>> bits);
  return at;
}
