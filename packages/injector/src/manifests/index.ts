export {
  detectFormat,
  transformManifests,
  type ManifestFormat,
  type TransformManifestsOptions,
  type TransformManifestsResult,
} from './manifest-text.js';
