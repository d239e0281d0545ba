// The demo's gRPC services, defined in code: real gRPC on the wire (HTTP/2, application/grpc,
// length-prefixed messages, grpc-status trailers) with JSON message bodies, so the demo needs no
// .proto files or code generation.
import {
  makeGenericClientConstructor,
  Metadata,
  type Client,
  type ServiceDefinition,
  type MethodDefinition,
} from '@grpc/grpc-js';

const encode = (value: unknown): Buffer => Buffer.from(JSON.stringify(value ?? {}));
const decode = (bytes: Buffer): unknown => (bytes.length === 0 ? {} : JSON.parse(bytes.toString('utf8')));

/** A unary-only service definition named `/<service>/<Method>`. */
export function defineJsonService(service: string, methods: readonly string[]): ServiceDefinition {
  const definition: Record<string, MethodDefinition<unknown, unknown>> = {};
  for (const method of methods) {
    definition[method] = {
      path: `/${service}/${method}`,
      requestStream: false,
      responseStream: false,
      requestSerialize: encode,
      requestDeserialize: decode,
      responseSerialize: encode,
      responseDeserialize: decode,
    };
  }
  return definition as ServiceDefinition;
}

export const EmojiServiceDefinition = defineJsonService('tsmesh.demo.v1.EmojiService', [
  'ListAll',
  'FindByShortcode',
]);
export const VotingServiceDefinition = defineJsonService('tsmesh.demo.v1.VotingService', ['Vote', 'Results']);

export type UnaryCall<Req, Res> = (request: Req, options?: { deadlineMs?: number }) => Promise<Res>;

/** Promise-returning unary calls on a generic grpc-js client. */
export function unary<Req, Res>(client: Client, method: string): UnaryCall<Req, Res> {
  const methods = client as unknown as Record<string, (...args: unknown[]) => unknown>;
  const fn = methods[method]!.bind(client) as (
    req: Req,
    metadata: Metadata,
    options: { deadline: Date },
    cb: (err: Error | null, res: Res) => void,
  ) => void;
  return (request, options = {}) =>
    new Promise((resolve, reject) => {
      const deadline = new Date(Date.now() + (options.deadlineMs ?? 5000));
      fn(request, new Metadata(), { deadline }, (err, res) => (err ? reject(err) : resolve(res)));
    });
}

export const EmojiClient = makeGenericClientConstructor(EmojiServiceDefinition, 'EmojiService');
export const VotingClient = makeGenericClientConstructor(VotingServiceDefinition, 'VotingService');
