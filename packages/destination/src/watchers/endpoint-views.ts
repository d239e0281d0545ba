// Computing what a Get stream shows, from the cluster state: the ready endpoints of a Service's
// EndpointSlices on the requested port (a named targetPort resolved through each slice's ports,
// which the EndpointSlice controller fills per pod), optionally only the endpoint with a given
// hostname; or the one pod behind a pod IP (host IP + hostPort for hostNetwork pods).
import {
  ConfigAnnotation,
  labelSelectorMatches,
  MulticlusterKey,
  parseLabelSelector,
  type LabelSelector,
} from '@tsmesh/core';
import {
  addressKey,
  describePod,
  type EndpointAddress,
  type EndpointSliceObject,
  type PodObject,
  type ServerObject,
  type ServiceObject,
} from '../domain/index.js';
import { fingerprintOf, type EndpointView } from '../translators/index.js';
import type { ClusterState } from './cluster-state.js';
import { remoteMembersOf, remoteServiceView } from './remote-endpoint-views.js';

export interface ViewConfig {
  readonly defaultOpaquePorts: ReadonlySet<number>;
  /** Serve IPv6 endpoints; a pod with both families is then reached over IPv6 (Linkerd's -enable-ipv6). */
  readonly enableIpv6: boolean;
}

export interface ServiceTarget {
  readonly namespace: string;
  readonly name: string;
  readonly port: number;
  readonly hostname: string | undefined;
}

type TargetPort = { readonly number: number } | { readonly name: string };

/** The target port of `port` on a Service, as Linkerd's getTargetPort resolves it. */
export function serviceTargetPort(service: ServiceObject | undefined, port: number): TargetPort {
  const ports = Array.isArray(service?.spec?.ports) ? service.spec.ports : [];
  const spec = ports.find((p) => p?.port === port);
  if (!spec) return { number: port };
  // A gateway mirror's Endpoints list the remote gateway's port under each Service port's name (as
  // the service mirror writes them, and as kube-proxy reads a selectorless Service's endpoints); the
  // targetPort copied from the remote Service is the remote pods' port, not the gateway's.
  if (service?.metadata?.labels?.[MulticlusterKey.MirroredService] === 'true')
    return { name: spec.name ?? '' };
  if (typeof spec.targetPort === 'string' && spec.targetPort !== '') {
    // EndpointSlice ports carry the Service port's name with the number resolved per pod.
    return { name: spec.name ?? '' };
  }
  if (typeof spec.targetPort === 'number' && spec.targetPort > 0) return { number: spec.targetPort };
  return { number: port };
}

function slicePort(slice: EndpointSliceObject, target: TargetPort): number | undefined {
  if ('number' in target) return target.number;
  const ports = Array.isArray(slice.ports) ? slice.ports : [];
  const match = ports.find((p) => (p?.name ?? '') === target.name);
  return typeof match?.port === 'number' ? match.port : undefined;
}

/**
 * The linked cluster's gateway behind a mirror's endpoints: the identity the service mirror put on
 * its Endpoints (copied to their EndpointSlice) and the remote Service's name with the requested port.
 */
function gatewayOf(
  service: ServiceObject,
  slice: EndpointSliceObject,
  port: number,
): EndpointAddress['gateway'] | undefined {
  const annotations = slice.metadata?.annotations ?? {};
  const identity = annotations[MulticlusterKey.RemoteGatewayIdentity];
  const fqName =
    annotations[MulticlusterKey.RemoteServiceFqName] ??
    service.metadata?.annotations?.[MulticlusterKey.RemoteServiceFqName];
  if (identity === undefined || !fqName) return undefined;
  return { identity, authorityOverride: `${fqName}:${port}` };
}

const serverSelectors = new WeakMap<ServerObject, LabelSelector | null>();

function serverSelector(state: ClusterState, server: ServerObject): LabelSelector | null {
  let selector = serverSelectors.get(server);
  if (selector === undefined) {
    try {
      selector = parseLabelSelector(server.spec?.podSelector, 'spec.podSelector');
    } catch (err) {
      state.reportMalformed('Server', server, (err as Error).message);
      selector = null;
    }
    serverSelectors.set(server, selector);
  }
  return selector;
}

/** True when a Server selecting the pod on this port says proxyProtocol: opaque. */
export function serverMarksOpaque(state: ClusterState, pod: PodObject, port: number): boolean {
  const namespace = pod.metadata?.namespace ?? 'default';
  const labels = pod.metadata?.labels ?? {};
  for (const server of state.servers(namespace)) {
    if (server.spec?.proxyProtocol !== 'opaque' || server.spec.podSelector === undefined) continue;
    const selector = serverSelector(state, server);
    if (!selector || !labelSelectorMatches(selector, labels)) continue;
    const p = server.spec.port;
    if (p === port) return true;
    if (typeof p === 'string') {
      for (const c of pod.spec?.containers ?? []) {
        if (c?.ports?.some((cp) => cp?.name === p && cp.containerPort === port)) return true;
      }
    }
  }
  return false;
}

/** The endpoint of `pod` at ip:port, with everything the translator needs. */
export function podAddress(
  state: ClusterState,
  config: ViewConfig,
  pod: PodObject,
  ip: string,
  port: number,
  zone: string | undefined,
): EndpointAddress {
  const namespace = pod.metadata?.namespace ?? 'default';
  return {
    ip,
    port,
    zone,
    pod: describePod(pod, {
      port,
      defaultOpaquePorts: config.defaultOpaquePorts,
      namespaceOpaquePorts: state.namespace(namespace)?.metadata?.annotations?.[ConfigAnnotation.OpaquePorts],
      serverOpaque: serverMarksOpaque(state, pod, port),
    }),
  };
}

