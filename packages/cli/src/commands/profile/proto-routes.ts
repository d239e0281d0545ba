// Routes from a .proto file, as linkerd builds them: one route per rpc, named after the method,
// matching POST /PACKAGE.SERVICE/METHOD exactly (the gRPC path), retryable when the method's
// idempotency_level is IDEMPOTENT or NO_SIDE_EFFECTS.
import { MeshError, MeshErrorCode } from '@tsmesh/core';
import protobuf from 'protobufjs';
import { quoteRegex, type RouteSpec } from './service-profile.js';

const RETRYABLE_LEVELS = new Set(['IDEMPOTENT', 'NO_SIDE_EFFECTS']);

function services(ns: protobuf.NamespaceBase): protobuf.Service[] {
  const out: protobuf.Service[] = [];
  for (const nested of ns.nestedArray) {
    if (nested instanceof protobuf.Service) out.push(nested);
    if (nested instanceof protobuf.Namespace || nested instanceof protobuf.Type)
      out.push(...services(nested));
  }
  return out;
}

export function protoRoutes(text: string, file: string): RouteSpec[] {
  let root: protobuf.Root;
  try {
    root = protobuf.parse(text, { keepCase: true, alternateCommentMode: true }).root;
  } catch (err) {
    throw new MeshError(
      MeshErrorCode.InvalidArgument,
      `cannot parse the protobuf definition: ${(err as Error).message}`,
      {
        where: file,
        hint: 'pass a proto2 or proto3 file that protoc accepts',
      },
    );
  }
  const routes: RouteSpec[] = [];
  for (const service of services(root)) {
    const servicePath = service.fullName.replace(/^\./, '');
    for (const method of service.methodsArray) {
      const level = method.options?.idempotency_level as string | undefined;
      routes.push({
        name: method.name,
        condition: { method: 'POST', pathRegex: quoteRegex(`/${servicePath}/${method.name}`) },
        ...(level && RETRYABLE_LEVELS.has(level) ? { isRetryable: true } : {}),
      });
    }
  }
  return routes;
}
