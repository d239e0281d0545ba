// ByteSink: a growable byte writer over one Buffer, for building header blocks and frames without
// allocating per write. Also the latin1 slice helper the decoder uses to turn bytes into strings.

const SHORT_STRING = 24;

/** A Buffer writer that doubles its storage when full. `buf[0, length)` is what was written. */
export class ByteSink {
  buf: Buffer;
  length = 0;

  constructor(initialSize = 512) {
    this.buf = Buffer.allocUnsafe(Math.max(16, initialSize));
  }

  /** Makes room for `n` more bytes after `length`. */
  ensure(n: number): void {
    if (this.length + n > this.buf.length) this.grow(n);
  }

  byte(b: number): void {
    if (this.length === this.buf.length) this.grow(1);
    this.buf[this.length++] = b;
  }

  bytes(src: Buffer | Uint8Array): void {
    const n = src.length;
    if (this.length + n > this.buf.length) this.grow(n);
    this.buf.set(src, this.length);
    this.length += n;
  }

  /** Writes each char of `s` as one byte (its low 8 bits): HTTP field octets are latin1. */
  latin1(s: string): void {
    const n = s.length;
    if (this.length + n > this.buf.length) this.grow(n);
    if (n < SHORT_STRING) {
      // A plain loop beats Buffer#write's argument handling for the short strings headers mostly are.
      const buf = this.buf;
      let at = this.length;
      for (let i = 0; i < n; i++) buf[at++] = s.charCodeAt(i);
      this.length = at;
    } else {
      this.length += this.buf.write(s, this.length, n, 'latin1');
    }
  }

  /**
   * Reserves `n` bytes (left as they are) and returns their offset, for a field whose value is known
   * only later, such as a frame header's length.
   */
  skip(n: number): number {
    if (this.length + n > this.buf.length) this.grow(n);
    const at = this.length;
    this.length += n;
    return at;
  }

  /** Forgets what was written; keeps the storage. */
  reset(): void {
    this.length = 0;
  }

  /** The written bytes as a view of the storage: valid only until the next write or reset. */
  view(): Buffer {
    return this.buf.subarray(0, this.length);
  }

  /** A copy of the written bytes (safe to hand to a socket), then reset. */
  take(): Buffer {
    const out = Buffer.allocUnsafe(this.length);
    this.buf.copy(out, 0, 0, this.length);
    this.length = 0;
    return out;
  }

  private grow(n: number): void {
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }
}

type Latin1Slicer = (buf: Buffer, start: number, end: number) => string;
type WithLatin1Slice = Buffer & { latin1Slice(start: number, end: number): string };

/**
 * `buf[start, end)` as a string of one char per byte. Node's Buffer#latin1Slice skips toString's
 * encoding lookup; it is not in the typings, so fall back to toString should a runtime lack it.
 */
export const latin1Slice: Latin1Slicer =
  typeof (Buffer.prototype as Partial<WithLatin1Slice>).latin1Slice === 'function'
    ? (buf, start, end) => (buf as WithLatin1Slice).latin1Slice(start, end)
    : (buf, start, end) => buf.toString('latin1', start, end);
