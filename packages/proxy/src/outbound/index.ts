export { startOutbound, type OutboundOptions, type OutboundServer } from './outbound-server.js';
