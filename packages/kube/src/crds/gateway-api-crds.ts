// Gateway API HTTPRoute and GRPCRoute (gateway.networking.k8s.io), as the mesh uses them: v1 is
// stored; HTTPRoute v1beta1 and GRPCRoute v1alpha2 are still served, as in the bundle Linkerd
// ships. Tests install these when no Gateway API CRDs are present; a cluster that already has
// the upstream CRDs should keep them.
import { defineCrd, type CustomResourceDefinition, type PrinterColumn } from './crd.js';
import { grpcRouteSpec, httpRouteSpec, routeStatus, type RouteFlavor } from './route-schemas.js';

export const GATEWAY_GROUP = 'gateway.networking.k8s.io';
/** The Gateway API release whose route schemas these follow (standard channel). */
export const GATEWAY_API_BUNDLE_VERSION = 'v1.2.1';

const flavor: RouteFlavor = { parentGroup: GATEWAY_GROUP, cel: true };

const annotations = {
  // The apiserver insists on this for groups under k8s.io: it names the approved API review.
  'api-approved.kubernetes.io': 'https://github.com/kubernetes-sigs/gateway-api/pull/3328',
  'gateway.networking.k8s.io/bundle-version': GATEWAY_API_BUNDLE_VERSION,
  'gateway.networking.k8s.io/channel': 'standard',
};

const columns: PrinterColumn[] = [
  { name: 'Hostnames', type: 'string', jsonPath: '.spec.hostnames' },
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
];

export function gatewayHttpRouteCrd(): CustomResourceDefinition {
  const filterTypes = [
    'RequestHeaderModifier',
    'ResponseHeaderModifier',
    'RequestMirror',
    'RequestRedirect',
    'URLRewrite',
    'ExtensionRef',
  ];
  const spec = httpRouteSpec({
    flavor,
    matchesMaxItems: 64,
    filterTypes,
    backendFilterTypes: filterTypes,
    timeouts: 'gateway',
  });
  const version = (name: string, storage: boolean) => ({
    name,
    storage,
    description: 'Routes HTTP requests by host, path, headers, query parameters and method.',
    spec,
    status: routeStatus(flavor),
    statusSubresource: true,
    printerColumns: columns,
  });
  return defineCrd({
    group: GATEWAY_GROUP,
    kind: 'HTTPRoute',
    plural: 'httproutes',
    categories: ['gateway-api'],
    annotations,
    versions: [version('v1', true), version('v1beta1', false)],
  });
}

export function gatewayGrpcRouteCrd(): CustomResourceDefinition {
  const version = (name: string, storage: boolean) => ({
    name,
    storage,
    description: 'Routes gRPC requests by host, service, method and metadata.',
    spec: grpcRouteSpec(flavor),
    status: routeStatus(flavor),
    statusSubresource: true,
    printerColumns: columns,
  });
  return defineCrd({
    group: GATEWAY_GROUP,
    kind: 'GRPCRoute',
    plural: 'grpcroutes',
    categories: ['gateway-api'],
    annotations,
    versions: [version('v1', true), version('v1alpha2', false)],
  });
}
