// The raw-socket HTTP/1.1 engine of issue #5 (TSMESH_PROXY_HTTP1_ENGINE=raw) and its building
// blocks: head parser, body framing, chunked scanner, upstream connections and exchanges.
export { createRawHttp1Proxy, type RawHttp1ProxyOptions } from './raw-http1-proxy.js';
export { HeadErrorCode, type HeadError, type HeadErrorStatus } from './head-error.js';
export {
  DEFAULT_MAX_HEAD_BYTES,
  DEFAULT_MAX_HEADER_LINES,
  parseRequestHead,
  parseResponseHead,
  type HeadFields,
  type HeadIncomplete,
  type HeadLimits,
  type HeadParseOptions,
  type HttpVersion,
  type RequestHead,
  type RequestHeadResult,
  type ResponseHead,
  type ResponseHeadResult,
} from './head-parser.js';
export {
  MAX_BODY_LENGTH,
  requestFraming,
  responseFraming,
  type BodyFraming,
  type MessageFraming,
} from './framing.js';
export {
  ChunkedScanner,
  DEFAULT_MAX_CHUNK_EXTENSION_BYTES,
  DEFAULT_MAX_TRAILER_BYTES,
  type ChunkedLimits,
  type ChunkedProgress,
  type ChunkedSink,
} from './chunked-decoder.js';
// For the mesh outbound's HTTP/1 attempts (outbound/endpoint/raw-http1-attempt.ts).
export { BodyFramer } from './body-framer.js';
export {
  TargetConnections,
  UpstreamConnections,
  type UpstreamConnectionsOptions,
} from './upstream-connections.js';
export { COALESCE_BYTES, IDEMPOTENT, UpstreamExchange } from './upstream-exchange.js';
// For the mesh outbound's HTTP/1 clients (outbound/outbound-mesh.ts, logical/raw-http1-exchange.ts).
export { ClientConnection, type ClientDispatcher, type ClientExchange } from './client-connection.js';
export { proxyResponse, upgradeRequestHead } from './forwarded-head.js';
export { headersObject } from './request-view.js';
export { isToken } from './field-syntax.js';
export { sweepClients } from './client-sweeper.js';
