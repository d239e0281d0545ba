// io.linkerd.proxy.tap.Tap: the live request stream each proxy serves to the viz tap API.
import type { Client, Server } from '@grpc/grpc-js';
import {
  makeClientConstructor,
  serverStreamingMethod,
  type ServerStreamingClientMethod,
} from './grpc-method.js';
import { addProxyApiService, type HandlersFor } from './grpc-server.js';
import { createMessageCodec } from './message-codec.js';
import { tap } from './messages.js';

export const TAP_SERVICE_NAME = 'io.linkerd.proxy.tap.Tap';

/** The gRPC definition of the Tap service (grpc-js ServiceDefinition). */
export const TapService = Object.freeze({
  observe: serverStreamingMethod(
    TAP_SERVICE_NAME,
    'Observe',
    createMessageCodec(tap.ObserveRequest, 'io.linkerd.proxy.tap.ObserveRequest'),
    createMessageCodec(tap.TapEvent, 'io.linkerd.proxy.tap.TapEvent'),
  ),
});

export interface TapClient extends Client {
  observe: ServerStreamingClientMethod<tap.ObserveRequest.$Properties, tap.TapEvent>;
}

/** `new TapClient(address, credentials)`: a grpc-js client of the Tap service. */
export const TapClient = makeClientConstructor<TapClient>(TapService, 'Tap');

export type TapHandlers = HandlersFor<typeof TapService>;

/** Serve the Tap service on `server` with `handlers`. */
export function addTapService(server: Server, handlers: Partial<TapHandlers>): void {
  addProxyApiService(server, TapService, handlers);
}
