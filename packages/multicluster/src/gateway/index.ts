// The multicluster gateway's inbound rules (for a proxy in gateway mode).
export {
  gatewayDecision,
  type GatewayConfig,
  type GatewayDecision,
  type GatewayRejection,
  type GatewayRequest,
} from './gateway-admission.js';
