// Endpoints → WeightedAddr, as Linkerd's endpoint translator builds them: weight 10000; metric
// labels pod, owner (deployment, replicaset, statefulset, daemonset, k8s_job, …), serviceaccount,
// control_plane_ns, pod_template_hash, zone and zone_locality; for meshed pods (a
// linkerd.io/control-plane-ns label, port not skipped) Http2ClientParams and a protocol hint —
// Opaque with OpaqueTransport{inbound port} for opaque ports, else H2 when the upgrade is on; and
// the TLS identity when the pod belongs to our control plane; for a linked cluster's gateway, its
// identity and the authority override.
import type { destination } from '@tsmesh/core';
import { formatIdentityName } from '@tsmesh/core';
import type { EndpointAddress } from '../domain/index.js';
import { toTcpAddress } from './net-address.js';

export const DEFAULT_WEIGHT = 10_000;

export interface EndpointTranslation {
  readonly controlPlaneNamespace: string;
  /** '' turns TLS identities off. */
  readonly trustDomain: string;
  readonly enableH2Upgrade: boolean;
  /** Send OpaqueTransport for every meshed endpoint (Linkerd's -force-opaque-transport). */
  readonly forceOpaqueTransport: boolean;
  /** Http2ClientParams sent for meshed endpoints (undefined: none). */
  readonly meshedHttp2: destination.Http2ClientParams.$Properties | undefined;
}

/** Linkerd's default -meshed-http2-client-params: keep-alive every 10 s, 3 s timeout, also idle. */
export const DEFAULT_MESHED_HTTP2: destination.Http2ClientParams.$Properties = Object.freeze({
  keepAlive: { interval: { seconds: 10 }, timeout: { seconds: 3 }, whileIdle: true },
});

function ownerLabel(kind: string): string {
  return kind === 'job' ? 'k8s_job' : kind;
}

/**
 * The WeightedAddr for one endpoint; `clientZone` is the zone of the asking proxy's node (from its
 * context token), which sets zone_locality to local, remote or unknown.
 */
export function toWeightedAddr(
  address: EndpointAddress,
  t: EndpointTranslation,
  clientZone: string | undefined,
): destination.WeightedAddr.$Properties | undefined {
  const addr = toTcpAddress(address.ip, address.port);
  if (!addr) return undefined;
  const labels: Record<string, string> = {};
  const wa: destination.WeightedAddr.$Properties = { addr, weight: DEFAULT_WEIGHT, metricLabels: labels };
  const pod = address.pod;
  if (pod) {
    labels.pod = pod.name;
    labels[ownerLabel(pod.ownerKind)] = pod.ownerName;
    labels.serviceaccount = pod.serviceAccount;
    if (pod.controlPlaneNamespace) labels.control_plane_ns = pod.controlPlaneNamespace;
    if (pod.podTemplateHash) labels.pod_template_hash = pod.podTemplateHash;
    labels.zone = address.zone ?? '';
    if (pod.controlPlaneNamespace && !pod.skippedInbound) {
      if (t.meshedHttp2) wa.http2 = t.meshedHttp2;
      const hint: destination.ProtocolHint.$Properties = {};
      if (!pod.proxyMetaPort && (t.forceOpaqueTransport || pod.opaque)) {
        hint.opaqueTransport = { inboundPort: pod.inboundPort };
      }
      if (pod.opaque) hint.opaque = {};
      else if (t.enableH2Upgrade) hint.h2 = {};
      wa.protocolHint = hint;
    }
    // A linked cluster's pod (remote discovery) has an identity in that cluster's trust domain.
    const trustDomain = t.trustDomain ? (address.trustDomain ?? t.trustDomain) : '';
    if (trustDomain && pod.controlPlaneNamespace === t.controlPlaneNamespace && !pod.skippedInbound) {
      const name = identityName(pod.serviceAccount, pod.namespace, t.controlPlaneNamespace, trustDomain);
      if (name) wa.tlsIdentity = { dnsLikeIdentity: { name }, serverName: { name } };
    }
  }
  // A linked cluster's gateway (a mirror's endpoint), as Linkerd's translator: mutual TLS with the
  // gateway's identity, the remote Service as authority, HTTP/2 between the proxies when upgrading.
  if (!pod && address.gateway) {
    const name = address.gateway.identity;
    if (name) wa.tlsIdentity = { dnsLikeIdentity: { name }, serverName: { name } };
    wa.authorityOverride = { authorityOverride: address.gateway.authorityOverride };
    if (t.enableH2Upgrade) wa.protocolHint = { h2: {} };
  }
  labels.zone_locality =
    clientZone === undefined || clientZone === '' || address.zone === undefined
      ? 'unknown'
      : address.zone === clientZone
        ? 'local'
        : 'remote';
  return wa;
}

function identityName(sa: string, ns: string, cp: string, trustDomain: string): string | undefined {
  try {
    return formatIdentityName({
      serviceAccount: sa,
      namespace: ns,
      controlPlaneNamespace: cp,
      trustDomain,
    });
  } catch {
    return undefined;
  }
}
