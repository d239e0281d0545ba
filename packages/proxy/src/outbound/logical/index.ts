export { http1Exchange, http2Exchange, type Exchange, type Peer, type ResponseReceiver } from './exchange.js';
export { createLogicalTarget, type LogicalTarget, type LogicalTargetOptions } from './logical-target.js';
export type { RequestOwner } from './route-request.js';
