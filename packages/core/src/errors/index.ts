export { MeshError, MeshErrorCode, toMeshError, type MeshErrorOptions } from './mesh-error.js';
export { GrpcStatus, toGrpcStatus } from './grpc-status.js';
