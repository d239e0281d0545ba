export { startInbound, type InboundOptions, type InboundServer } from './inbound-server.js';
