// The one place where mesh error codes become gRPC status codes (numbers from grpc's status.proto,
// so core needs no gRPC dependency). Linkerd's identity service uses the same mapping:
// bad request → INVALID_ARGUMENT, bad CSR / identity mismatch → FAILED_PRECONDITION,
// issuer not ready → UNAVAILABLE.
import { MeshErrorCode, toMeshError } from './mesh-error.js';

export const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;
export type GrpcStatus = (typeof GrpcStatus)[keyof typeof GrpcStatus];

const TO_GRPC: Record<MeshErrorCode, GrpcStatus> = {
  [MeshErrorCode.InvalidArgument]: GrpcStatus.INVALID_ARGUMENT,
  [MeshErrorCode.Decode]: GrpcStatus.INVALID_ARGUMENT,
  [MeshErrorCode.Unauthenticated]: GrpcStatus.UNAUTHENTICATED,
  [MeshErrorCode.PermissionDenied]: GrpcStatus.PERMISSION_DENIED,
  [MeshErrorCode.FailedPrecondition]: GrpcStatus.FAILED_PRECONDITION,
  [MeshErrorCode.Unavailable]: GrpcStatus.UNAVAILABLE,
  [MeshErrorCode.NotFound]: GrpcStatus.NOT_FOUND,
  [MeshErrorCode.Timeout]: GrpcStatus.DEADLINE_EXCEEDED,
  [MeshErrorCode.Aborted]: GrpcStatus.CANCELLED,
  [MeshErrorCode.Config]: GrpcStatus.FAILED_PRECONDITION,
  [MeshErrorCode.CertificateInvalid]: GrpcStatus.FAILED_PRECONDITION,
  [MeshErrorCode.Internal]: GrpcStatus.INTERNAL,
};

/** The gRPC status and details for anything thrown by a handler. */
export function toGrpcStatus(err: unknown): { code: GrpcStatus; details: string } {
  const meshError = toMeshError(err);
  return { code: TO_GRPC[meshError.code], details: meshError.describe() };
}
