// io.linkerd.proxy.identity.Identity: the certificate authority a proxy asks for its certificate.
import type { Client, Server } from '@grpc/grpc-js';
import { makeClientConstructor, unaryMethod, type UnaryClientMethod } from './grpc-method.js';
import { addProxyApiService, type HandlersFor } from './grpc-server.js';
import { createMessageCodec } from './message-codec.js';
import { identity } from './messages.js';

export const IDENTITY_SERVICE_NAME = 'io.linkerd.proxy.identity.Identity';

/** The gRPC definition of the Identity service (grpc-js ServiceDefinition). */
export const IdentityService = Object.freeze({
  certify: unaryMethod(
    IDENTITY_SERVICE_NAME,
    'Certify',
    createMessageCodec(identity.CertifyRequest, 'io.linkerd.proxy.identity.CertifyRequest'),
    createMessageCodec(identity.CertifyResponse, 'io.linkerd.proxy.identity.CertifyResponse'),
  ),
});

export interface IdentityClient extends Client {
  certify: UnaryClientMethod<identity.CertifyRequest.$Properties, identity.CertifyResponse>;
}

/** `new IdentityClient(address, credentials)`: a grpc-js client of the Identity service. */
export const IdentityClient = makeClientConstructor<IdentityClient>(IdentityService, 'Identity');

export type IdentityHandlers = HandlersFor<typeof IdentityService>;

/** Serve the Identity service on `server` with `handlers`. */
export function addIdentityService(server: Server, handlers: Partial<IdentityHandlers>): void {
  addProxyApiService(server, IdentityService, handlers);
}
