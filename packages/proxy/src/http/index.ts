export { headersFromRaw, L5D_CLIENT_ID, L5D_PROXY_ERROR, rawHeaderValue, stripHopByHop } from './headers.js';
export { corkForTick, hasRequestBody } from './http1-message.js';
export { http2RequestOptions } from './http2-request-options.js';
export { MAX_UNPROCESSED_RESENDS, unprocessedStream } from './unprocessed-stream.js';
export {
  createHttp1Proxy,
  type Http1Proxy,
  type Http1ProxyOptions,
  type HttpRequestContext,
} from './http1-proxy.js';
export { requestHost, type Http1RequestView } from './request-context.js';
export { createRawHttp1Proxy, type RawHttp1ProxyOptions } from './raw-h1/index.js';
export { createHttp2Proxy, type Http2Proxy, type Http2ProxyOptions } from './http2-proxy.js';
export { createRawHttp2Proxy } from './raw-h2/index.js';
export {
  canCarryOverHttp2,
  L5D_ORIG_PROTO,
  origProtoValue,
  parseOrigProto,
  upgradedRequestHeaders,
  type OrigProto,
} from './orig-proto.js';
export {
  createHttp1Pools,
  createHttp2Sessions,
  type Http1Pools,
  type Http1PoolsOptions,
  type Http2Sessions,
  type Http2SessionsOptions,
} from './upstream-pools.js';
export { parseAuthority, type UpstreamTarget } from './upstream-target.js';
