// io.linkerd.proxy.outbound.OutboundPolicies: per-target outbound policy (Get once, Watch as a
// stream).
import type { Client, Server } from '@grpc/grpc-js';
import {
  makeClientConstructor,
  serverStreamingMethod,
  unaryMethod,
  type ServerStreamingClientMethod,
  type UnaryClientMethod,
} from './grpc-method.js';
import { addProxyApiService, type HandlersFor } from './grpc-server.js';
import { createMessageCodec } from './message-codec.js';
import { outbound } from './messages.js';

export const OUTBOUND_SERVICE_NAME = 'io.linkerd.proxy.outbound.OutboundPolicies';

const trafficSpec = createMessageCodec(outbound.TrafficSpec, 'io.linkerd.proxy.outbound.TrafficSpec');
const outboundPolicy = createMessageCodec(
  outbound.OutboundPolicy,
  'io.linkerd.proxy.outbound.OutboundPolicy',
);

/** The gRPC definition of the OutboundPolicies service (grpc-js ServiceDefinition). */
export const OutboundPoliciesService = Object.freeze({
  get: unaryMethod(OUTBOUND_SERVICE_NAME, 'Get', trafficSpec, outboundPolicy),
  watch: serverStreamingMethod(OUTBOUND_SERVICE_NAME, 'Watch', trafficSpec, outboundPolicy),
});

export interface OutboundPoliciesClient extends Client {
  get: UnaryClientMethod<outbound.TrafficSpec.$Properties, outbound.OutboundPolicy>;
  watch: ServerStreamingClientMethod<outbound.TrafficSpec.$Properties, outbound.OutboundPolicy>;
}

/** `new OutboundPoliciesClient(address, credentials)`: a grpc-js client of the service. */
export const OutboundPoliciesClient = makeClientConstructor<OutboundPoliciesClient>(
  OutboundPoliciesService,
  'OutboundPolicies',
);

export type OutboundPoliciesHandlers = HandlersFor<typeof OutboundPoliciesService>;

/** Serve the OutboundPolicies service on `server` with `handlers`. */
export function addOutboundPoliciesService(
  server: Server,
  handlers: Partial<OutboundPoliciesHandlers>,
): void {
  addProxyApiService(server, OutboundPoliciesService, handlers);
}
