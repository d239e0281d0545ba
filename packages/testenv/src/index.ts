export {
  startTestEnv,
  stopTestEnvInDir,
  firstServiceIp,
  DEFAULT_ADVERTISE_ADDRESS,
  DEFAULT_CONTROLLERS,
  DEFAULT_SERVICE_CLUSTER_IP_RANGE,
} from './test-env.js';
export type { StartTestEnvOptions, StartupTimings, TestEnv } from './test-env.js';
export {
  ensureBinaries,
  locateBinaries,
  buildScriptPath,
  BINARY_COMPONENTS,
  DEFAULT_BUILD_COMPONENTS,
} from './binaries.js';
export type { Binaries, BinaryComponent, EnsureBinariesOptions } from './binaries.js';
export { createCertificateAuthority, issueCertificate, generateControlPlanePki } from './pki.js';
export type {
  CertificateAuthority,
  CertificateUsage,
  ControlPlanePki,
  CreateCertificateAuthorityOptions,
  GenerateControlPlanePkiOptions,
  IssueCertificateOptions,
  IssuedCertificate,
} from './pki.js';
export { writeKubeconfig } from './kubeconfig.js';
export type { WriteKubeconfigOptions } from './kubeconfig.js';
export {
  createTestNamespace,
  loadKubeConfig,
  toDnsLabel,
  statusOf,
  TEST_NAMESPACE_LABEL,
} from './test-namespace.js';
export type { CreateTestNamespaceOptions, TestNamespace } from './test-namespace.js';
export { ensureTestNode, markPodRunning, DEFAULT_TEST_NODE } from './test-objects.js';
export type { MarkPodRunningOptions } from './test-objects.js';
export { acquireSharedTestEnv, releaseSharedTestEnv, KUBECONFIG_ENV, KUBECONFIG_KEY } from './shared-env.js';
export { TestEnvError, isTestEnvError } from './test-env-error.js';
export type { TestEnvErrorCode } from './test-env-error.js';
export {
  startCluster,
  stopClusterInDir,
  connectClusterNodes,
  clusterAddressing,
  readClusterState,
  clusterUnsupportedReason,
  ensureClusterImages,
  importImages,
  buildTsmeshImages,
  clusterImagesScript,
  tsmeshImagesScript,
  CLUSTER_HOST_COMMANDS,
  CLUSTER_STATE_FILE,
  DEFAULT_NODE_NAME,
} from './cluster/index.js';
export type {
  Cluster,
  ClusterAddressing,
  ClusterAddressingName,
  ClusterImages,
  ClusterNodeLink,
  ClusterProcessName,
  ClusterState,
  ClusterTimings,
  CommandResult,
  RunCommandOptions,
  StartClusterOptions,
  TsmeshImageComponent,
} from './cluster/index.js';
