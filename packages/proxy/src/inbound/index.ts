export { startInbound, type InboundOptions, type InboundServer } from './inbound-server.js';
export {
  createInboundHooks,
  type InboundConnection,
  type InboundHooks,
  type InboundHooksOptions,
  type InboundRequest,
  type InboundRequestHead,
} from './inbound-hooks.js';
