export { http1Exchange, http2Exchange, type Exchange, type Peer, type ResponseOutcome } from './exchange.js';
export { createLogicalTarget, type LogicalTarget, type LogicalTargetOptions } from './logical-target.js';
