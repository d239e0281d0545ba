// Edges as linkerd-viz's Edges API builds them: who talks to whom, from the source proxies'
// outbound `response_total` (by the resource and its dst_ counterpart, server_id, tls and
// no_tls_reason) joined with the destination proxies' inbound `response_total` by client_id. An
// edge is secured when its requests went over mutual TLS (tls="true").
import { ProxyMetric } from '@tsmesh/core';
import { destinationLabel, sourceLabel, type ResourceType } from './resource.js';
import type { WindowVectors } from './window-vectors.js';

export interface Edge {
  readonly src: { readonly namespace: string; readonly name: string };
  readonly dst: { readonly namespace: string; readonly name: string };
  /** The client's identity as the destination's proxy saw it ('' when not mutual TLS). */
  readonly clientId: string;
  /** The server identity the source's proxy verified ('' when not mutual TLS). */
  readonly serverId: string;
  readonly secured: boolean;
  /** Why not secured (no_tls_reason), '' when secured. */
  readonly noTlsReason: string;
  readonly requests: number;
}

export interface EdgesQuery {
  readonly type: ResourceType;
  readonly namespace?: string;
}

/** The service account of an identity `sa.ns.serviceaccount.identity.<cp-ns>.<domain>`. */
const accountOf = (id: string) => {
  const [sa, ns] = id.split('.');
  return { sa: sa ?? '', ns: ns ?? '' };
};

export async function edgesOf(vectors: WindowVectors, q: EdgesQuery): Promise<Edge[]> {
  const src = sourceLabel(q.type);
  const dst = destinationLabel(q.type);
  const ns: Record<string, string> = q.namespace ? { namespace: q.namespace } : {};
  const [outbound, inbound, instances] = await Promise.all([
    vectors.increase(ProxyMetric.ResponseTotal, { direction: 'outbound', ...ns }, [
      src,
      'namespace',
      dst,
      'dst_namespace',
      'target_ip',
      'server_id',
      'tls',
      'no_tls_reason',
    ]),
    vectors.increase(ProxyMetric.ResponseTotal, { direction: 'inbound' }, [src, 'namespace', 'client_id']),
    // Which resource each scraped address is, for destinations without dst_* labels.
    vectors.gauge('process_start_time_seconds', {}, ['instance', src, 'namespace']),
  ]);
  const byIp = new Map<string, { name: string; namespace: string }>();
  for (const s of instances) {
    const host = (s.labels.instance ?? '').replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
    if (host && s.labels[src]) byIp.set(host, { name: s.labels[src], namespace: s.labels.namespace ?? '' });
  }
  const clients = new Map<string, string[]>();
  for (const s of inbound) {
    const id = s.labels.client_id ?? '';
    if (!id || !(s.value > 0)) continue;
    const key = `${s.labels.namespace ?? ''}/${s.labels[src] ?? ''}`;
    clients.set(key, [...(clients.get(key) ?? []), id]);
  }
  const out = new Map<string, Edge>();
  for (const s of outbound) {
    const name = s.labels[src] ?? '';
    // A proxy without the destination's metric labels: the endpoint's address names it.
    const known = s.labels[dst] ? undefined : byIp.get(s.labels.target_ip ?? '');
    const dstName = s.labels[dst] ?? known?.name ?? '';
    if (!name || !dstName || !(s.value > 0)) continue;
    const srcNs = s.labels.namespace ?? '';
    const dstNs = s.labels.dst_namespace ?? known?.namespace ?? '';
    const secured = s.labels.tls === 'true';
    const seen = clients.get(`${dstNs}/${dstName}`) ?? [];
    // The client id whose service account names the source (or the only one the server saw).
    const clientId = secured
      ? (seen.find((id) => accountOf(id).ns === srcNs && accountOf(id).sa === name) ??
        (seen.length === 1 ? seen[0]! : ''))
      : '';
    const key = JSON.stringify([
      srcNs,
      name,
      dstNs,
      dstName,
      s.labels.server_id,
      secured,
      s.labels.no_tls_reason,
    ]);
    const prev = out.get(key);
    out.set(key, {
      src: { namespace: srcNs, name },
      dst: { namespace: dstNs, name: dstName },
      clientId,
      serverId: s.labels.server_id ?? '',
      secured,
      noTlsReason: secured ? '' : (s.labels.no_tls_reason ?? ''),
      requests: s.value + (prev?.requests ?? 0),
    });
  }
  return [...out.values()].sort((a, b) =>
    `${a.src.namespace}/${a.src.name}>${a.dst.name}`.localeCompare(
      `${b.src.namespace}/${b.src.name}>${b.dst.name}`,
    ),
  );
}
