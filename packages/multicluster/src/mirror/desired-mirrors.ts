// What the local cluster should hold for one Link, computed from what the remote cluster holds —
// a pure function, so the controller is "compute desired, diff with actual, apply" and every rule
// of Linkerd's service mirror is unit-testable:
// - a remote Service matching `selector` gets a mirror `<name>-<cluster>` in the same namespace
//   (only if that namespace exists here) with Endpoints at the gateway addresses and port, ready
//   only while the remote Service has ready endpoints and the gateway is alive;
// - one matching `remoteDiscoverySelector` gets a mirror without Endpoints, labelled so that the
//   destination service resolves the remote endpoints itself (pod-to-pod);
// - one matching `federatedServiceSelector` joins `<name>-federated`, listed as `<name>@<cluster>`
//   in its remote-discovery annotation.
// Labels and annotations are copied from the remote Service except mirror.linkerd.io/* labels, the
// Link's excluded keys and topology hints (not multicluster-aware).
import { labelSelectorMatches, MulticlusterKey, type LabelSelector } from '@tsmesh/core';
import { matchesKeyPattern, type Link } from '../link/index.js';
import type { EndpointPort, EndpointsObject, ServiceObject, ServicePort } from './kube-types.js';

const MIRROR_LABEL_PREFIX = 'mirror.linkerd.io/';
const TOPOLOGY_ANNOTATIONS = new Set([
  'service.kubernetes.io/topology-aware-hints',
  'service.kubernetes.io/topology-mode',
]);

export type MirrorMode = 'gateway' | 'remote-discovery';

export interface DesiredMirror {
  readonly mode: MirrorMode;
  readonly remoteName: string;
  readonly service: ServiceObject;
  /** Gateway mode only. */
  readonly endpoints: EndpointsObject | undefined;
}

export interface FederatedMember {
  readonly namespace: string;
  readonly remoteName: string;
  /** The federated Service to create when none exists yet. */
  readonly service: ServiceObject;
}

export interface RemoteView {
  readonly services: readonly ServiceObject[];
  /** True when the remote Service has at least one ready endpoint address. */
  hasReadyEndpoints(namespace: string, name: string): boolean;
}

export interface GatewayState {
  /** Resolved gateway IPs (sorted); empty when the link has no gateway or none resolved. */
  readonly addresses: readonly string[];
  readonly alive: boolean;
}

export interface DesiredState {
  /** By `namespace/name` of the mirror. */
  readonly mirrors: ReadonlyMap<string, DesiredMirror>;
  /** By `namespace/name` of the federated Service. */
  readonly federated: ReadonlyMap<string, FederatedMember>;
  /** Remote Services selected but not mirrored because their namespace is missing here. */
  readonly skippedNamespaces: readonly string[];
  /** Every selected remote Service and what became of it (for the Link's status). */
  readonly selected: readonly SelectedService[];
}

export interface SelectedService {
  readonly namespace: string;
  readonly name: string;
  /** Selected for a mirror (gateway or remote discovery) and/or to join a federated Service. */
  readonly mirror: boolean;
  readonly federate: boolean;
  readonly outcome: 'mirrored' | 'missing-namespace' | 'headless-not-federated';
}

export function mirrorServiceName(remoteName: string, cluster: string): string {
  return `${remoteName}-${cluster}`;
}

export function federatedServiceName(remoteName: string): string {
  return `${remoteName}-federated`;
}

/** The remote Service a mirror stands for (the name without `-<cluster>`), if it is one. */
export function remoteNameOf(mirrorName: string, cluster: string): string | undefined {
  const suffix = `-${cluster}`;
  return mirrorName.endsWith(suffix) && mirrorName.length > suffix.length
    ? mirrorName.slice(0, -suffix.length)
    : undefined;
}

/** `<name>@<cluster>`: one member in a federated Service's remote-discovery annotation. */
export function federatedMemberRef(remoteName: string, cluster: string): string {
  return `${remoteName}@${cluster}`;
}

export function remoteServiceFqName(service: ServiceObject, clusterDomain: string): string {
  return `${service.metadata?.name}.${service.metadata?.namespace}.svc.${clusterDomain}`;
}

function selects(selector: LabelSelector | undefined, labels: Readonly<Record<string, string>>): boolean {
  return selector !== undefined && labelSelectorMatches(selector, labels);
}

function commonLabels(link: Link, remote: ServiceObject): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const [key, value] of Object.entries(remote.metadata?.labels ?? {})) {
    if (key.startsWith(MIRROR_LABEL_PREFIX) || matchesKeyPattern(key, link.excludedLabels)) continue;
    labels[key] = value;
  }
  labels[MulticlusterKey.MirroredService] = 'true';
  return labels;
}

function commonAnnotations(link: Link, remote: ServiceObject): Record<string, string> {
  const annotations: Record<string, string> = {};
  for (const [key, value] of Object.entries(remote.metadata?.annotations ?? {})) {
    if (TOPOLOGY_ANNOTATIONS.has(key) || matchesKeyPattern(key, link.excludedAnnotations)) continue;
    annotations[key] = value;
  }
  return annotations;
}

/** The remote ports as a local Service declares them (node ports mean nothing here). */
export function mirrorPorts(remote: ServiceObject): ServicePort[] {
  return (remote.spec?.ports ?? []).map((p) => ({
    ...(p.name ? { name: p.name } : {}),
    protocol: p.protocol ?? 'TCP',
    ...(p.appProtocol ? { appProtocol: p.appProtocol } : {}),
    port: p.port ?? 0,
    targetPort: p.targetPort ?? p.port ?? 0,
  }));
}

