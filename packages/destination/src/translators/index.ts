// Translators: domain values → proxy API messages (protobuf properties from @tsmesh/core). No gRPC.
export { toIpAddress, toTcpAddress } from './net-address.js';
export {
  DEFAULT_MESHED_HTTP2,
  DEFAULT_WEIGHT,
  toWeightedAddr,
  type EndpointTranslation,
} from './weighted-addr.js';
export { EndpointUpdates, fingerprintOf, type EndpointView } from './endpoint-updates.js';
export {
  DEFAULT_RETRY_BUDGET,
  toDestinationProfile,
  toRequestMatch,
  toResponseMatch,
  type ProfileInput,
} from './profile-translator.js';
