// Where controllers read objects from: the Kubernetes API or a directory of YAML files.
export {
  createDirectoryObjectSource,
  DirectoryObjectSource,
  type DirectoryObjectSourceOptions,
} from './directory-object-source.js';
export {
  createKubeObjectSource,
  KubeObjectSource,
  type KubeObjectSourceOptions,
} from './kube-object-source.js';
export { ManifestError, type ManifestErrorOptions, type ManifestErrorReason } from './manifest-error.js';
export { parseManifests, type ParsedObject, type ParseOptions, type ParseResult } from './manifest-parser.js';
export { firstOf, type ObjectSource, type WatchKindOptions } from './object-source.js';
