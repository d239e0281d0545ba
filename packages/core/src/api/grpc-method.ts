// gRPC method definitions built from message codecs, and the typed client surface they produce.
//
// A definition here is an ordinary @grpc/grpc-js MethodDefinition, so it works with
// makeGenericClientConstructor, Server#addService and any other grpc-js API. Decoding on the
// client side throws MeshError (code `decode`); the server side decodes inside the handler wrapper
// (see grpc-server.ts) so that a malformed request becomes INVALID_ARGUMENT.
import {
  makeGenericClientConstructor,
  type CallOptions,
  type ChannelCredentials,
  type Client,
  type ClientOptions,
  type ClientReadableStream,
  type ClientUnaryCall,
  type Metadata,
  type MethodDefinition,
  type requestCallback,
  type ServiceDefinition,
} from '@grpc/grpc-js';
import type { MessageCodec } from './message-codec.js';

/** A method of the proxy API: a grpc-js MethodDefinition that also carries its codecs. */
export interface ProxyApiMethod<ReqIn, ReqOut, ResIn, ResOut> extends MethodDefinition<
  ReqIn | ReqOut,
  ResIn | ResOut
> {
  readonly path: string;
  readonly originalName: string;
  readonly requestStream: false;
  readonly responseStream: boolean;
  readonly request: MessageCodec<ReqOut, ReqIn>;
  readonly response: MessageCodec<ResOut, ResIn>;
}

export interface UnaryMethod<ReqIn, ReqOut, ResIn, ResOut> extends ProxyApiMethod<
  ReqIn,
  ReqOut,
  ResIn,
  ResOut
> {
  readonly responseStream: false;
}

export interface ServerStreamingMethod<ReqIn, ReqOut, ResIn, ResOut> extends ProxyApiMethod<
  ReqIn,
  ReqOut,
  ResIn,
  ResOut
> {
  readonly responseStream: true;
}

function method<ReqIn, ReqOut, ResIn, ResOut, Streaming extends boolean>(
  service: string,
  name: string,
  responseStream: Streaming,
  request: MessageCodec<ReqOut, ReqIn>,
  response: MessageCodec<ResOut, ResIn>,
) {
  const path = `/${service}/${name}`;
  return Object.freeze({
    path,
    originalName: name,
    requestStream: false as const,
    responseStream,
    request,
    response,
    requestSerialize: (message: ReqIn | ReqOut) => request.encode(message as ReqIn),
    requestDeserialize: (bytes: Buffer) => request.decode(bytes, `${path} request`),
    responseSerialize: (message: ResIn | ResOut) => response.encode(message as ResIn),
    responseDeserialize: (bytes: Buffer) => response.decode(bytes, `${path} response`),
  });
}

/** A unary method `/<service>/<name>`. */
export function unaryMethod<ReqIn, ReqOut, ResIn, ResOut>(
  service: string,
  name: string,
  request: MessageCodec<ReqOut, ReqIn>,
  response: MessageCodec<ResOut, ResIn>,
): UnaryMethod<ReqIn, ReqOut, ResIn, ResOut> {
  return method(service, name, false, request, response);
}

/** A server-streaming method `/<service>/<name>`. */
export function serverStreamingMethod<ReqIn, ReqOut, ResIn, ResOut>(
  service: string,
  name: string,
  request: MessageCodec<ReqOut, ReqIn>,
  response: MessageCodec<ResOut, ResIn>,
): ServerStreamingMethod<ReqIn, ReqOut, ResIn, ResOut> {
  return method(service, name, true, request, response);
}

/** A client method for a unary call, with grpc-js's usual overloads. */
export interface UnaryClientMethod<Req, Res> {
  (request: Req, callback: requestCallback<Res>): ClientUnaryCall;
  (request: Req, metadata: Metadata, callback: requestCallback<Res>): ClientUnaryCall;
  (request: Req, options: Partial<CallOptions>, callback: requestCallback<Res>): ClientUnaryCall;
  (
    request: Req,
    metadata: Metadata,
    options: Partial<CallOptions>,
    callback: requestCallback<Res>,
  ): ClientUnaryCall;
}

/** A client method for a server-streaming call, with grpc-js's usual overloads. */
export interface ServerStreamingClientMethod<Req, Res> {
  (request: Req, options?: Partial<CallOptions>): ClientReadableStream<Res>;
  (request: Req, metadata?: Metadata, options?: Partial<CallOptions>): ClientReadableStream<Res>;
}

/** The constructor of a typed client, as makeGenericClientConstructor returns it. */
export type ClientConstructor<C extends Client> = new (
  address: string,
  credentials: ChannelCredentials,
  options?: ClientOptions,
) => C;

/** makeGenericClientConstructor, typed with the client interface the definition produces. */
export function makeClientConstructor<C extends Client>(
  definition: ServiceDefinition,
  serviceName: string,
): ClientConstructor<C> {
  return makeGenericClientConstructor(definition, serviceName) as unknown as ClientConstructor<C>;
}
