// Serving proxy API methods on a @grpc/grpc-js Server through plain async handlers:
//   unary:            (request, context) => response | Promise<response>
//   server-streaming: (request, context) => AsyncIterable<response>
//
// The adapter decodes the request itself (grpc-js turns a throwing deserializer into INTERNAL with
// the reason hidden); a malformed request is answered with INVALID_ARGUMENT and a message saying
// what could not be decoded, and the server keeps serving. Anything a handler throws is mapped to a
// gRPC status by toGrpcStatus, the one place that does so.
import type {
  Deadline,
  handleServerStreamingCall,
  handleUnaryCall,
  Metadata,
  MethodDefinition,
  Server,
  ServerWritableStream,
  ServiceDefinition,
  StatusObject,
  UntypedHandleCall,
} from '@grpc/grpc-js';
import { MeshError, MeshErrorCode, toGrpcStatus } from '../errors/index.js';
import type { ServerStreamingMethod, UnaryMethod } from './grpc-method.js';

/** What a handler knows about the call it serves. */
export interface CallContext {
  /** The full method path, e.g. `/io.linkerd.proxy.identity.Identity/Certify`. */
  readonly path: string;
  /** The request metadata (headers). */
  readonly metadata: Metadata;
  /** The client's address as grpc-js reports it. */
  readonly peer: string;
  readonly deadline: Deadline;
  /**
   * Aborted when the client cancels or the deadline passes. Long-running handlers (every watch)
   * must end when it fires: a server-streaming iterator that waits for its next value is only
   * released by its own code.
   */
  readonly signal: AbortSignal;
}

export type UnaryHandler<Req, Res> = (request: Req, context: CallContext) => Res | Promise<Res>;
export type ServerStreamingHandler<Req, Res> = (request: Req, context: CallContext) => AsyncIterable<Res>;

/** The handler type for a method definition. */
export type HandlerFor<M> =
  M extends UnaryMethod<infer _ReqIn, infer ReqOut, infer ResIn, infer _ResOut>
    ? UnaryHandler<ReqOut, ResIn>
    : M extends ServerStreamingMethod<infer _ReqIn, infer ReqOut, infer ResIn, infer _ResOut>
      ? ServerStreamingHandler<ReqOut, ResIn>
      : never;

/** Handlers for every method of a service definition. */
export type HandlersFor<D> = { [K in keyof D]: HandlerFor<D[K]> };

/** What the adapter needs of a method; every ProxyApiMethod has it. */
interface ServableMethod {
  readonly path: string;
  readonly responseStream: boolean;
  readonly request: { decode(bytes: Uint8Array, where?: string): unknown };
}

/**
 * Add a proxy API service to `server`. Methods without a handler answer UNIMPLEMENTED (grpc-js's
 * behaviour for a missing implementation).
 */
export function addProxyApiService<D extends Record<string, ServableMethod>>(
  server: Server,
  definition: D,
  handlers: Partial<HandlersFor<D>>,
): void {
  const serverDefinition: Record<string, MethodDefinition<unknown, unknown>> = {};
  const implementation: Record<string, UntypedHandleCall> = {};
  for (const [key, method] of Object.entries(definition)) {
    // The request arrives as raw bytes and is decoded by the adapter; see the file comment.
    serverDefinition[key] = {
      ...(method as unknown as MethodDefinition<unknown, unknown>),
      requestDeserialize: (bytes: Buffer) => bytes,
    };
    const handler = (handlers as Record<string, unknown>)[key];
    if (typeof handler !== 'function') continue;
    implementation[key] = method.responseStream
      ? serveServerStreaming(method, handler as ServerStreamingHandler<unknown, unknown>)
      : serveUnary(method, handler as UnaryHandler<unknown, unknown>);
  }
  server.addService(serverDefinition as ServiceDefinition, implementation);
}

function serveUnary(
  method: ServableMethod,
  handler: UnaryHandler<unknown, unknown>,
): handleUnaryCall<Buffer, unknown> {
  return (call, callback) => {
    const { context, done } = createContext(method, call);
    let request: unknown;
    try {
      request = method.request.decode(call.request, `${method.path} request`);
    } catch (err) {
      done();
      callback(toStatus(err));
      return;
    }
    Promise.resolve()
      .then(() => handler(request, context))
      .then(
        (response) => callback(null, response),
        (err: unknown) => callback(toStatus(err)),
      )
      .finally(done);
  };
}

function serveServerStreaming(
  method: ServableMethod,
  handler: ServerStreamingHandler<unknown, unknown>,
): handleServerStreamingCall<Buffer, unknown> {
  return (call) => {
    void pump(method, handler, call);
  };
}

async function pump(
  method: ServableMethod,
  handler: ServerStreamingHandler<unknown, unknown>,
  call: ServerWritableStream<Buffer, unknown>,
): Promise<void> {
  const { context, done } = createContext(method, call);
  try {
    const request = method.request.decode(call.request, `${method.path} request`);
    for await (const response of handler(request, context)) {
      if (context.signal.aborted) break;
      if (!call.write(response)) await drained(call, context.signal);
    }
    if (!context.signal.aborted) call.end();
  } catch (err) {
    // After a cancel the client is gone; there is nobody to tell.
    if (!context.signal.aborted) call.emit('error', toStatus(err));
  } finally {
    done();
  }
}

interface CancellableCall {
  readonly metadata: Metadata;
  readonly cancelled: boolean;
  getPeer(): string;
  getPath(): string;
  getDeadline(): Deadline;
  once(event: 'cancelled', listener: () => void): unknown;
  off(event: 'cancelled', listener: () => void): unknown;
}

function createContext(
  method: ServableMethod,
  call: CancellableCall,
): { context: CallContext; done: () => void } {
  const controller = new AbortController();
  const onCancelled = () =>
    controller.abort(
      new MeshError(MeshErrorCode.Aborted, 'the client cancelled the call', { where: method.path }),
    );
  call.once('cancelled', onCancelled);
  if (call.cancelled) onCancelled();
  const context: CallContext = {
    path: method.path,
    metadata: call.metadata,
    peer: call.getPeer(),
    deadline: call.getDeadline(),
    signal: controller.signal,
  };
  return { context, done: () => call.off('cancelled', onCancelled) };
}

/** Resolve when the stream drains, or when the call is aborted (whichever comes first). */
function drained(call: ServerWritableStream<Buffer, unknown>, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const finish = () => {
      call.off('drain', finish);
      signal.removeEventListener('abort', finish);
      resolve();
    };
    call.on('drain', finish);
    signal.addEventListener('abort', finish, { once: true });
  });
}

function toStatus(err: unknown): Partial<StatusObject> & { message: string } {
  const { code, details } = toGrpcStatus(err);
  return { code, details, message: details };
}

/**
 * Stops a server the way every tsmesh controller does: calls in flight may finish (watch streams
 * end on their own abort signals), and whatever is still open after `graceMs` is cut.
 */
export function shutdownGrpcServer(server: Server, graceMs = 2000): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    timer.unref?.();
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
