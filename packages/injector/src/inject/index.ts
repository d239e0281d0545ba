export {
  annotate,
  inject,
  trustRootSha256,
  uninject,
  type InjectOptions,
  type InjectReport,
  type InjectReportEntry,
  type InjectResult,
  type InjectStatus,
} from './inject.js';
export { annotateServiceOpaquePorts } from './service-opaque-ports.js';
export {
  CONFIG_ANNOTATIONS,
  ExtraConfigAnnotation,
  formatPortRanges,
  parsePortList,
} from './proxy-values.js';
export {
  DEBUG_CONTAINER_NAME,
  IDENTITY_END_ENTITY_VOLUME,
  IDENTITY_TOKEN_VOLUME,
  INIT_CONTAINER_NAME,
  PROXY_CONTAINER_NAME,
  XTABLES_LOCK_VOLUME,
} from './sidecar-spec.js';
export {
  ownerOf,
  podTemplateOf,
  WORKLOAD_TEMPLATE_PATHS,
  type Container,
  type NamespaceLike,
  type PodSpec,
  type PodTemplate,
  type Workload,
} from './workload.js';
