export {
  startCluster,
  stopClusterInDir,
  connectClusterNodes,
  readClusterState,
  clusterUnsupportedReason,
  CLUSTER_HOST_COMMANDS,
  CLUSTER_STATE_FILE,
  DEFAULT_NODE_NAME,
} from './cluster.js';
export type {
  Cluster,
  ClusterProcessName,
  ClusterState,
  ClusterNodeLink,
  ClusterTimings,
  StartClusterOptions,
} from './cluster.js';
export { clusterAddressing } from './addressing.js';
export type { ClusterAddressing, ClusterAddressingName } from './addressing.js';
export {
  ensureClusterImages,
  importImages,
  buildTsmeshImages,
  clusterImagesScript,
  tsmeshImagesScript,
} from './images.js';
export type { ClusterImages, TsmeshImageComponent } from './images.js';
export type { CommandResult, RunCommandOptions } from './run-command.js';
