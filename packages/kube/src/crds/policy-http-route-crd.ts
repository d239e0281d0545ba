// policy.linkerd.io HTTPRoute: Linkerd's own copy of the Gateway API HTTPRoute, served at four
// versions. Later versions add the ResponseHeaderModifier filter (v1beta2) and rule timeouts
// (v1beta3, Go duration strings).
import { defineCrd, type CustomResourceDefinition, type PrinterColumn } from './crd.js';
import { POLICY_GROUP } from './policy-crds.js';
import { httpRouteSpec, routeStatus, type RouteFlavor } from './route-schemas.js';

const flavor: RouteFlavor = { parentGroup: POLICY_GROUP, cel: false };

const columns: PrinterColumn[] = [
  { name: 'Hostnames', type: 'string', jsonPath: '.spec.hostnames' },
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
];

export function policyHttpRouteCrd(): CustomResourceDefinition {
  const early = ['RequestHeaderModifier', 'RequestRedirect'];
  const later = ['RequestHeaderModifier', 'ResponseHeaderModifier', 'RequestRedirect'];
  const version = (name: string, filterTypes: string[], timeouts: boolean, storage = false) => ({
    name,
    storage,
    description: 'Routes HTTP requests by host, path, headers, query parameters and method.',
    spec: httpRouteSpec({
      flavor,
      matchesMaxItems: 8,
      filterTypes,
      backendFilterTypes: filterTypes,
      timeouts: timeouts ? ('duration' as const) : undefined,
    }),
    status: routeStatus(flavor),
    statusSubresource: true,
    printerColumns: columns,
  });
  return defineCrd({
    group: POLICY_GROUP,
    kind: 'HTTPRoute',
    plural: 'httproutes',
    versions: [
      version('v1alpha1', early, false),
      version('v1beta1', early, false),
      version('v1beta2', later, false),
      version('v1beta3', later, true, true),
    ],
  });
}
