// Kubernetes-style resource arguments (`deploy/web`, `po`, `ns/emojivoto`, `authority`) and the
// Prometheus labels each type is grouped by — the labels Linkerd's scrape configuration puts on
// every proxy series (`namespace`, `pod`, `deployment`, …) and the proxy's own outbound `dst_*`
// labels for the other side of a call.
import { MeshError, MeshErrorCode } from '@tsmesh/core';

export const RESOURCE_TYPES = ['namespace', 'deployment', 'pod', 'service', 'authority', 'route'] as const;
export type ResourceType = (typeof RESOURCE_TYPES)[number];

export interface Resource {
  readonly type: ResourceType;
  /** Undefined: every resource of the type. */
  readonly name?: string;
}

const ALIASES: Readonly<Record<string, ResourceType>> = {
  ns: 'namespace',
  namespace: 'namespace',
  namespaces: 'namespace',
  deploy: 'deployment',
  deployment: 'deployment',
  deployments: 'deployment',
  po: 'pod',
  pod: 'pod',
  pods: 'pod',
  svc: 'service',
  service: 'service',
  services: 'service',
  au: 'authority',
  authority: 'authority',
  authorities: 'authority',
  rt: 'route',
  route: 'route',
  routes: 'route',
};

/** `deploy/web`, `deployment web` (two words) or `po` → a Resource; clear error otherwise. */
export function parseResource(text: string, name?: string): Resource {
  const [typeText, slashName, extra] = text.split('/');
  const type = ALIASES[(typeText ?? '').toLowerCase()];
  if (!type || extra !== undefined || (slashName !== undefined && slashName === ''))
    throw new MeshError(MeshErrorCode.InvalidArgument, `unknown resource ${JSON.stringify(text)}`, {
      where: 'resource argument',
      hint: `use TYPE or TYPE/NAME with TYPE one of ${RESOURCE_TYPES.join(', ')} (or deploy, po, ns, svc, au, rt)`,
    });
  const resolved = slashName ?? name;
  return resolved === undefined ? { type } : { type, name: resolved };
}

/** The label a resource type is named by on a proxy's own series (the source side). */
export function sourceLabel(type: ResourceType): string {
  switch (type) {
    case 'service':
      return 'dst_service'; // services only appear as destinations (outbound dst_service)
    case 'route':
      return 'route_name';
    default:
      return type;
  }
}

/** The label naming a resource type as the destination of an outbound call. */
export function destinationLabel(type: ResourceType): string {
  switch (type) {
    case 'authority':
      return 'authority';
    case 'route':
      return 'route_name';
    default:
      return `dst_${type}`;
  }
}

/** Whether the type's rows are namespaced (authorities are not). */
export const isNamespaced = (type: ResourceType): boolean => type !== 'namespace' && type !== 'authority';
