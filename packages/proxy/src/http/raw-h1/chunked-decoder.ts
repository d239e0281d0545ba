// The chunked-body scanner of the raw-socket HTTP/1.1 engine of issue #5 (packages/proxy/src/
// http/raw-h1; not wired into the proxy yet). The engine forwards a chunked body byte for byte, as
// received; this finds where the body ends (and refuses a malformed one), incrementally, over
// whatever pieces the socket delivers. It never copies the data: an optional ChunkedSink is handed
// each run of chunk data as a range of the piece being scanned (to de-chunk a body for an HTTP/1.0
// client, or to write it into an HTTP/2 stream). Trailer fields are kept, as text, only when the
// body has some (the engine reads grpc-status from them); the common `0\r\n\r\n` keeps nothing.
//
// Rules applied (RFC 9112 §7.1):
//   chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF; last-chunk = 1*"0" [ chunk-ext ] CRLF;
//   chunked-body ends with the trailer section (field lines, §7.1.2) and a final CRLF;
//   chunk-size is 1*HEXDIG; we refuse sizes above 2^53 - 1 (what a JavaScript number counts
//   exactly) and more than 16 digits;
//   chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] ), but with no BWS at all: llhttp
//   (Node) refuses it in strict mode, and a chunk-size line two parsers read differently is how
//   chunked smuggling starts;
//   extensions are passed through, not interpreted, but must follow that grammar (token names,
//   token or quoted-string values) and are bounded in total per message (Node's own limit, after
//   CVE-2024-22019, is 16 KiB);
//   every line ends in CRLF: a bare CR or LF is refused, as in heads;
//   trailer lines are checked as header lines (token name, colon, no CTL, no obs-fold) and bounded.
// A refusal is a HeadError with the status for the side it came from (400 request, 502 response);
// its offset counts bytes from the start of the body.
import { hex, hexValue, isControl, TOKEN } from './field-syntax.js';
import { type HeadError, HeadErrorCode, type HeadErrorStatus, headError } from './head-error.js';

export interface ChunkedLimits {
  /** Bytes of chunk extensions in one message (every chunk line's after the size). */
  readonly maxExtensionBytes?: number;
  /** Bytes of the trailer section, its final CRLF included. */
  readonly maxTrailerBytes?: number;
}
export const DEFAULT_MAX_CHUNK_EXTENSION_BYTES = 16 * 1024;
export const DEFAULT_MAX_TRAILER_BYTES = 16 * 1024;

/** Receives the decoded payload of a chunked body, as ranges of the pieces given to scan(). */
export interface ChunkedSink {
  /**
   * Chunk data bytes buf[start, end) of the piece being scanned (never called with start === end).
   * Called synchronously inside scan(), in order. The range is a view of the caller's piece, not a
   * copy: copy it to keep it past the piece's lifetime. It must not call scan() on the same scanner;
   * if it throws, the error leaves scan() and the scanner must not be used again.
   */
  data(buf: Buffer, start: number, end: number): void;
}

/** How much of a piece belongs to the body, and whether the body ended in it. */
export interface ChunkedProgress {
  readonly kind: 'progress';
  /** Bytes of the piece (from the offset given) that are part of this body. */
  readonly consumed: number;
  /** The body's last byte was among them: what follows belongs to the next message. */
  readonly done: boolean;
}

// Small integers: the byte loop switches on them.
const State = {
  SizeFirst: 0,
  Size: 1,
  Extension: 2,
  SizeLf: 3,
  Data: 4,
  DataCr: 5,
  DataLf: 6,
  TrailerStart: 7,
  TrailerName: 8,
  TrailerValue: 9,
  TrailerLf: 10,
  EndLf: 11,
  Done: 12,
} as const;
type State = (typeof State)[keyof typeof State];

