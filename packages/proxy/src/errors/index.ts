export {
  classifyProxyError,
  formatProxyErrorHeader,
  parseProxyErrorHeader,
  PROXY_ERRORS,
  ProxyError,
  ProxyErrorCode,
  toProxyError,
  type ProxyErrorInfo,
  type ProxyErrorOptions,
} from './proxy-error.js';
export { formatGrpcMessage } from './grpc-message.js';
