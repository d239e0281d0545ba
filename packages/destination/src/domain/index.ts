// The destination domain: paths, context tokens, port lists, endpoints and ServiceProfile specs.
// Pure: no gRPC, no Kubernetes client.
export {
  parseContextToken,
  parseDestinationPath,
  serviceFqdn,
  splitHostPort,
  type ContextToken,
  type DestinationTarget,
} from './destination-path.js';
export { parsePortSet, type PortSetParse } from './port-set.js';
export {
  addressKey,
  describePod,
  podOpaquePorts,
  podOwner,
  type EndpointAddress,
  type PodDescribeOptions,
  type PodEndpointInfo,
} from './endpoint-address.js';
export {
  parseGoDurationMs,
  parseServiceProfileSpec,
  quantityMillis,
  type ProfileRoute,
  type RequestMatch,
  type ResponseMatch,
  type ServiceProfileParse,
  type ServiceProfileSpec,
} from './service-profile.js';
export {
  POD_TEMPLATE_HASH_LABEL,
  SERVICE_NAME_LABEL,
  TOPOLOGY_ZONE_LABEL,
  type ContainerSpec,
  type EndpointSliceEndpoint,
  type EndpointSliceObject,
  type NamespaceObject,
  type NodeObject,
  type PodObject,
  type ServerObject,
  type ServiceObject,
  type ServicePort,
  type ServiceProfileObject,
} from './kube-types.js';
