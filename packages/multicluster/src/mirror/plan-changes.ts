// The writes that take the local cluster from what it holds to the desired state of one Link:
// create what is missing, replace what differs (labels and annotations are owned whole by the
// mirror, as Linkerd's controller overwrites them), delete what is no longer exported. Federated
// Services are shared by every Link, so a Link only adds or removes its own `<name>@<cluster>`
// member and deletes the Service when nothing is left in it.
import { MulticlusterKey } from '@tsmesh/core';
import type { KubeObject } from '@tsmesh/kube';
import type { Link } from '../link/index.js';
import { federatedMemberRef, remoteNameOf, type DesiredState } from './desired-mirrors.js';
import type { EndpointsObject, EndpointSubset, ServiceObject } from './kube-types.js';

export type ObjectKindName = 'Service' | 'Endpoints';

export type MirrorChange =
  | { readonly op: 'create'; readonly kind: ObjectKindName; readonly object: KubeObject }
  | { readonly op: 'replace'; readonly kind: ObjectKindName; readonly object: KubeObject }
  | {
      readonly op: 'delete';
      readonly kind: ObjectKindName;
      readonly namespace: string;
      readonly name: string;
    };

export interface LocalView {
  /** Mirror Services of this Link (labelled mirrored-service=true and cluster-name=<cluster>). */
  readonly mirrorServices: readonly ServiceObject[];
  /** Mirror Endpoints of this Link (same labels). */
  readonly mirrorEndpoints: readonly EndpointsObject[];
  /** Federated Services (labelled mirrored-service=true, named `*-federated`). */
  readonly federatedServices: readonly ServiceObject[];
}

const keyOf = (o: KubeObject) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

function sameRecord(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  const ea = Object.entries(a ?? {}).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
  const eb = Object.entries(b ?? {}).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
  return JSON.stringify(ea) === JSON.stringify(eb);
}

function portsKey(service: ServiceObject): string {
  return JSON.stringify(
    (service.spec?.ports ?? []).map((p) => [
      p.name ?? '',
      p.protocol ?? 'TCP',
      p.port,
      p.targetPort ?? p.port,
      p.appProtocol ?? '',
    ]),
  );
}

function subsetsKey(subsets: readonly EndpointSubset[] | undefined): string {
  const ips = (list: { ip: string }[] | undefined) => (list ?? []).map((a) => a.ip).sort();
  return JSON.stringify(
    (subsets ?? [])
      .map((s) => ({
        ready: ips(s.addresses),
        notReady: ips(s.notReadyAddresses),
        ports: (s.ports ?? []).map((p) => [p.name ?? '', p.protocol ?? 'TCP', p.port]),
      }))
      .filter((s) => s.ready.length + s.notReady.length > 0),
  );
}

export function sameMirrorService(actual: ServiceObject, desired: ServiceObject): boolean {
  return (
    sameRecord(actual.metadata?.labels, desired.metadata?.labels) &&
    sameRecord(actual.metadata?.annotations, desired.metadata?.annotations) &&
    portsKey(actual) === portsKey(desired)
  );
}

export function sameMirrorEndpoints(actual: EndpointsObject, desired: EndpointsObject): boolean {
  return (
    sameRecord(actual.metadata?.labels, desired.metadata?.labels) &&
    sameRecord(actual.metadata?.annotations, desired.metadata?.annotations) &&
    subsetsKey(actual.subsets) === subsetsKey(desired.subsets)
  );
}

/** `actual` (keeping clusterIP, resourceVersion and the rest) with the desired labels and annotations. */
function withDesiredMeta<T extends KubeObject>(actual: T, desired: KubeObject): T {
  return {
    ...actual,
    metadata: {
      ...actual.metadata,
      labels: { ...desired.metadata?.labels },
      annotations: { ...desired.metadata?.annotations },
    },
  };
}

function updatedService(actual: ServiceObject, desired: ServiceObject): ServiceObject {
  const updated = withDesiredMeta(actual, desired);
  return { ...updated, spec: { ...actual.spec, ports: desired.spec?.ports ?? [] } };
}

function updatedEndpoints(actual: EndpointsObject, desired: EndpointsObject): EndpointsObject {
  return { ...withDesiredMeta(actual, desired), subsets: desired.subsets ?? [] };
}

