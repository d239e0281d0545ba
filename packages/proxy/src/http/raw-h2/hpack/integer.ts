// HPACK prefix integers (RFC 7541 §5.1): a value in the low N bits of a first byte, or, when it does
// not fit, all N bits set followed by 7-bit groups, least significant first, high bit = "more".
import type { ByteSink } from './byte-sink.js';
import { HpackError } from './errors.js';

/** Largest integer the decoder accepts: anything larger is no sane length, index or table size. */
export const MAX_INTEGER = 0x7fffffff;
/** Continuation bytes allowed after the prefix: five 7-bit groups cover 2^31 - 1 plus any prefix. */
const MAX_CONTINUATION_BYTES = 5;

/** A read position the integer decoder advances (the decoder passes itself). */
export interface Cursor {
  pos: number;
}

/**
 * Writes `value` (0 ≤ value < 2^32) with an N-bit prefix; `flags` are the first byte's bits above
 * the prefix (the representation's pattern).
 */
export function encodeInteger(sink: ByteSink, value: number, prefixBits: number, flags: number): void {
  const max = (1 << prefixBits) - 1;
  if (value < max) {
    sink.byte(flags | value);
    return;
  }
  sink.ensure(6);
  const buf = sink.buf;
  let at = sink.length;
  buf[at++] = flags | max;
  let rest = value - max;
  while (rest >= 0x80) {
    buf[at++] = (rest & 0x7f) | 0x80;
    rest >>>= 7;
  }
  buf[at++] = rest;
  sink.length = at;
}

/**
 * Reads an N-bit-prefix integer at `cursor.pos` (the bits above the prefix are ignored) and moves
 * the cursor past it. Throws HpackError when truncated, too long or larger than MAX_INTEGER.
 */
export function decodeInteger(cursor: Cursor, buf: Buffer, end: number, prefixBits: number): number {
  const start = cursor.pos;
  if (start >= end) throw new HpackError('truncated integer', start);
  const max = (1 << prefixBits) - 1;
  const value = (buf[start] as number) & max;
  if (value < max) {
    cursor.pos = start + 1;
    return value;
  }
  return decodeContinuation(cursor, buf, end, start, max);
}

function decodeContinuation(cursor: Cursor, buf: Buffer, end: number, start: number, max: number): number {
  let value = max;
  let scale = 1;
  let at = start + 1;
  for (let n = 0; ; n++) {
    if (at >= end) throw new HpackError('truncated integer', start);
    if (n === MAX_CONTINUATION_BYTES) throw new HpackError('integer with too many bytes', start);
    const b = buf[at++] as number;
    // Multiplication rather than shifts: 7-bit groups at scale 2^28 would overflow int32.
    value += (b & 0x7f) * scale;
    if (value > MAX_INTEGER) throw new HpackError('integer larger than 2^31-1', start);
    if ((b & 0x80) === 0) break;
    scale *= 0x80;
  }
  cursor.pos = at;
  return value;
}
