export {
  FORWARDED,
  forwardedFor,
  forwardedHeaders,
  parseForwardedMode,
  X_FORWARDED_FOR,
  type ForwardedMode,
} from './forwarded-headers.js';
export { encodeProxyProtocolV2, PROXY_V2_SIGNATURE, type ProxyProtocolAddresses } from './proxy-protocol.js';
export { ipBytes } from './ip-bytes.js';
