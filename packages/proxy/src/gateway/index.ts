export { createGateway, type GatewayOptions, type InboundGateway } from './gateway.js';
export {
  checkGatewayLoop,
  FORWARDED,
  forwardedBy,
  forwardedElement,
  gatewayTarget,
  type GatewayTarget,
} from './gateway-rules.js';
