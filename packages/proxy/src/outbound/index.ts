export {
  createOutboundMeshFromConfig,
  type ConfiguredMesh,
  type ControlChannel,
  type MeshFromConfigOptions,
} from './mesh-from-config.js';
export { createMeshMetrics, type MeshMetrics } from './mesh-metrics.js';
export {
  createOutboundMesh,
  L5D_DST_OVERRIDE,
  type OutboundMesh,
  type OutboundMeshOptions,
  type RequestGate,
} from './outbound-mesh.js';
export { startOutbound, type OutboundOptions, type OutboundServer } from './outbound-server.js';
