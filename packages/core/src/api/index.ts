// The Linkerd proxy API (linkerd2-proxy-api v0.20.0, byte-compatible): message types, codecs,
// gRPC service definitions, typed clients and server helpers.
export {
  destination,
  grpcRoute,
  httpRoute,
  httpTypes,
  identity,
  inbound,
  meta,
  net,
  opaqueRoute,
  outbound,
  tap,
  tlsRoute,
  transportHeader,
  wellKnown,
} from './messages.js';
export {
  createMessageCodec,
  decodeMessage,
  PROXY_API_VERSION,
  type MessageClass,
  type MessageCodec,
} from './message-codec.js';
export {
  makeClientConstructor,
  serverStreamingMethod,
  unaryMethod,
  type ClientConstructor,
  type ProxyApiMethod,
  type ServerStreamingClientMethod,
  type ServerStreamingMethod,
  type UnaryClientMethod,
  type UnaryMethod,
} from './grpc-method.js';
export {
  addProxyApiService,
  type CallContext,
  type HandlerFor,
  type HandlersFor,
  type ServerStreamingHandler,
  type UnaryHandler,
  shutdownGrpcServer,
} from './grpc-server.js';
export {
  addDestinationService,
  DESTINATION_SERVICE_NAME,
  DestinationClient,
  DestinationService,
  type DestinationHandlers,
} from './destination-service.js';
export {
  addIdentityService,
  IDENTITY_SERVICE_NAME,
  IdentityClient,
  IdentityService,
  type IdentityHandlers,
} from './identity-service.js';
export {
  addInboundServerPoliciesService,
  INBOUND_SERVICE_NAME,
  InboundServerPoliciesClient,
  InboundServerPoliciesService,
  type InboundServerPoliciesHandlers,
} from './inbound-service.js';
export {
  addOutboundPoliciesService,
  OUTBOUND_SERVICE_NAME,
  OutboundPoliciesClient,
  OutboundPoliciesService,
  type OutboundPoliciesHandlers,
} from './outbound-service.js';
export { addTapService, TAP_SERVICE_NAME, TapClient, TapService, type TapHandlers } from './tap-service.js';
export { TRANSPORT_HEADER_PROTOCOL, TransportHeaderCodec } from './transport-header.js';