// Where in a chunk extension the scanner is.
const Ext = {
  NameStart: 0,
  Name: 1,
  ValueStart: 2,
  Token: 3,
  Quoted: 4,
  Escape: 5,
  AfterQuoted: 6,
} as const;
type Ext = (typeof Ext)[keyof typeof Ext];

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HTAB = 0x09;
const MAX_SIZE_DIGITS = 16;
const NO_TRAILERS: readonly string[] = Object.freeze([]);

/** One chunked body's scanner: feed it each piece of the body in order. */
export class ChunkedScanner {
  readonly #status: HeadErrorStatus;
  readonly #maxExtensionBytes: number;
  readonly #maxTrailerBytes: number;
  #state: State = State.SizeFirst;
  #ext: Ext = Ext.NameStart;
  #size = 0;
  #digits = 0;
  #remaining = 0;
  #extensionBytes = 0;
  #trailerBytes = 0;
  #position = 0;
  #pieceOffset = 0;
  #dataBytes = 0;
  #failed: HeadError | undefined;
  readonly #sink: ChunkedSink | undefined;
  // The trailer section's text (latin1: one char a byte) from its first field line on, once there
  // is one; appended a piece at a time (#trailerFrom: where in the current piece it resumes, or -1).
  // Bounded by maxTrailerBytes, since every byte of it was counted against that limit.
  #trailerText: string | undefined;
  #trailerFrom = -1;
  #trailers: readonly string[] | undefined;

  /**
   * `side` picks the status of refusals: 400 for a request body, 502 for a response body. `sink`,
   * if given, receives the chunk data (the decoded payload) as it is scanned.
   */
  constructor(side: 'request' | 'response', limits: ChunkedLimits = {}, sink?: ChunkedSink) {
    this.#status = side === 'request' ? 400 : 502;
    this.#sink = sink;
    this.#maxExtensionBytes = limits.maxExtensionBytes ?? DEFAULT_MAX_CHUNK_EXTENSION_BYTES;
    this.#maxTrailerBytes = limits.maxTrailerBytes ?? DEFAULT_MAX_TRAILER_BYTES;
  }

  /** Whether the whole body, trailers included, was seen. */
  get done(): boolean {
    return this.#state === State.Done;
  }

  /** Bytes of chunk data (the decoded payload) seen so far. */
  get dataBytes(): number {
    return this.#dataBytes;
  }

