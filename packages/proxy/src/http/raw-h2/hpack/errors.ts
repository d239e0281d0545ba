// The errors the HPACK codec throws (RFC 7541). Any HpackError from the decoder is a connection
// error of type COMPRESSION_ERROR (RFC 9113 §4.3); the one subclass, HpackHeaderListTooLargeError,
// leaves the decoder in step with the peer, so only the stream has to be refused (431).

/** A malformed header block: what is wrong and at which byte of the block. */
export class HpackError extends Error {
  /** Offset in the header block of the representation (or byte) that is malformed. */
  readonly offset: number;

  constructor(what: string, offset: number) {
    super(`HPACK: ${what} at byte ${offset}`);
    this.name = 'HpackError';
    this.offset = offset;
  }
}

/**
 * The decoded header list is larger than the decoder's maxHeaderListSize. Thrown only after the
 * whole block has been decoded, so the dynamic table is still consistent with the peer's encoder.
 */
export class HpackHeaderListTooLargeError extends HpackError {
  /** The size of the whole header list (RFC 7541 §4.1 sizes: name + value + 32 per field). */
  readonly listSize: number;
  readonly limit: number;

  constructor(listSize: number, limit: number, offset: number) {
    super(`header list of ${listSize} bytes exceeds the limit of ${limit}`, offset);
    this.name = 'HpackHeaderListTooLargeError';
    this.listSize = listSize;
    this.limit = limit;
  }
}
