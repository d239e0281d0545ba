// One endpoint as the destination service knows it: an address and port, and, when a pod backs
// it, what the translator needs to describe the pod to a proxy (owner, identity inputs, protocol).
// Built by the watchers from Pods, Namespaces and Servers; turned into protobuf by the translators.
import { ConfigAnnotation, DefaultPort, Label, PROXY_CONTAINER_NAME, ProxyEnv } from '@tsmesh/core';
import { POD_TEMPLATE_HASH_LABEL, type ContainerSpec, type PodObject } from './kube-types.js';
import { parsePortSet } from './port-set.js';

export interface PodEndpointInfo {
  readonly name: string;
  readonly namespace: string;
  readonly serviceAccount: string;
  /** Lower-case owner kind as Linkerd labels it (deployment, replicaset, statefulset, job, pod…). */
  readonly ownerKind: string;
  readonly ownerName: string;
  /** linkerd.io/control-plane-ns: present on meshed pods. */
  readonly controlPlaneNamespace: string | undefined;
  readonly podTemplateHash: string | undefined;
  /** The target port is opaque (annotation on pod or namespace, defaults, or a Server). */
  readonly opaque: boolean;
  /** The target port is in config.linkerd.io/skip-inbound-ports: no proxy answers on it. */
  readonly skippedInbound: boolean;
  /** The port is the proxy's own admin or control port. */
  readonly proxyMetaPort: boolean;
  /** The proxy's inbound port (LINKERD2_PROXY_INBOUND_LISTEN_ADDR; default 4143). */
  readonly inboundPort: number;
}

export interface EndpointAddress {
  readonly ip: string;
  readonly port: number;
  readonly zone: string | undefined;
  readonly pod: PodEndpointInfo | undefined;
  /** The trust domain of the pod's identity when it is not ours (a linked cluster's pod). */
  readonly trustDomain?: string;
  /**
   * A linked cluster's gateway (the endpoint of a gateway mirror): its identity and the remote
   * Service's `name:port`, which the client proxy sends as the authority for the gateway to forward to.
   */
  readonly gateway?: { readonly identity: string; readonly authorityOverride: string };
}

/** `ip:port` (IPv6 in brackets): the identity of an endpoint in a stream. */
export function addressKey(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

export interface PodDescribeOptions {
  readonly port: number;
  readonly defaultOpaquePorts: ReadonlySet<number>;
  /** config.linkerd.io/opaque-ports of the pod's namespace, if any. */
  readonly namespaceOpaquePorts: string | undefined;
  /** True when a Server selecting this pod and port says proxyProtocol: opaque. */
  readonly serverOpaque: boolean;
}

function proxyContainer(pod: PodObject): ContainerSpec | undefined {
  const all = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  return all.find((c) => c?.name === PROXY_CONTAINER_NAME);
}

function envPort(container: ContainerSpec | undefined, name: string): number | undefined {
  const value = container?.env?.find((e) => e?.name === name)?.value;
  if (typeof value !== 'string') return undefined;
  const m = /:(\d{1,5})$/.exec(value);
  const port = m ? Number(m[1]) : NaN;
  return port >= 1 && port <= 65535 ? port : undefined;
}

/** The pod's opaque ports: its annotation, else its namespace's, else the defaults. */
export function podOpaquePorts(
  pod: PodObject,
  namespaceAnnotation: string | undefined,
  defaults: ReadonlySet<number>,
): ReadonlySet<number> {
  const own = pod.metadata?.annotations?.[ConfigAnnotation.OpaquePorts];
  const text = own ?? namespaceAnnotation;
  if (text === undefined) return defaults;
  const parsed = parsePortSet(text);
  if (parsed.names.length === 0) return parsed.ports;
  const ports = new Set(parsed.ports);
  for (const container of pod.spec?.containers ?? []) {
    for (const p of container?.ports ?? []) {
      if (p?.name && parsed.names.includes(p.name) && typeof p.containerPort === 'number') {
        ports.add(p.containerPort);
      }
    }
  }
  return ports;
}

/** Owner kind and name the way Linkerd labels metrics (a Deployment's pods name the Deployment). */
export function podOwner(pod: PodObject): { kind: string; name: string } {
  const owners = pod.metadata?.ownerReferences ?? [];
  const owner = owners.find((o) => o?.controller) ?? owners[0];
  const podName = pod.metadata?.name ?? '';
  if (!owner?.kind || !owner.name) return { kind: 'pod', name: podName };
  const hash = pod.metadata?.labels?.[POD_TEMPLATE_HASH_LABEL];
  // A ReplicaSet made by a Deployment is named <deployment>-<pod-template-hash>; Linkerd looks the
  // ReplicaSet up to find the Deployment, the name says the same without another watch.
  if (owner.kind === 'ReplicaSet' && hash && owner.name.endsWith(`-${hash}`)) {
    return { kind: 'deployment', name: owner.name.slice(0, -hash.length - 1) };
  }
  return { kind: owner.kind.toLowerCase(), name: owner.name };
}

export function describePod(pod: PodObject, options: PodDescribeOptions): PodEndpointInfo {
  const annotations = pod.metadata?.annotations ?? {};
  const labels = pod.metadata?.labels ?? {};
  const owner = podOwner(pod);
  const container = proxyContainer(pod);
  const skipped = annotations[ConfigAnnotation.SkipInboundPorts];
  const metaPorts = [
    envPort(container, ProxyEnv.AdminListenAddr),
    envPort(container, ProxyEnv.ControlListenAddr),
  ];
  const opaquePorts = podOpaquePorts(pod, options.namespaceOpaquePorts, options.defaultOpaquePorts);
  return {
    name: pod.metadata?.name ?? '',
    namespace: pod.metadata?.namespace ?? 'default',
    serviceAccount: pod.spec?.serviceAccountName || 'default',
    ownerKind: owner.kind,
    ownerName: owner.name,
    controlPlaneNamespace: labels[Label.ControlPlaneNamespace] || undefined,
    podTemplateHash: labels[POD_TEMPLATE_HASH_LABEL] || undefined,
    opaque: options.serverOpaque || opaquePorts.has(options.port),
    skippedInbound: skipped !== undefined && parsePortSet(skipped).ports.has(options.port),
    proxyMetaPort: metaPorts.includes(options.port),
    inboundPort: envPort(container, ProxyEnv.InboundListenAddr) ?? DefaultPort.Inbound,
  };
}
