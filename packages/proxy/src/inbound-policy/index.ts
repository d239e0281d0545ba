export {
  authorizeConnection,
  authorizeRequest,
  formatMeta,
  permits,
  type ClientInfo,
  type ConnectionDecision,
  type RequestDecision,
} from './authorize.js';
export {
  compileServer,
  type CompiledAuthz,
  type CompiledRateLimit,
  type CompiledRoute,
  type CompiledServer,
  type HeaderEdits,
  type PolicyMeta,
  type ServerProtocol,
} from './compile-server.js';
export { defaultServer } from './default-server.js';
export {
  createInboundPolicy,
  type InboundPolicy,
  type InboundPolicyOptions,
  type PortPolicy,
  type RequestFacts,
  type RequestVerdict,
} from './inbound-policy.js';
export {
  createPolicyMetrics,
  routeLabels,
  type ConnectionLabels,
  type PolicyMetrics,
} from './policy-metrics.js';
export { watchPortPolicy, type PortWatchOptions } from './policy-watch.js';
export { formatProtoIp, plainIp, toProtoIp } from './proto-ip.js';
export { createRateLimiter, type RateLimiter, type RateLimitScope } from './rate-limiter.js';