  /**
   * The trailer fields, once done: flat [name, value, name, value, ...] in order, names as sent,
   * values without leading or trailing SP/HTAB (RFC 9110 §5.5). Frozen; empty when there were
   * none, before the body is done, and after a refusal.
   */
  get trailers(): readonly string[] {
    if (this.#state !== State.Done || this.#trailerText === undefined) return NO_TRAILERS;
    this.#trailers ??= splitTrailers(this.#trailerText);
    return this.#trailers;
  }

  /**
   * Scans `buf` from `offset`. Returns how many of those bytes belong to the body, or the refusal
   * (after which every call returns it again). Once done, consumes nothing more.
   */
  scan(buf: Buffer, offset = 0): ChunkedProgress | HeadError {
    if (this.#failed !== undefined) return this.#failed;
    const end = buf.length;
    this.#pieceOffset = offset;
    let i = offset;
    // Inside a trailer section that has field lines: keep collecting its text from this piece on.
    if (this.#trailerText !== undefined && this.#state !== State.Done) this.#trailerFrom = offset;
    while (i < end && this.#state !== State.Done) {
      const c = buf[i] as number;
      // Every byte from the first trailer line on counts against the trailer limit.
      if (this.#state >= State.TrailerStart && ++this.#trailerBytes > this.#maxTrailerBytes)
        return this.#fail(
          HeadErrorCode.BadTrailer,
          `trailer section longer than ${this.#maxTrailerBytes} bytes`,
          i,
        );
      switch (this.#state) {
        case State.SizeFirst:
        case State.Size: {
          const v = hexValue(c);
          if (v >= 0) {
            if (++this.#digits > MAX_SIZE_DIGITS || this.#size > (Number.MAX_SAFE_INTEGER - v) / 16)
              return this.#fail(
                HeadErrorCode.ChunkSizeTooLarge,
                `chunk size above 2^53-1 or longer than ${MAX_SIZE_DIGITS} digits`,
                i,
              );
            this.#size = this.#size * 16 + v;
            this.#state = State.Size;
          } else if (this.#state === State.SizeFirst) {
            return this.#fail(HeadErrorCode.BadChunkSize, `chunk size expected, got 0x${hex(c)}`, i);
          } else if (c === CR) this.#state = State.SizeLf;
          else if (c === 0x3b) this.#startExtension();
          else
            return this.#fail(HeadErrorCode.BadChunkSize, `invalid byte 0x${hex(c)} after the chunk size`, i);
          i++;
          break;
        }
        case State.Extension: {
          if (c !== CR && ++this.#extensionBytes > this.#maxExtensionBytes)
            return this.#fail(
              HeadErrorCode.BadChunkExtension,
              `chunk extensions longer than ${this.#maxExtensionBytes} bytes in one message`,
              i,
            );
          const problem = this.#extensionByte(c);
          if (problem !== undefined) return this.#fail(HeadErrorCode.BadChunkExtension, problem, i);
          i++;
          break;
        }
        case State.SizeLf:
          if (c !== LF)
            return this.#fail(HeadErrorCode.MissingChunkCrlf, 'chunk-size line ends in a bare CR', i);
          if (this.#size === 0) this.#state = State.TrailerStart;
          else {
            this.#remaining = this.#size;
            this.#state = State.Data;
          }
          i++;
          break;
        case State.Data: {
          // n > 0: #remaining > 0 in this state (a zero size goes to the trailers) and i < end.
          const n = Math.min(this.#remaining, end - i);
          this.#remaining -= n;
          this.#dataBytes += n;
          if (this.#sink !== undefined) this.#sink.data(buf, i, i + n);
          i += n;
          if (this.#remaining === 0) this.#state = State.DataCr;
          break;
        }
        case State.DataCr:
        case State.DataLf:
          if (c !== (this.#state === State.DataCr ? CR : LF))
            return this.#fail(
              HeadErrorCode.MissingChunkCrlf,
              `chunk data of ${this.#size} bytes not followed by CRLF (got 0x${hex(c)})`,
              i,
            );
          if (this.#state === State.DataCr) this.#state = State.DataLf;
          else {
            this.#state = State.SizeFirst;
            this.#size = 0;
            this.#digits = 0;
          }
          i++;
          break;
        case State.TrailerStart:
          if (c === CR) this.#state = State.EndLf;
          else if (c === SP || c === HTAB)
            return this.#fail(HeadErrorCode.BadTrailer, 'trailer line starts with whitespace (obs-fold)', i);
          else if (TOKEN[c] === 1) {
            this.#state = State.TrailerName;
            // The first field line: only now does the body cost a string.
            if (this.#trailerText === undefined) {
              this.#trailerText = '';
              this.#trailerFrom = i;
            }
          } else
            return this.#fail(
              HeadErrorCode.BadTrailer,
              `invalid byte 0x${hex(c)} starting a trailer line`,
              i,
            );
          i++;
          break;
        case State.TrailerName:
          if (c === 0x3a) this.#state = State.TrailerValue;
          else if (TOKEN[c] !== 1)
            return this.#fail(
              HeadErrorCode.BadTrailer,
              `invalid byte 0x${hex(c)} in a trailer field name`,
              i,
            );
          i++;
          break;
        case State.TrailerValue:
          if (c === CR) this.#state = State.TrailerLf;
          else if (isControl(c))
            return this.#fail(
              HeadErrorCode.BadTrailer,
              `control character 0x${hex(c)} in a trailer value`,
              i,
            );
          i++;
          break;
        case State.TrailerLf:
        case State.EndLf:
          if (c !== LF)
            return this.#fail(HeadErrorCode.MissingChunkCrlf, 'trailer section line ends in a bare CR', i);
          this.#state = this.#state === State.EndLf ? State.Done : State.TrailerStart;
          i++;
          break;
      }
    }
    if (this.#trailerFrom >= 0) {
      this.#trailerText += buf.toString('latin1', this.#trailerFrom, i);
      this.#trailerFrom = -1;
    }
    const consumed = i - offset;
    this.#position += consumed;
    return { kind: 'progress', consumed, done: this.#state === State.Done };
  }

  #startExtension(): void {
    this.#state = State.Extension;
    this.#ext = Ext.NameStart;
  }

  /**
   * One byte of a chunk extension (after a ";"), against RFC 9112 §7.1.1's grammar without its
   * BWS: ext-name [ "=" ( token / quoted-string ) ], then ";" or the line's CR. Returns what is
   * wrong, or undefined.
   */
  #extensionByte(c: number): string | undefined {
    const token = TOKEN[c] === 1;
    switch (this.#ext) {
      case Ext.NameStart:
        if (!token) return `chunk extension name expected after ";", got 0x${hex(c)}`;
        this.#ext = Ext.Name;
        return undefined;
      case Ext.Name:
      case Ext.Token:
      case Ext.AfterQuoted:
        if (c === CR) this.#state = State.SizeLf;
        else if (c === 0x3b) this.#ext = Ext.NameStart;
        else if (c === 0x3d && this.#ext === Ext.Name) this.#ext = Ext.ValueStart;
        else if (!token || this.#ext === Ext.AfterQuoted)
          return `invalid byte 0x${hex(c)} in a chunk extension`;
        return undefined;
      case Ext.ValueStart:
        if (c === 0x22) this.#ext = Ext.Quoted;
        else if (token) this.#ext = Ext.Token;
        else return `chunk extension value expected after "=", got 0x${hex(c)}`;
        return undefined;
      case Ext.Quoted:
        // qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text (RFC 9110 §5.6.4)
        if (c === 0x22) this.#ext = Ext.AfterQuoted;
        else if (c === 0x5c) this.#ext = Ext.Escape;
        else if (isControl(c)) return `control character 0x${hex(c)} in a quoted chunk extension value`;
        return undefined;
      case Ext.Escape:
        if (isControl(c)) return `control character 0x${hex(c)} after "\\" in a chunk extension`;
        this.#ext = Ext.Quoted;
        return undefined;
    }
  }

  #fail(code: HeadErrorCode, what: string, at: number): HeadError {
    // `at` is an index into the current piece; the offset reported counts from the body's start.
    const offset = this.#position + at - this.#pieceOffset;
    this.#trailerText = undefined;
    this.#trailerFrom = -1;
    this.#failed = headError(code, this.#status, `${what} (RFC 9112 §7.1), in the chunked body`, offset, 0);
    return this.#failed;
  }
}

/**
 * A scanned trailer section's text ("name:value" lines, each ending in CRLF, then CRLF; already
 * checked) as [name, value, ...]. The name is everything before the first colon (a token, so no
 * whitespace); the value is trimmed of SP/HTAB only: String#trim would also take U+00A0, which is
 * the obs-text byte 0xA0 in latin1.
 */
function splitTrailers(text: string): readonly string[] {
  const fields: string[] = [];
  for (let at = 0; ;) {
    const eol = text.indexOf('\r\n', at);
    if (eol <= at) break; // the empty line ending the section (or, defensively, no more lines)
    const colon = text.indexOf(':', at);
    let from = colon + 1;
    let to = eol;
    while (from < to && isOws(text.charCodeAt(from))) from++;
    while (to > from && isOws(text.charCodeAt(to - 1))) to--;
    fields.push(text.slice(at, colon), text.slice(from, to));
    at = eol + 2;
  }
  return Object.freeze(fields);
}

function isOws(c: number): boolean {
  return c === SP || c === HTAB;
}