/** Keeps the previous view's address objects where nothing changed (translations are cached on them). */
function reuse(previous: EndpointView | undefined, key: string, address: EndpointAddress): EndpointAddress {
  const before = previous?.addresses.get(key);
  return before && fingerprintOf(before) === fingerprintOf(address) ? before : address;
}

export function serviceView(
  state: ClusterState,
  config: ViewConfig,
  target: ServiceTarget,
  previous: EndpointView | undefined,
): EndpointView {
  const labels = { namespace: target.namespace, service: target.name };
  const service = state.service(target.namespace, target.name);
  if (!service) return { exists: false, addresses: new Map(), labels };
  const members = state.remoteClusters ? remoteMembersOf(service) : undefined;
  if (members) {
    return remoteServiceView(state, target, members, previous, (s, t) => serviceView(s, config, t, previous));
  }
  const targetPort = serviceTargetPort(service, target.port);
  const candidates: { key: string; address: EndpointAddress; family: 4 | 6; podKey: string | undefined }[] =
    [];
  for (const slice of state.endpointSlices(target.namespace, target.name)) {
    try {
      const family = slice.addressType === 'IPv6' ? 6 : slice.addressType === 'IPv4' ? 4 : undefined;
      if (family === undefined || (family === 6 && !config.enableIpv6)) continue;
      const endpoints = slice.endpoints ?? [];
      if (!Array.isArray(endpoints)) throw new TypeError('endpoints is not a list');
      const port = slicePort(slice, targetPort);
      if (port === undefined) continue;
      const gateway = gatewayOf(service, slice, target.port);
      for (const endpoint of endpoints) {
        if (endpoint?.conditions?.ready === false) continue;
        if (target.hostname !== undefined) {
          const hostname = endpoint.hostname ?? endpoint.targetRef?.name;
          if (hostname !== target.hostname) continue;
        }
        const ref = endpoint.targetRef;
        let pod: PodObject | undefined;
        if (ref?.kind === 'Pod' && typeof ref.name === 'string') {
          pod = state.pod(ref.namespace ?? target.namespace, ref.name);
          // Linkerd skips an endpoint whose pod it has not seen yet; it appears with the pod.
          if (!pod) continue;
        }
        for (const ip of Array.isArray(endpoint.addresses) ? endpoint.addresses : []) {
          if (typeof ip !== 'string') continue;
          const address = pod
            ? podAddress(state, config, pod, ip, port, endpoint.zone)
            : { ip, port, zone: endpoint.zone, pod: undefined, ...(gateway ? { gateway } : {}) };
          const podKey = pod ? `${pod.metadata?.namespace}/${pod.metadata?.name}` : undefined;
          candidates.push({ key: addressKey(ip, port), address, family, podKey });
        }
      }
    } catch (err) {
      state.reportMalformed('EndpointSlice', slice, (err as Error).message);
    }
  }
  // Dual-stack: a pod listed in both families is reached over IPv6 only.
  const v6Pods = new Set(candidates.filter((c) => c.family === 6 && c.podKey).map((c) => c.podKey));
  const addresses = new Map<string, EndpointAddress>();
  for (const c of candidates) {
    if (c.family === 4 && c.podKey && v6Pods.has(c.podKey)) continue;
    addresses.set(c.key, reuse(previous, c.key, c.address));
  }
  return { exists: true, addresses, labels };
}

/** The pod behind an IP: by pod IP, else a pod on that host with the port as hostPort. */
export function podForIp(state: ClusterState, ip: string, port: number): PodObject | undefined {
  const byIp = state.podsByIp(ip);
  if (byIp.length > 0) return byIp[0];
  for (const pod of state.podsByHostIp(ip)) {
    for (const c of pod.spec?.containers ?? []) {
      if (
        c?.ports?.some(
          (p) => (p?.hostPort ?? (pod.spec?.hostNetwork ? p?.containerPort : undefined)) === port,
        )
      ) {
        return pod;
      }
    }
  }
  return undefined;
}

/** The address for ip:port: the pod's endpoint if a pod has it, else the bare address. */
export function ipAddress(
  state: ClusterState,
  config: ViewConfig,
  ip: string,
  port: number,
): EndpointAddress {
  const pod = podForIp(state, ip, port);
  if (!pod) return { ip, port, zone: undefined, pod: undefined };
  const zoneOfNode = pod.spec?.nodeName ? nodeZone(state, pod.spec.nodeName) : undefined;
  return podAddress(state, config, pod, ip, port, zoneOfNode);
}

export function ipView(
  state: ClusterState,
  config: ViewConfig,
  ip: string,
  port: number,
  previous: EndpointView | undefined,
): EndpointView {
  const address = ipAddress(state, config, ip, port);
  const key = addressKey(ip, port);
  const labels: Record<string, string> = address.pod ? { namespace: address.pod.namespace } : {};
  return { exists: true, addresses: new Map([[key, reuse(previous, key, address)]]), labels };
}

export function nodeZone(state: ClusterState, nodeName: string): string | undefined {
  const zone = state.node(nodeName)?.metadata?.labels?.['topology.kubernetes.io/zone'];
  return typeof zone === 'string' && zone !== '' ? zone : undefined;
}

export function sameEndpointView(a: EndpointView, b: EndpointView): boolean {
  if (a.exists !== b.exists || a.addresses.size !== b.addresses.size) return false;
  for (const [key, address] of a.addresses) if (b.addresses.get(key) !== address) return false;
  return a.labels.namespace === b.labels.namespace && a.labels.service === b.labels.service;
}
