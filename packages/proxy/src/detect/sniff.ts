// Classifies the first bytes of a connection: TLS, HTTP/2 (prior knowledge preface), HTTP/1.x
// (request line), or opaque. Pure, so the detection loop and the fuzz tests share it.
import { parseClientHello, type ClientHello } from './client-hello.js';

export type Protocol = 'tls' | 'http1' | 'http2' | 'opaque';

export type SniffResult =
  | { readonly kind: 'done'; readonly protocol: Protocol; readonly clientHello?: ClientHello }
  | { readonly kind: 'need-more' };

export const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
/** An HTTP/1 request line longer than this is not worth waiting for (linkerd2-proxy reads ~1KB). */
export const MAX_REQUEST_LINE_BYTES = 8192;

const REQUEST_LINE = /^[A-Z][A-Z-]{0,31} [^\s]+ HTTP\/1\.[01]$/;
/** A valid prefix of a request line while it is still arriving. */
const REQUEST_LINE_PREFIX = /^[A-Z][A-Z-]{0,31}( ([^\s]+( (H(T(T(P(\/(1(\.([01](\r)?)?)?)?)?)?)?)?)?)?)?)?$/;

function sniffHttp(buf: Buffer): SniffResult {
  const n = Math.min(buf.length, H2_PREFACE.length);
  if (buf.subarray(0, n).equals(H2_PREFACE.subarray(0, n))) {
    return n === H2_PREFACE.length ? { kind: 'done', protocol: 'http2' } : { kind: 'need-more' };
  }
  const eol = buf.indexOf('\r\n');
  if (eol >= 0) {
    const line = buf.toString('latin1', 0, eol);
    return { kind: 'done', protocol: REQUEST_LINE.test(line) ? 'http1' : 'opaque' };
  }
  if (buf.length >= MAX_REQUEST_LINE_BYTES) return { kind: 'done', protocol: 'opaque' };
  return REQUEST_LINE_PREFIX.test(buf.toString('latin1'))
    ? { kind: 'need-more' }
    : { kind: 'done', protocol: 'opaque' };
}

export function sniffProtocol(buf: Buffer): SniffResult {
  if (buf.length === 0) return { kind: 'need-more' };
  const hello = parseClientHello(buf);
  if (hello.kind === 'hello') return { kind: 'done', protocol: 'tls', clientHello: hello.hello };
  if (hello.kind === 'incomplete') return { kind: 'need-more' };
  return sniffHttp(buf);
}
