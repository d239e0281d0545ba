// The manifests of `tsmesh multicluster install|allow|link` and what `link` reads from a cluster.
export {
  credentialsSecretName,
  DEFAULT_IMAGE_REGISTRY,
  DEFAULT_REMOTE_ACCESS_ACCOUNT,
  GATEWAY_NAME,
  gatewayIdentity,
  linkCrdManifest,
  MULTICLUSTER_NAMESPACE,
  remoteAccessManifests,
  renderInstall,
  renderLink,
  serviceMirrorName,
  type InstallOptions,
  type LinkInput,
  type Manifest,
} from './multicluster-manifests.js';
export {
  readGatewayFacts,
  readMeshFacts,
  serviceAccountKubeconfig,
  type GatewayFacts,
  type MeshFacts,
} from './cluster-facts.js';
export { gatherLinkInput, type GatherLinkOptions } from './link-input.js';
export { generateMulticlusterChart, MULTICLUSTER_CHART, MULTICLUSTER_CHART_VALUES } from './helm-chart.js';
