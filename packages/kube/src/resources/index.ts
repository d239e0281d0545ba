// API coordinates of the kinds the mesh reads, and the object shape shared by every module.
export {
  apiVersionOf,
  CoreKinds,
  kindKey,
  knownResourceKinds,
  MeshKinds,
  parseApiVersion,
  type ResourceKind,
} from './resource-kinds.js';
export { objectKey, type KubeObject, type KubeObjectInput, type ObjectMeta } from './kube-object.js';
