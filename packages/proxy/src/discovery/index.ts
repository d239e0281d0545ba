export {
  createDiscovery,
  targetKey,
  type Discovery,
  type DiscoveryOptions,
  type DiscoveryTarget,
  type PolicyValue,
  type ProfileValue,
} from './discovery.js';
export {
  applyEndpointUpdate,
  EMPTY_ENDPOINT_SET,
  formatHostPort,
  fromWeightedAddr,
  type Endpoint,
  type EndpointSet,
  type ProtocolHint,
} from './endpoint-set.js';
export { createStreamWatch, type LatestWatch, type StreamWatchOptions } from './latest-watch.js';
export { fromTcpAddress, toTcpAddress, type HostPort } from './proto-address.js';
