export { createGateway, type GatewayOptions, type InboundGateway } from './gateway.js';
