// CRD manifests for every custom kind the mesh serves, with full OpenAPI v3 schemas.
export { crdManifests, formatCrdManifestsYaml, type CrdManifestOptions } from './crd-manifests.js';
export {
  defineCrd,
  type CrdDefinition,
  type CrdNames,
  type CrdVersion,
  type CustomResourceDefinition,
  type PrinterColumn,
  type VersionDefinition,
} from './crd.js';
export { crdProblems, structuralSchemaProblems } from './structural-schema.js';
export type { JsonSchemaProps, JsonSchemaType, ValidationRule } from './json-schema.js';
export { POLICY_GROUP, PROXY_PROTOCOLS } from './policy-crds.js';
export { LINKERD_GROUP } from './service-profile-crd.js';
export { WORKLOAD_GROUP } from './external-workload-crd.js';
export { MULTICLUSTER_GROUP } from './link-crd.js';
export { GATEWAY_API_BUNDLE_VERSION, GATEWAY_GROUP } from './gateway-api-crds.js';
export {
  formatSchemaPath,
  validateAgainstSchema,
  type SchemaIssue,
  type SchemaPath,
  type ValidateOptions,
} from './schema-validator.js';
