// Local mode: the mesh on one machine (`tsmesh up`, `tsmesh run`, `tsmesh demo`).
export {
  LOCAL_CLUSTER_NETWORKS,
  startLocalControlPlane,
  type LocalControlPlane,
  type LocalControlPlaneOptions,
} from './control-plane.js';
export { deriveEndpointSlices, runEndpointsController, SERVICE_NAME_LABEL } from './endpoints-controller.js';
export {
  parseServiceAuthority,
  podIdentity,
  resolveAuthority,
  startLocalApi,
  type LocalApi,
  type ResolvedEndpoint,
} from './local-api.js';
export { LocalObjectSource } from './local-object-source.js';
export {
  buildPod,
  canBind,
  PodRegistry,
  validateRegistration,
  type WorkloadPort,
  type WorkloadRegistration,
} from './pod-registry.js';
export { ExplicitProxyEnv, localProxyEnv } from './proxy-env.js';
export {
  CONTROL_PLANE_FILE,
  CONTROL_PLANE_NAMESPACE,
  defaultStateDir,
  ensureTrustMaterial,
  readControlPlaneInfo,
  statePaths,
  TRUST_DOMAIN,
  writeControlPlaneInfo,
  type ControlPlaneInfo,
  type StatePaths,
} from './state-dir.js';
export { createTextLogger, type LogLevel } from './text-logger.js';
export { runWorkload, WorkloadEnv, type RunWorkloadOptions } from './workload-runner.js';
export { exitCodeOf, stopChild } from './child-process.js';
export { EXIT_WITH_PARENT_ENV, exitWithParent } from './exit-with-parent.js';
export { startControlPlaneGateway, type ControlPlaneGateway } from './control-plane-gateway.js';
export {
  cleanupTransparentNetworks,
  createPodNetwork,
  HUB_NETNS,
  isNetnsPodAddress,
  NETNS_HOST_ADDRESS,
  NETNS_SUBNET,
  podNetworkNames,
  podRunDir,
  transparentModeUnavailable,
  type PodNetwork,
} from './netns-network.js';
export { keepRegistered, register, type Registration } from './registration.js';
export {
  podHostsFile,
  PROXY_UID,
  runTransparentWorkload,
  type RunTransparentOptions,
} from './transparent-runner.js';
export {
  EXPANDED_FROM_LABEL,
  expandWorkload,
  expandWorkloads,
  validateWorkload,
  WORKLOAD_API_GROUP,
  WorkloadKind,
  type WorkloadFormPort,
  type WorkloadFormSpec,
  type WorkloadProblem,
} from './workload-form.js';
