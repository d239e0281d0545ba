// io.linkerd.proxy.inbound.InboundServerPolicies: per-port inbound policy (GetPort once, WatchPort
// as a stream).
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
import { inbound } from './messages.js';

export const INBOUND_SERVICE_NAME = 'io.linkerd.proxy.inbound.InboundServerPolicies';

const portSpec = createMessageCodec(inbound.PortSpec, 'io.linkerd.proxy.inbound.PortSpec');
const server = createMessageCodec(inbound.Server, 'io.linkerd.proxy.inbound.Server');

/** The gRPC definition of the InboundServerPolicies service (grpc-js ServiceDefinition). */
export const InboundServerPoliciesService = Object.freeze({
  getPort: unaryMethod(INBOUND_SERVICE_NAME, 'GetPort', portSpec, server),
  watchPort: serverStreamingMethod(INBOUND_SERVICE_NAME, 'WatchPort', portSpec, server),
});

export interface InboundServerPoliciesClient extends Client {
  getPort: UnaryClientMethod<inbound.PortSpec.$Properties, inbound.Server>;
  watchPort: ServerStreamingClientMethod<inbound.PortSpec.$Properties, inbound.Server>;
}

/** `new InboundServerPoliciesClient(address, credentials)`: a grpc-js client of the service. */
export const InboundServerPoliciesClient = makeClientConstructor<InboundServerPoliciesClient>(
  InboundServerPoliciesService,
  'InboundServerPolicies',
);

export type InboundServerPoliciesHandlers = HandlersFor<typeof InboundServerPoliciesService>;

/** Serve the InboundServerPolicies service on `grpcServer` with `handlers`. */
export function addInboundServerPoliciesService(
  grpcServer: Server,
  handlers: Partial<InboundServerPoliciesHandlers>,
): void {
  addProxyApiService(grpcServer, InboundServerPoliciesService, handlers);
}
