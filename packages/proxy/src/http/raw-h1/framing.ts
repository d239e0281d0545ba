// Body framing and connection persistence of one HTTP/1.1 message, for the raw-socket engine of
// issue #5 (packages/proxy/src/http/raw-h1; not wired into the proxy yet). The engine forwards
// bodies as bytes by their framing, so this decides from a parsed head how the body ends:
//   RFC 9112 §6.3 (message body length), in its order:
//     1. responses to HEAD, 1xx, 204 and 304 have no body; 101 and a 2xx to CONNECT turn the
//        connection into a tunnel;
//     3. Transfer-Encoding and Content-Length together are refused (request 400, response 502): the
//        RFC lets a recipient drop Content-Length, but a proxy must never let two hops read one
//        message two ways (request smuggling);
//     4. Transfer-Encoding: a request's must end in chunked (else 400, §6.1), a response whose last
//        coding is not chunked is read until the server closes;
//     5/6. Content-Length: one non-negative decimal, repeated lines or a comma list only if every
//        value is the same (RFC 9110 §8.6), else 400/502;
//     7. a request with neither has no body; 8. a response with neither is read until close.
//   §6.1: Transfer-Encoding in an HTTP/1.0 request is faulty framing (400); an unknown transfer
//     coding in a request gets 501; chunked applied twice is refused.
//   §9.3 (persistence) and §9.6: `close` ends the connection after this exchange; HTTP/1.1 persists
//     by default; an HTTP/1.0 response persists only with `keep-alive`; an HTTP/1.0 client is never
//     kept (a proxy MUST NOT keep a persistent connection with an HTTP/1.0 client, §9.3).
//   RFC 9110 §7.6.1: the options named in Connection are hop-by-hop header names.
import { isToken } from './field-syntax.js';
import { type HeadError, HeadErrorCode, type HeadErrorStatus, headError } from './head-error.js';
import type { HeadFields, HttpVersion, RequestHead, ResponseHead } from './head-parser.js';

/** How the body after a head ends. */
export type BodyFraming =
  | { readonly kind: 'none' }
  | { readonly kind: 'length'; readonly length: number }
  | { readonly kind: 'chunked' }
  /** Response only: the body is everything until the server closes the connection. */
  | { readonly kind: 'until-close' }
  /** Response only (101, or 2xx to CONNECT): after the head the connection carries opaque bytes. */
  | { readonly kind: 'tunnel' };

export interface MessageFraming {
  readonly kind: 'framing';
  readonly body: BodyFraming;
  /** Whether the connection may carry another message after this exchange (from this side's view). */
  readonly keepAlive: boolean;
  /** Lower-cased connection options other than `close`: header names that are hop-by-hop here. */
  readonly connectionOptions: readonly string[];
  /** Content-Length came as several equal values (lines or a list): forward it as one line. */
  readonly contentLengthRepeated: boolean;
  /** Response only: a 1xx other than 101; another head follows on the connection. */
  readonly informational: boolean;
}

/** The largest Content-Length or chunk size accepted: what a JavaScript number counts exactly. */
export const MAX_BODY_LENGTH = Number.MAX_SAFE_INTEGER;

// Transfer codings registered by RFC 9110 §8.4.1 / RFC 9112 §7 (x-* are the §7.2/7.3 aliases).
const KNOWN_CODINGS = new Set(['chunked', 'compress', 'deflate', 'gzip', 'x-compress', 'x-gzip']);

const NO_BODY: BodyFraming = Object.freeze({ kind: 'none' });
const CHUNKED: BodyFraming = Object.freeze({ kind: 'chunked' });
const UNTIL_CLOSE: BodyFraming = Object.freeze({ kind: 'until-close' });
const TUNNEL: BodyFraming = Object.freeze({ kind: 'tunnel' });

/** Decides a request's body framing and whether the client connection persists. */
export function requestFraming(head: RequestHead): MessageFraming | HeadError {
  const { fields } = head;
  const options = connectionOptions(fields);
  const keepAlive = head.version === '1.1' && !options.close;
  if (fields.transferEncoding.length > 0) {
    const coding = finalCoding(head.version, fields, true);
    if (typeof coding !== 'string') return coding;
    if (coding !== 'chunked')
      return framingError(
        HeadErrorCode.BadTransferEncoding,
        400,
        `Transfer-Encoding of a request must end in chunked, not "${coding}" (RFC 9112 §6.1)`,
      );
    return framing(CHUNKED, keepAlive, options.names, false, false);
  }
  if (fields.contentLength.length > 0)
    return lengthFraming(fields.contentLength, 400, keepAlive, options.names);
  return framing(NO_BODY, keepAlive, options.names, false, false);
}

/**
 * Decides a response's body framing; `requestMethod` is the method of the request it answers
 * (HEAD and CONNECT change the answer). `keepAlive` is the server connection's persistence.
 */
export function responseFraming(head: ResponseHead, requestMethod: string): MessageFraming | HeadError {
  const { fields, status } = head;
  const options = connectionOptions(fields);
  const keepAlive = !options.close && (head.version === '1.1' || options.keepAlive);
  const names = options.names;
  if (status === 101) return framing(TUNNEL, false, names, false, false);
  if (status < 200) return framing(NO_BODY, keepAlive, names, false, true);
  if (requestMethod === 'CONNECT' && status < 300) return framing(TUNNEL, false, names, false, false);
  if (requestMethod === 'HEAD' || status === 204 || status === 304)
    return framing(NO_BODY, keepAlive, names, false, false);
  if (fields.transferEncoding.length > 0) {
    const coding = finalCoding(head.version, fields, false);
    if (typeof coding !== 'string') return coding;
    if (coding === 'chunked') return framing(CHUNKED, keepAlive, names, false, false);
    return framing(UNTIL_CLOSE, false, names, false, false);
  }
  if (fields.contentLength.length > 0) return lengthFraming(fields.contentLength, 502, keepAlive, names);
  return framing(UNTIL_CLOSE, false, names, false, false);
}

