// @tsmesh/kube: Kubernetes plumbing shared by the tsmesh controllers. Named exports only; each
// area lives in its own folder and is entered through its index.
export { PACKAGE_NAME, VERSION } from './version.js';
export {
  crdManifests,
  crdProblems,
  defineCrd,
  formatCrdManifestsYaml,
  GATEWAY_API_BUNDLE_VERSION,
  GATEWAY_GROUP,
  LINKERD_GROUP,
  MULTICLUSTER_GROUP,
  POLICY_GROUP,
  PROXY_PROTOCOLS,
  structuralSchemaProblems,
  WORKLOAD_GROUP,
  type CrdDefinition,
  type CrdManifestOptions,
  type CrdNames,
  type CrdVersion,
  type CustomResourceDefinition,
  type JsonSchemaProps,
  type JsonSchemaType,
  type PrinterColumn,
  type ValidationRule,
  type VersionDefinition,
} from './crds/index.js';
export {
  apiVersionOf,
  CoreKinds,
  kindKey,
  knownResourceKinds,
  MeshKinds,
  objectKey,
  parseApiVersion,
  type KubeObject,
  type ObjectMeta,
  type ResourceKind,
} from './resources/index.js';
