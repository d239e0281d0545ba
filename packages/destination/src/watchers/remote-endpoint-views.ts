// Remote discovery (Linkerd multicluster, pod-to-pod): a local Service can stand for Services of
// linked clusters, and its endpoints are then theirs, read from those clusters directly —
// - a remote-discovery mirror (labels multicluster.linkerd.io/remote-discovery=<cluster> and
//   multicluster.linkerd.io/remote-service=<name>, written by the service mirror): the endpoints of
//   <name> in the same namespace of <cluster>;
// - a federated Service (annotation multicluster.linkerd.io/remote-discovery: "<name>@<cluster>,…",
//   optionally multicluster.linkerd.io/local-discovery: <local name>): the union of its members.
// Remote pods' identities are in their cluster's trust domain. A cluster that is not linked (yet)
// contributes nothing; its endpoints appear when it is.
import { MulticlusterKey } from '@tsmesh/core';
import type { EndpointAddress, ServiceObject } from '../domain/index.js';
import { fingerprintOf, type EndpointView } from '../translators/index.js';
import type { ClusterState } from './cluster-state.js';

export interface RemoteMember {
  readonly cluster: string;
  readonly name: string;
}

export interface RemoteMembers {
  readonly remote: readonly RemoteMember[];
  /** A local Service whose endpoints join (federated local-discovery). */
  readonly local: string | undefined;
}

/** The linked-cluster Services behind a local Service, or undefined for an ordinary Service. */
export function remoteMembersOf(service: ServiceObject): RemoteMembers | undefined {
  const labels = service.metadata?.labels ?? {};
  const cluster = labels[MulticlusterKey.RemoteDiscovery];
  const remoteName = labels[MulticlusterKey.RemoteService];
  if (cluster && remoteName) return { remote: [{ cluster, name: remoteName }], local: undefined };
  const annotations = service.metadata?.annotations ?? {};
  const list = annotations[MulticlusterKey.RemoteDiscovery];
  const local = annotations[MulticlusterKey.LocalDiscovery] || undefined;
  if (list === undefined && local === undefined) return undefined;
  const remote: RemoteMember[] = [];
  for (const entry of (list ?? '').split(',')) {
    const at = entry.trim().lastIndexOf('@');
    if (at <= 0) continue;
    remote.push({ name: entry.trim().slice(0, at), cluster: entry.trim().slice(at + 1) });
  }
  return { remote, local };
}

interface ViewTarget {
  readonly namespace: string;
  readonly name: string;
  readonly port: number;
  readonly hostname: string | undefined;
}

/**
 * The endpoints of a Service backed by linked clusters' Services. `view` computes one cluster's
 * view of one Service (serviceView, passed in so that this module does not import it back).
 */
export function remoteServiceView(
  state: ClusterState,
  target: ViewTarget,
  members: RemoteMembers,
  previous: EndpointView | undefined,
  view: (state: ClusterState, target: ViewTarget) => EndpointView,
): EndpointView {
  const addresses = new Map<string, EndpointAddress>();
  // (A federated Service naming itself as its local member would recurse.)
  if (members.local && members.local !== target.name) {
    for (const [key, address] of view(state, { ...target, name: members.local }).addresses)
      addresses.set(key, address);
  }
  for (const member of members.remote) {
    const remote = state.remoteClusters?.(member.cluster);
    if (!remote) continue;
    for (const [key, address] of view(remote.state, { ...target, name: member.name }).addresses) {
      const candidate = { ...address, trustDomain: remote.trustDomain };
      const before = previous?.addresses.get(key);
      addresses.set(key, before && fingerprintOf(before) === fingerprintOf(candidate) ? before : candidate);
    }
  }
  return { exists: true, addresses, labels: { namespace: target.namespace, service: target.name } };
}
