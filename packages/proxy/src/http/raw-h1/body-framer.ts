// Where a message body ends, over the pieces a socket delivers: a length counted down, a chunked
// body scanned (chunked-decoder.ts), or everything until the peer closes. The engine forwards the
// bytes it is told belong to the body as they are; a sink, when given, also receives the body's
// decoded data (the payload without chunk framing), for a peer that needs it decoded.
import { ChunkedScanner, type ChunkedSink } from './chunked-decoder.js';
import type { BodyFraming } from './framing.js';
import type { HeadError } from './head-error.js';

const NO_TRAILERS: readonly string[] = Object.freeze([]);

export class BodyFramer {
  #remaining: number;
  readonly #scanner: ChunkedScanner | undefined;
  readonly #untilClose: boolean;
  #done: boolean;

  constructor(
    framing: BodyFraming,
    side: 'request' | 'response',
    private readonly sink?: ChunkedSink,
  ) {
    this.#remaining = framing.kind === 'length' ? framing.length : 0;
    this.#scanner = framing.kind === 'chunked' ? new ChunkedScanner(side, {}, sink) : undefined;
    this.#untilClose = framing.kind === 'until-close';
    this.#done = framing.kind === 'none';
  }

  /** The whole body was seen (an until-close body ends only with `end()`). */
  get done(): boolean {
    return this.#done;
  }

  /** The body's data also goes to a sink (decoded). */
  get decoding(): boolean {
    return this.sink !== undefined;
  }

  get chunked(): boolean {
    return this.#scanner !== undefined;
  }

  /** A chunked body's trailer fields, once done (flat [name, value, …]). */
  get trailers(): readonly string[] {
    return this.#scanner?.done === true ? this.#scanner.trailers : NO_TRAILERS;
  }

  /** How many bytes of `buf` from `offset` belong to the body, or why the body is malformed. */
  take(buf: Buffer, offset: number): number | HeadError {
    if (this.#done) return 0;
    const available = buf.length - offset;
    if (this.#scanner !== undefined) {
      const r = this.#scanner.scan(buf, offset);
      if (r.kind === 'error') return r;
      if (r.done) this.#done = true;
      return r.consumed;
    }
    if (this.#untilClose) {
      if (available > 0) this.sink?.data(buf, offset, buf.length);
      return available;
    }
    const n = available < this.#remaining ? available : this.#remaining;
    if (n > 0) this.sink?.data(buf, offset, offset + n);
    this.#remaining -= n;
    if (this.#remaining === 0) this.#done = true;
    return n;
  }

  /** The peer closed: true when that ends the body (until-close), false when it cut it short. */
  end(): boolean {
    if (this.#done) return true;
    if (!this.#untilClose) return false;
    this.#done = true;
    return true;
  }
}
