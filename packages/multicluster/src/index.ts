// @tsmesh/multicluster: Linkerd's multicluster extension — the Link resource, the service mirror
// controller (one per Link), gateway probes, remote-cluster credentials, and the manifests and
// checks behind `tsmesh multicluster …`.
export { PACKAGE_NAME, VERSION } from './version.js';
export { LinkDefaults, matchesKeyPattern, parseLink, type Link, type ProbeSpec } from './link/index.js';
export {
  KUBECONFIG_KEY,
  kubeConfigFromSecret,
  parseKubeConfig,
  readClusterCredentials,
} from './credentials/index.js';
export {
  applyMirrorChanges,
  desiredMirrors,
  EndpointsKind,
  federatedMemberRef,
  federatedMembers,
  federatedServiceName,
  linkStatus,
  listLocalMirrors,
  mirrorServiceName,
  planChanges,
  remoteNameOf,
  removeLinkMirrors,
  ServiceMirror,
  type DesiredMirror,
  type DesiredState,
  type EndpointsObject,
  type GatewayState,
  type LinkStatus,
  type LocalView,
  type MirrorChange,
  type MirrorMode,
  type RemoteView,
  type ServiceMirrorOptions,
  type ServiceMirrorPhase,
  type ServiceObject,
} from './mirror/index.js';
export {
  createGatewayProbeMetrics,
  GatewayProbe,
  PROBE_LATENCY_BUCKETS_MS,
  probeOnce,
  type GatewayProbeMetrics,
  type GatewayProbeOptions,
} from './probe/index.js';
export {
  parseServiceMirrorConfig,
  runServiceMirror,
  serveServiceMirror,
  SERVICE_MIRROR_HELP,
  type ServeServiceMirrorOptions,
  type ServiceMirrorConfig,
} from './runtime/index.js';
export {
  credentialsSecretName,
  DEFAULT_IMAGE_REGISTRY,
  DEFAULT_REMOTE_ACCESS_ACCOUNT,
  GATEWAY_NAME,
  gatewayIdentity,
  linkCrdManifest,
  MULTICLUSTER_NAMESPACE,
  gatherLinkInput,
  generateMulticlusterChart,
  MULTICLUSTER_CHART,
  MULTICLUSTER_CHART_VALUES,
  readGatewayFacts,
  readMeshFacts,
  remoteAccessManifests,
  renderInstall,
  renderLink,
  serviceAccountKubeconfig,
  serviceMirrorName,
  type GatewayFacts,
  type GatherLinkOptions,
  type InstallOptions,
  type LinkInput,
  type Manifest,
  type MeshFacts,
} from './manifests/index.js';
export {
  multiclusterChecks,
  parseAnchors,
  sharedAnchors,
  type AnchorInfo,
  type MulticlusterCheck,
  type MulticlusterCheckCategory,
  type MulticlusterCheckOptions,
  type MulticlusterChecks,
} from './check/index.js';
export {
  gatewayDecision,
  type GatewayConfig,
  type GatewayDecision,
  type GatewayRejection,
  type GatewayRequest,
} from './gateway/index.js';
