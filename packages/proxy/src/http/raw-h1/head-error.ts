// Why a message head or its body framing was refused, for the raw-socket HTTP/1.1 engine of
// issue #5 (packages/proxy/src/http/raw-h1, not wired into the proxy yet). The parsers return
// these as values instead of throwing: a malformed head is ordinary input on the hot path, and
// the engine answers it (requests) or turns it into a 502 (responses) without unwinding a stack.
// The engine maps them onto the proxy's error catalogue (errors/proxy-error.ts) when it is built.

/** The closed set of reasons. Stable strings: tests and, later, the engine key on them. */
export const HeadErrorCode = {
  /** The head is longer than the configured limit (RFC 6585 §5 for requests: 431). */
  HeadTooLarge: 'HEAD_TOO_LARGE',
  /** More header lines than the configured limit. */
  TooManyHeaders: 'TOO_MANY_HEADERS',
  /** A CR not followed by LF (RFC 9112 §2.2). */
  BareCr: 'BARE_CR',
  /** An LF not preceded by CR (RFC 9112 §2.2: we do not accept lone LF as a line terminator). */
  BareLf: 'BARE_LF',
  /** A header line starting with SP or HTAB: obsolete line folding (RFC 9112 §5.2). */
  ObsFold: 'OBS_FOLD',
  /** The request line is not `method SP request-target SP HTTP-version` (RFC 9112 §3). */
  BadRequestLine: 'BAD_REQUEST_LINE',
  /** The method is not a token (RFC 9110 §9.1). */
  BadMethod: 'BAD_METHOD',
  /** The request target holds a byte outside visible ASCII (RFC 9112 §3.2). */
  BadTarget: 'BAD_TARGET',
  /** The version is not `HTTP/DIGIT.DIGIT` (RFC 9112 §2.3). */
  BadVersion: 'BAD_VERSION',
  /** A well-formed version other than HTTP/1.0 and HTTP/1.1 (RFC 9110 §15.6.6: 505). */
  UnsupportedVersion: 'UNSUPPORTED_VERSION',
  /** The status line is not `HTTP-version SP 3DIGIT SP reason` (RFC 9112 §4). */
  BadStatusLine: 'BAD_STATUS_LINE',
  /** A header line without a colon. */
  MissingColon: 'MISSING_COLON',
  /** A header name that is empty or not a token (RFC 9110 §5.1). */
  BadHeaderName: 'BAD_HEADER_NAME',
  /** Whitespace between a header name and its colon (RFC 9112 §5.1: MUST be rejected with 400). */
  SpaceBeforeColon: 'SPACE_BEFORE_COLON',
  /** A control character other than HTAB in a header value (RFC 9110 §5.5). */
  BadHeaderValue: 'BAD_HEADER_VALUE',
  /** An HTTP/1.1 request without Host (RFC 9112 §3.2: 400). */
  MissingHost: 'MISSING_HOST',
  /** More than one Host line (RFC 9112 §3.2: 400). */
  DuplicateHost: 'DUPLICATE_HOST',
  /** A Host value that is not `uri-host [ ":" port ]` (RFC 9112 §3.2: 400). */
  BadHost: 'BAD_HOST',
  /** A Content-Length that is not one non-negative decimal number ≤ 2^53 - 1 (RFC 9112 §6.3). */
  BadContentLength: 'BAD_CONTENT_LENGTH',
  /** Content-Length values that disagree (RFC 9110 §8.6). */
  ConflictingContentLength: 'CONFLICTING_CONTENT_LENGTH',
  /** A Transfer-Encoding whose last coding is not chunked, or that repeats chunked (RFC 9112 §6.1). */
  BadTransferEncoding: 'BAD_TRANSFER_ENCODING',
  /** A transfer coding in a request other than chunked, gzip, deflate, compress (RFC 9112 §6.1: 501). */
  UnsupportedTransferCoding: 'UNSUPPORTED_TRANSFER_CODING',
  /** Transfer-Encoding in an HTTP/1.0 request (RFC 9112 §6.1: treat as faulty framing). */
  TransferEncodingHttp10: 'TRANSFER_ENCODING_HTTP10',
  /** Both Transfer-Encoding and Content-Length: refused, a smuggling defence (RFC 9112 §6.3). */
  TransferEncodingWithContentLength: 'TRANSFER_ENCODING_WITH_CONTENT_LENGTH',
  /** A chunk-size line that is not 1*HEXDIG [ext] CRLF (RFC 9112 §7.1). */
  BadChunkSize: 'BAD_CHUNK_SIZE',
  /** A chunk size above 2^53 - 1, or written with more than 16 digits. */
  ChunkSizeTooLarge: 'CHUNK_SIZE_TOO_LARGE',
  /** A control character in a chunk extension, or more extension bytes than the limit (RFC 9112 §7.1.1). */
  BadChunkExtension: 'BAD_CHUNK_EXTENSION',
  /** A chunk-size line or chunk data not followed by CRLF (RFC 9112 §7.1). */
  MissingChunkCrlf: 'MISSING_CHUNK_CRLF',
  /** A trailer line that is not a field line, or trailers over the limit (RFC 9112 §7.1.2). */
  BadTrailer: 'BAD_TRAILER',
} as const;
export type HeadErrorCode = (typeof HeadErrorCode)[keyof typeof HeadErrorCode];

/** The status to answer: 400/431/501/505 for requests; always 502 for a bad upstream response. */
export type HeadErrorStatus = 400 | 431 | 501 | 502 | 505;

/** A refused head: what was wrong, where, and the status to answer with. */
export interface HeadError {
  readonly kind: 'error';
  readonly code: HeadErrorCode;
  readonly status: HeadErrorStatus;
  /** Says what was wrong, where (line and byte), and which rule it breaks. */
  readonly message: string;
  /** Byte offset of the offending byte in the buffer given to the parser; -1 for framing errors. */
  readonly offset: number;
  /** 1-based line of the head (1 = start line); 0 when the error is not on one line. */
  readonly line: number;
}

/** Builds a HeadError; `where` is added to the message so every error says where. */
export function headError(
  code: HeadErrorCode,
  status: HeadErrorStatus,
  what: string,
  offset: number,
  line: number,
): HeadError {
  const where =
    line > 0 ? `line ${line}, byte ${offset}` : offset >= 0 ? `byte ${offset}` : 'framing headers';
  return Object.freeze({ kind: 'error', code, status, message: `${what} (${where})`, offset, line });
}
