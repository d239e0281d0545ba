// The endpoint set of one Destination.Get stream, as the proxy uses it: each endpoint with its
// weight, TLS identity, protocol hint and metric labels. Updates add, remove or empty the set;
// `exists` tells "service unknown" (fall back) from "known, currently empty" (fail fast).
import type { destination } from '@tsmesh/core/data-plane';
import { fromTcpAddress, type HostPort } from './proto-address.js';

export type ProtocolHint = 'unknown' | 'h2' | 'opaque';

export interface Endpoint {
  /** `host:port`, the key in the set. */
  readonly key: string;
  readonly addr: HostPort;
  readonly weight: number;
  /** The identity the endpoint's proxy must present (DNS-like or URI-like); undefined = unmeshed. */
  readonly identity: string | undefined;
  /** SNI to send, when different from the identity. */
  readonly serverName: string | undefined;
  readonly protocolHint: ProtocolHint;
  /** The peer proxy's inbound port for opaque transport, when the hint asks for it. */
  readonly opaqueTransportPort: number | undefined;
  readonly authorityOverride: string | undefined;
  /** `metric_labels` of the endpoint and its set, prefixed `dst_` by the metrics layer. */
  readonly labels: Readonly<Record<string, string>>;
}

export interface EndpointSet {
  /** False when the destination controller does not know the name (no_endpoints{exists:false}). */
  readonly exists: boolean;
  readonly endpoints: ReadonlyMap<string, Endpoint>;
}

export const EMPTY_ENDPOINT_SET: EndpointSet = Object.freeze({ exists: true, endpoints: new Map() });

export const formatHostPort = (a: HostPort): string =>
  a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;

/** Domain endpoint from a WeightedAddr; undefined when it has no address. */
export function fromWeightedAddr(
  w: destination.WeightedAddr.$Properties,
  setLabels: Readonly<Record<string, string>> = {},
): Endpoint | undefined {
  const addr = fromTcpAddress(w.addr);
  if (!addr) return undefined;
  const tls = w.tlsIdentity;
  const identity = tls?.dnsLikeIdentity?.name ?? tls?.uriLikeIdentity?.uri ?? undefined;
  const hint = w.protocolHint;
  const protocolHint: ProtocolHint = hint?.h2 ? 'h2' : hint?.opaque ? 'opaque' : 'unknown';
  const opaquePort = hint?.opaqueTransport?.inboundPort;
  return Object.freeze({
    key: formatHostPort(addr),
    addr,
    weight: w.weight ?? 1,
    identity: identity || undefined,
    serverName: tls?.serverName?.name || undefined,
    protocolHint,
    opaqueTransportPort: opaquePort ? opaquePort : undefined,
    authorityOverride: w.authorityOverride?.authorityOverride || undefined,
    labels: Object.freeze({ ...setLabels, ...(w.metricLabels ?? {}) }),
  });
}

/** The set after one Update (a new object; the old one is unchanged). */
export function applyEndpointUpdate(set: EndpointSet, update: destination.Update.$Properties): EndpointSet {
  if (update.add) {
    const next = new Map(set.endpoints);
    const labels = update.add.metricLabels ?? {};
    for (const w of update.add.addrs ?? []) {
      const ep = fromWeightedAddr(w, labels);
      if (ep) next.set(ep.key, ep);
    }
    return { exists: true, endpoints: next };
  }
  if (update.remove) {
    const next = new Map(set.endpoints);
    for (const a of update.remove.addrs ?? []) {
      const addr = fromTcpAddress(a);
      if (addr) next.delete(formatHostPort(addr));
    }
    return { exists: true, endpoints: next };
  }
  if (update.noEndpoints) return { exists: update.noEndpoints.exists === true, endpoints: new Map() };
  return set;
}
