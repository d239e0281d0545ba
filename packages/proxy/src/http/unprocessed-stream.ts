// When a peer provably did not process an HTTP/2 request, so that sending it again is safe even
// for a non-idempotent request (RFC 9113 §8.7): the peer refused the stream (RST_STREAM
// REFUSED_STREAM, or nghttp2 closed it for a GOAWAY whose last stream id is below it), or the
// stream was never opened (still pending when the session went away). Shared by the plain path
// (http1-proxy.ts) and the mesh path's endpoint client (outbound/endpoint/http2-attempt.ts).
import { constants, type ClientHttp2Stream } from 'node:http2';

/**
 * How many times one request is sent again after a peer did not process it, on top of any retry
 * policy and outside its budget. Bounded: a peer that refuses everything still fails the request
 * quickly.
 */
export const MAX_UNPROCESSED_RESENDS = 2;

/** Why `stream` (closed before a response) was not processed, or undefined when it may have been. */
export function unprocessedStream(stream: ClientHttp2Stream): 'refused' | 'never-opened' | undefined {
  if (stream.rstCode === constants.NGHTTP2_REFUSED_STREAM) return 'refused';
  if (stream.id === undefined) return 'never-opened';
  return undefined;
}
