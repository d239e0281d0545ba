// Computing what a GetProfile stream shows: the ServiceProfile named after the service's FQDN —
// in the client's namespace first (from its context token), else in the service's namespace —
// translated, with opaque_protocol from config.linkerd.io/opaque-ports on the Service (else its
// namespace, else the default opaque ports); or, for IP and pod-name lookups, a default profile
// carrying the endpoint.
import { ConfigAnnotation, type destination } from '@tsmesh/core';
import {
  parsePortSet,
  parseServiceProfileSpec,
  serviceFqdn,
  type EndpointAddress,
  type ServiceProfileObject,
  type ServiceProfileSpec,
} from '../domain/index.js';
import { toDestinationProfile, toWeightedAddr, type EndpointTranslation } from '../translators/index.js';
import type { ClusterState } from './cluster-state.js';
import type { ViewConfig } from './endpoint-views.js';

export interface ProfileConfig extends ViewConfig {
  readonly clusterDomain: string;
  readonly translation: EndpointTranslation;
}

export type Profile = destination.DestinationProfile.$Properties;

const parsedProfiles = new WeakMap<ServiceProfileObject, ServiceProfileSpec | null>();

function profileSpec(state: ClusterState, object: ServiceProfileObject): ServiceProfileSpec | undefined {
  let spec = parsedProfiles.get(object);
  if (spec === undefined) {
    const parsed = parseServiceProfileSpec(object.spec);
    spec = parsed.ok ? parsed.spec : null;
    if (!parsed.ok) state.reportMalformed('ServiceProfile', object, parsed.problems.join('; '));
    parsedProfiles.set(object, spec);
  }
  return spec ?? undefined;
}

/** Whether `port` of a Service is opaque: its annotation, else its namespace's, else the defaults. */
export function serviceOpaque(
  state: ClusterState,
  config: ViewConfig,
  namespace: string,
  name: string,
  port: number,
): boolean {
  const own = state.service(namespace, name)?.metadata?.annotations?.[ConfigAnnotation.OpaquePorts];
  const text = own ?? state.namespace(namespace)?.metadata?.annotations?.[ConfigAnnotation.OpaquePorts];
  if (text === undefined) return config.defaultOpaquePorts.has(port);
  return parsePortSet(text).ports.has(port);
}

export interface ServiceProfileTarget {
  readonly namespace: string;
  readonly name: string;
  readonly port: number;
  readonly clientNamespace: string | undefined;
}

export function serviceProfileView(
  state: ClusterState,
  config: ProfileConfig,
  target: ServiceProfileTarget,
): Profile {
  const fqn = serviceFqdn(target.name, target.namespace, config.clusterDomain);
  let chosen: { object: ServiceProfileObject; spec: ServiceProfileSpec } | undefined;
  for (const ns of [target.clientNamespace, target.namespace]) {
    if (!ns || chosen) continue;
    const object = state.serviceProfile(ns, fqn);
    const spec = object ? profileSpec(state, object) : undefined;
    if (object && spec) chosen = { object, spec };
  }
  return toDestinationProfile({
    fullyQualifiedName: fqn,
    port: target.port,
    service: { name: target.name, namespace: target.namespace },
    profile: chosen && {
      name: chosen.object.metadata?.name ?? fqn,
      namespace: chosen.object.metadata?.namespace ?? target.namespace,
      spec: chosen.spec,
    },
    opaqueProtocol: serviceOpaque(state, config, target.namespace, target.name, target.port),
    endpoint: undefined,
  });
}

/** The default profile with the endpoint of one address (pod IP, pod name or unknown IP). */
export function endpointProfileView(config: ProfileConfig, address: EndpointAddress): Profile {
  return toDestinationProfile({
    fullyQualifiedName: '',
    port: address.port,
    service: undefined,
    profile: undefined,
    opaqueProtocol: address.pod ? address.pod.opaque : config.defaultOpaquePorts.has(address.port),
    endpoint: toWeightedAddr(address, config.translation, undefined),
  });
}

export function sameProfile(a: Profile, b: Profile): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}
