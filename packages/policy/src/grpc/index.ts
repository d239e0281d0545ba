// gRPC translation: the policy state as Linkerd's proxy API (inbound and outbound policies).
export { authzMsg, INBOUND_DETECT_TIMEOUT_MS, serverLabels, toInboundServer } from './inbound-translate.js';
export {
  egressFallbackPolicy,
  egressNetworkPolicy,
  OUTBOUND_DETECT_TIMEOUT_MS,
  serviceAuthority,
  toOutboundPolicy,
  undefinedPortPolicy,
  type OutboundTranslateOptions,
} from './outbound-translate.js';
export { PolicyServices, type PolicyServicesOptions } from './policy-services.js';
export { parseWorkloadRef, type WorkloadRef } from './workload-ref.js';
export {
  EncodedMessage,
  InboundPoliciesDefinition,
  inboundServerCodec,
  OutboundPoliciesDefinition,
  outboundPolicyCodec,
} from './pre-encoded.js';
