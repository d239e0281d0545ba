// The labels of Linkerd's per-endpoint outbound families (request_total, response_total,
// response_latency_ms, tcp_*): where the request went (target_*), how it was secured (tls and
// server_id, or no_tls_reason) and the endpoint's Destination API metric labels prefixed `dst_`
// (dst_namespace, dst_service, dst_pod, dst_deployment, dst_serviceaccount, dst_zone, ...), which
// viz needs to name destinations by service or workload.
import { isIP } from 'node:net';
import { NoTlsReason, TlsLabel } from '@tsmesh/core/data-plane';
import type { Endpoint } from '../discovery/index.js';
import { dstLabels, type TargetLabels } from '../metrics/index.js';

export function outboundEndpointLabels(
  authority: string | undefined,
  ep: Endpoint,
  meshTls: boolean,
): TargetLabels {
  const base = {
    direction: 'outbound' as const,
    ...(authority === undefined ? {} : { authority }),
    target_addr: ep.key,
    target_ip: isIP(ep.addr.host) ? ep.addr.host : '',
    target_port: String(ep.addr.port),
    ...dstLabels(ep.labels),
  };
  if (meshTls && ep.identity !== undefined) return { ...base, tls: TlsLabel.True, server_id: ep.identity };
  return {
    ...base,
    tls: TlsLabel.NoIdentity,
    no_tls_reason: ep.addr.host.startsWith('127.')
      ? NoTlsReason.Loopback
      : NoTlsReason.NotProvidedByServiceDiscovery,
  };
}
