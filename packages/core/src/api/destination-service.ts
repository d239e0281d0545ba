// io.linkerd.proxy.destination.Destination: endpoint discovery (Get) and service profiles
// (GetProfile), both as server streams a proxy keeps open.
import type { Client, Server } from '@grpc/grpc-js';
import {
  makeClientConstructor,
  serverStreamingMethod,
  type ServerStreamingClientMethod,
} from './grpc-method.js';
import { addProxyApiService, type HandlersFor } from './grpc-server.js';
import { createMessageCodec } from './message-codec.js';
import { destination } from './messages.js';

export const DESTINATION_SERVICE_NAME = 'io.linkerd.proxy.destination.Destination';

const getDestination = createMessageCodec(
  destination.GetDestination,
  'io.linkerd.proxy.destination.GetDestination',
);

/** The gRPC definition of the Destination service (grpc-js ServiceDefinition). */
export const DestinationService = Object.freeze({
  get: serverStreamingMethod(
    DESTINATION_SERVICE_NAME,
    'Get',
    getDestination,
    createMessageCodec(destination.Update, 'io.linkerd.proxy.destination.Update'),
  ),
  getProfile: serverStreamingMethod(
    DESTINATION_SERVICE_NAME,
    'GetProfile',
    getDestination,
    createMessageCodec(destination.DestinationProfile, 'io.linkerd.proxy.destination.DestinationProfile'),
  ),
});

export interface DestinationClient extends Client {
  get: ServerStreamingClientMethod<destination.GetDestination.$Properties, destination.Update>;
  getProfile: ServerStreamingClientMethod<
    destination.GetDestination.$Properties,
    destination.DestinationProfile
  >;
}

/** `new DestinationClient(address, credentials)`: a grpc-js client of the Destination service. */
export const DestinationClient = makeClientConstructor<DestinationClient>(DestinationService, 'Destination');

export type DestinationHandlers = HandlersFor<typeof DestinationService>;

/** Serve the Destination service on `server` with `handlers`. */
export function addDestinationService(server: Server, handlers: Partial<DestinationHandlers>): void {
  addProxyApiService(server, DestinationService, handlers);
}