function framing(
  body: BodyFraming,
  keepAlive: boolean,
  connectionOptions: readonly string[],
  contentLengthRepeated: boolean,
  informational: boolean,
): MessageFraming {
  return { kind: 'framing', body, keepAlive, connectionOptions, contentLengthRepeated, informational };
}

/** The last transfer coding, after the checks every message with Transfer-Encoding needs. */
function finalCoding(version: HttpVersion, fields: HeadFields, isRequest: boolean): string | HeadError {
  const status: HeadErrorStatus = isRequest ? 400 : 502;
  if (version === '1.0')
    return framingError(
      HeadErrorCode.TransferEncodingHttp10,
      status,
      `Transfer-Encoding in an HTTP/1.0 ${isRequest ? 'request' : 'response'} (RFC 9112 §6.1); use Content-Length`,
    );
  if (fields.contentLength.length > 0) return bothError(status);
  return lastCoding(fields.transferEncoding, status, isRequest);
}

function lengthFraming(
  values: readonly string[],
  status: HeadErrorStatus,
  keepAlive: boolean,
  names: readonly string[],
): MessageFraming | HeadError {
  const length = parseContentLength(values, status);
  if (typeof length !== 'number') return length;
  const body: BodyFraming = length === 0 ? NO_BODY : { kind: 'length', length };
  return framing(body, keepAlive, names, repeated(values), false);
}

interface ConnectionOptions {
  readonly close: boolean;
  readonly keepAlive: boolean;
  readonly names: readonly string[];
}
const NO_OPTIONS: ConnectionOptions = Object.freeze({
  close: false,
  keepAlive: false,
  names: Object.freeze([]),
});

function connectionOptions(fields: HeadFields): ConnectionOptions {
  if (fields.connection.length === 0) return NO_OPTIONS;
  let close = false;
  let keepAlive = false;
  const names: string[] = [];
  for (const value of fields.connection)
    for (const element of value.split(',')) {
      const option = element.trim().toLowerCase();
      if (option === '') continue;
      if (option === 'close') close = true;
      else {
        if (option === 'keep-alive') keepAlive = true;
        if (!names.includes(option)) names.push(option);
      }
    }
  return { close, keepAlive, names };
}

/** The last transfer coding, lower-cased, after checking the list (chunked only last, once). */
function lastCoding(
  values: readonly string[],
  status: HeadErrorStatus,
  isRequest: boolean,
): string | HeadError {
  const codings: string[] = [];
  for (const value of values)
    for (const element of value.split(',')) {
      const coding = element.trim().toLowerCase();
      const name = coding.split(';', 1)[0]?.trim() ?? '';
      if (!isToken(name))
        return framingError(
          HeadErrorCode.BadTransferEncoding,
          status,
          `malformed Transfer-Encoding element "${element.trim()}" (RFC 9112 §6.1)`,
        );
      if (isRequest && !KNOWN_CODINGS.has(name))
        return framingError(
          HeadErrorCode.UnsupportedTransferCoding,
          501,
          `unknown transfer coding "${name}" (RFC 9112 §6.1): only chunked, gzip, deflate and compress`,
        );
      codings.push(name);
    }
  const chunkedAt = codings.indexOf('chunked');
  if (chunkedAt >= 0 && chunkedAt < codings.length - 1)
    return framingError(
      HeadErrorCode.BadTransferEncoding,
      status,
      'chunked is not the last transfer coding, or is applied twice (RFC 9112 §6.1)',
    );
  return codings[codings.length - 1] ?? '';
}

/** The one length all Content-Length values agree on. */
function parseContentLength(values: readonly string[], status: HeadErrorStatus): number | HeadError {
  let length = -1;
  for (const value of values)
    for (const element of value.split(',')) {
      const text = element.trim();
      if (!/^[0-9]{1,16}$/.test(text) || Number(text) > MAX_BODY_LENGTH)
        return framingError(
          HeadErrorCode.BadContentLength,
          status,
          `invalid Content-Length "${text}": expected one decimal number up to 2^53-1 (RFC 9112 §6.3)`,
        );
      const n = Number(text);
      if (length >= 0 && n !== length)
        return framingError(
          HeadErrorCode.ConflictingContentLength,
          status,
          `conflicting Content-Length values ${length} and ${n} (RFC 9110 §8.6)`,
        );
      length = n;
    }
  return length;
}

function repeated(values: readonly string[]): boolean {
  return values.length > 1 || (values[0] ?? '').includes(',');
}

function bothError(status: HeadErrorStatus): HeadError {
  return framingError(
    HeadErrorCode.TransferEncodingWithContentLength,
    status,
    'both Transfer-Encoding and Content-Length: refused, the two framings could be read differently by another hop (RFC 9112 §6.3)',
  );
}

function framingError(code: HeadErrorCode, status: HeadErrorStatus, what: string): HeadError {
  return headError(code, status, what, -1, 0);
}
