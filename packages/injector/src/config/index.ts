export {
  createInjectorConfig,
  defaultInjectorConfig,
  parseInjectorConfigText,
  DEFAULT_CLUSTER_NETWORKS,
  DEFAULT_DEBUG_IMAGE,
  DEFAULT_PROXY_IMAGE,
  type Capabilities,
  type EnvVar,
  type ImageConfig,
  type InjectorConfig,
  type InjectorConfigInput,
  type ProbeTiming,
  type ProxyConfig,
  type ProxyInitConfig,
  type ProxyResources,
  type ResourceConstraint,
} from './injector-config.js';
export { injectorConfigFromLinkerdValues, injectorConfigInputFromFiles } from './linkerd-values.js';