/** One endpoint port per remote Service port, all at the gateway's port. */
export function gatewayEndpointPorts(remote: ServiceObject, gatewayPort: number): EndpointPort[] {
  return (remote.spec?.ports ?? []).map((p) => ({
    ...(p.name ? { name: p.name } : {}),
    protocol: p.protocol ?? 'TCP',
    port: gatewayPort,
  }));
}

function mirrorOf(
  link: Link,
  remote: ServiceObject,
  mode: MirrorMode,
  remoteView: RemoteView,
  gateway: GatewayState,
): DesiredMirror {
  const cluster = link.targetClusterName;
  const remoteName = remote.metadata?.name ?? '';
  const namespace = remote.metadata?.namespace ?? '';
  const name = mirrorServiceName(remoteName, cluster);
  const fqName = remoteServiceFqName(remote, link.targetClusterDomain);
  const labels = commonLabels(link, remote);
  labels[MulticlusterKey.ClusterName] = cluster;
  if (mode === 'remote-discovery') {
    labels[MulticlusterKey.RemoteDiscovery] = cluster;
    labels[MulticlusterKey.RemoteService] = remoteName;
  }
  const annotations = commonAnnotations(link, remote);
  annotations[MulticlusterKey.RemoteServiceFqName] = fqName;
  annotations[MulticlusterKey.RemoteResourceVersion] = remote.metadata?.resourceVersion ?? '';
  const service: ServiceObject = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace, labels, annotations },
    spec: { ports: mirrorPorts(remote) },
  };
  if (mode === 'remote-discovery') return { mode, remoteName, service, endpoints: undefined };

  const endpointAnnotations: Record<string, string> = { [MulticlusterKey.RemoteServiceFqName]: fqName };
  if (link.gatewayIdentity) endpointAnnotations[MulticlusterKey.RemoteGatewayIdentity] = link.gatewayIdentity;
  const addresses = gateway.addresses.map((ip) => ({ ip }));
  const ready = remoteView.hasReadyEndpoints(namespace, remoteName);
  const endpoints: EndpointsObject = {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: {
      name,
      namespace,
      labels: { [MulticlusterKey.MirroredService]: 'true', [MulticlusterKey.ClusterName]: cluster },
      annotations: endpointAnnotations,
    },
    // An empty remote Service has no endpoints here either; a dead gateway keeps its addresses
    // but not ready, so clients fail fast instead of connecting to it.
    subsets:
      ready && addresses.length > 0 && link.gatewayPort !== undefined
        ? [
            {
              ...(gateway.alive ? { addresses } : { notReadyAddresses: addresses }),
              ports: gatewayEndpointPorts(remote, link.gatewayPort),
            },
          ]
        : [],
  };
  return { mode, remoteName, service, endpoints };
}

function federatedOf(link: Link, remote: ServiceObject): FederatedMember {
  const remoteName = remote.metadata?.name ?? '';
  const namespace = remote.metadata?.namespace ?? '';
  const annotations = commonAnnotations(link, remote);
  annotations[MulticlusterKey.RemoteDiscovery] = federatedMemberRef(remoteName, link.targetClusterName);
  return {
    namespace,
    remoteName,
    service: {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: federatedServiceName(remoteName),
        namespace,
        labels: commonLabels(link, remote),
        annotations,
      },
      spec: { ports: mirrorPorts(remote) },
    },
  };
}

export function desiredMirrors(
  link: Link,
  remote: RemoteView,
  localNamespaces: ReadonlySet<string>,
  gateway: GatewayState,
): DesiredState {
  const mirrors = new Map<string, DesiredMirror>();
  const federated = new Map<string, FederatedMember>();
  const skipped = new Set<string>();
  const selected: SelectedService[] = [];
  for (const service of remote.services) {
    const labels = service.metadata?.labels ?? {};
    const namespace = service.metadata?.namespace ?? '';
    const remoteName = service.metadata?.name ?? '';
    // The remote-discovery selector wins when both match (exported=remote-discovery vs =true
    // cannot both hold for the default selectors).
    const mode: MirrorMode | undefined = selects(link.remoteDiscoverySelector, labels)
      ? 'remote-discovery'
      : selects(link.selector, labels)
        ? 'gateway'
        : undefined;
    const federate = selects(link.federatedServiceSelector, labels);
    if (mode === undefined && !federate) continue;
    const record = (outcome: SelectedService['outcome']) =>
      selected.push({ namespace, name: remoteName, mirror: mode !== undefined, federate, outcome });
    if (!localNamespaces.has(namespace)) {
      skipped.add(namespace);
      record('missing-namespace');
      continue;
    }
    record(federate && service.spec?.clusterIP === 'None' ? 'headless-not-federated' : 'mirrored');
    if (mode !== undefined) {
      const mirror = mirrorOf(link, service, mode, remote, gateway);
      mirrors.set(`${namespace}/${mirror.service.metadata?.name}`, mirror);
    }
    // Headless Services cannot join a federated Service (Linkerd refuses them too).
    if (federate && service.spec?.clusterIP !== 'None') {
      federated.set(`${namespace}/${federatedServiceName(remoteName)}`, federatedOf(link, service));
    }
  }
  return { mirrors, federated, skippedNamespaces: [...skipped].sort(), selected };
}
