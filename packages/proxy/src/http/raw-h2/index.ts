// The raw-socket HTTP/2 engine (TSMESH_PROXY_HTTP2_ENGINE=raw): HTTP/2 framing, HPACK, flow
// control and streams of the proxy's own (connection.ts), and the HTTP/2 proxy built on it.
export {
  H2Connection,
  H2ConnectionError,
  DEFAULT_LOCAL_SETTINGS,
  type H2ConnectionOwner,
  type H2LocalSettings,
} from './connection.js';
export { H2Error, h2ErrorName } from './frames.js';
export { H2Stream, ResetOrigin, type H2StreamHandler } from './stream.js';
export { createRawHttp2Proxy } from './raw-http2-proxy.js';
