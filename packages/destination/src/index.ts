// @tsmesh/destination: service discovery for every proxy — io.linkerd.proxy.destination.Destination
// (Get, GetProfile) over Services, EndpointSlices, Pods, Servers and ServiceProfiles read through
// @tsmesh/kube's ObjectSource; and the ServiceProfile validating webhook.
export { PACKAGE_NAME, VERSION } from './version.js';
export {
  parseContextToken,
  parseDestinationPath,
  parsePortSet,
  parseServiceProfileSpec,
  serviceFqdn,
  type ContextToken,
  type DestinationTarget,
  type EndpointAddress,
  type PodEndpointInfo,
  type ServiceProfileParse,
  type ServiceProfileSpec,
} from './domain/index.js';
export {
  DEFAULT_MESHED_HTTP2,
  DEFAULT_RETRY_BUDGET,
  DEFAULT_WEIGHT,
  EndpointUpdates,
  toDestinationProfile,
  toWeightedAddr,
  type EndpointTranslation,
  type EndpointView,
} from './translators/index.js';
export {
  startDestinationService,
  type DestinationService,
  type DestinationServiceOptions,
} from './server/index.js';
export {
  remoteMembersOf,
  secretRemoteClusterDiscovery,
  type RemoteClusterDiscovery,
  type RemoteClusterSpec,
  type RemoteMembers,
  type SecretRemoteClusterDiscoveryOptions,
} from './watchers/index.js';
export {
  createServiceProfileValidator,
  validateServiceProfileRequest,
  type ServiceProfileValidatorOptions,
} from './webhook/index.js';