/** The members listed in a federated Service's remote-discovery annotation. */
export function federatedMembers(service: ServiceObject): string[] {
  const text = service.metadata?.annotations?.[MulticlusterKey.RemoteDiscovery] ?? '';
  return text
    .split(',')
    .map((m) => m.trim())
    .filter((m) => m !== '');
}

function withMembers(service: ServiceObject, members: readonly string[]): ServiceObject {
  return {
    ...service,
    metadata: {
      ...service.metadata,
      annotations: { ...service.metadata?.annotations, [MulticlusterKey.RemoteDiscovery]: members.join(',') },
    },
  };
}

export function planChanges(link: Link, desired: DesiredState, local: LocalView): MirrorChange[] {
  const cluster = link.targetClusterName;
  const changes: MirrorChange[] = [];
  const services = new Map(local.mirrorServices.map((s) => [keyOf(s), s]));
  const endpoints = new Map(local.mirrorEndpoints.map((e) => [keyOf(e), e]));

  for (const [key, mirror] of desired.mirrors) {
    const actual = services.get(key);
    if (!actual) changes.push({ op: 'create', kind: 'Service', object: mirror.service });
    else if (!sameMirrorService(actual, mirror.service)) {
      changes.push({ op: 'replace', kind: 'Service', object: updatedService(actual, mirror.service) });
    }
    const actualEndpoints = endpoints.get(key);
    if (mirror.endpoints) {
      if (!actualEndpoints) changes.push({ op: 'create', kind: 'Endpoints', object: mirror.endpoints });
      else if (!sameMirrorEndpoints(actualEndpoints, mirror.endpoints)) {
        changes.push({
          op: 'replace',
          kind: 'Endpoints',
          object: updatedEndpoints(actualEndpoints, mirror.endpoints),
        });
      }
    } else if (actualEndpoints) {
      const [namespace, name] = split(key);
      changes.push({ op: 'delete', kind: 'Endpoints', namespace, name });
    }
  }
  for (const [key, service] of services) {
    if (desired.mirrors.has(key)) continue;
    // Only objects named like this Link's mirrors; anything else carrying the labels is left alone.
    if (remoteNameOf(service.metadata?.name ?? '', cluster) === undefined) continue;
    const [namespace, name] = split(key);
    changes.push({ op: 'delete', kind: 'Service', namespace, name });
  }
  for (const key of endpoints.keys()) {
    // Desired mirrors' Endpoints were handled above (kept, replaced, or deleted in remote-discovery).
    if (desired.mirrors.has(key) || remoteNameOf(split(key)[1], cluster) === undefined) continue;
    const [namespace, name] = split(key);
    changes.push({ op: 'delete', kind: 'Endpoints', namespace, name });
  }

  const federated = new Map(local.federatedServices.map((s) => [keyOf(s), s]));
  for (const [key, member] of desired.federated) {
    const actual = federated.get(key);
    const ref = federatedMemberRef(member.remoteName, cluster);
    if (!actual) changes.push({ op: 'create', kind: 'Service', object: member.service });
    else {
      const members = federatedMembers(actual);
      if (!members.includes(ref)) {
        changes.push({ op: 'replace', kind: 'Service', object: withMembers(actual, [...members, ref]) });
      }
    }
  }
  for (const [key, actual] of federated) {
    if (desired.federated.has(key)) continue;
    const members = federatedMembers(actual);
    const ours = members.filter((m) => m.endsWith(`@${cluster}`));
    if (ours.length === 0) continue;
    const rest = members.filter((m) => !m.endsWith(`@${cluster}`));
    const [namespace, name] = split(key);
    if (rest.length === 0 && !actual.metadata?.annotations?.[MulticlusterKey.LocalDiscovery]) {
      changes.push({ op: 'delete', kind: 'Service', namespace, name });
    } else {
      changes.push({ op: 'replace', kind: 'Service', object: withMembers(actual, rest) });
    }
  }
  return changes;
}

function split(key: string): [string, string] {
  const slash = key.indexOf('/');
  return [key.slice(0, slash), key.slice(slash + 1)];
}
