// Stat summaries as linkerd-viz's StatSummary computes them: per resource, success rate and
// requests a second from `response_total` (by classification and tls), p50/p95/p99 from
// `response_latency_ms` buckets, TCP connections and bytes a second from `tcp_*` (peer="src" for
// inbound, "dst" for outbound) and the meshed pods reporting metrics. Without --from/--to the
// inbound side of the resource's own proxies is read; `--to R` reads the resource's outbound
// calls to R; `--from R` reads R's outbound calls to the resource, named by their dst_* labels.
import { ProxyMetric } from '@tsmesh/core';
import { destinationLabel, isNamespaced, sourceLabel, type Resource } from './resource.js';
import { groupKey, type Matchers, type Series, type WindowVectors } from './window-vectors.js';

export interface StatQuery {
  readonly resource: Resource;
  /** Namespace of the resource; undefined with allNamespaces. */
  readonly namespace?: string;
  readonly allNamespaces?: boolean;
  readonly from?: Resource & { readonly namespace?: string };
  readonly to?: Resource & { readonly namespace?: string };
  /** Only series of this resource's proxies (e.g. the routes of one deployment). */
  readonly within?: Resource;
}

export interface StatRow {
  readonly namespace: string;
  readonly type: Resource['type'];
  readonly name: string;
  /** Pods with a proxy reporting for this row (meshed), and all pods when known. */
  readonly meshedPods: number;
  readonly totalPods?: number;
  readonly requests: number;
  readonly successes: number;
  /** 0..1; undefined without responses. */
  readonly successRate: number | undefined;
  readonly rps: number;
  readonly latencyMsP50: number | undefined;
  readonly latencyMsP95: number | undefined;
  readonly latencyMsP99: number | undefined;
  /** Share of requests on mutual TLS (0..1). */
  readonly tlsShare: number | undefined;
  readonly tcpConnections: number;
  readonly tcpReadBytesPerSec: number;
  readonly tcpWriteBytesPerSec: number;
}

interface Plan {
  readonly matchers: Matchers;
  /** Labels the rows are grouped by: [name label, namespace label?]. */
  readonly nameLabel: string;
  readonly nsLabel: string | undefined;
  readonly direction: 'inbound' | 'outbound';
  readonly peer: 'src' | 'dst';
}

function planOf(q: StatQuery): Plan {
  const { resource } = q;
  const ns = q.allNamespaces ? undefined : q.namespace;
  const m: Record<string, string> = {};
  if (q.from) {
    // Calls from q.from to the resource: q.from's outbound series, named by dst_* labels.
    const nameLabel = destinationLabel(resource.type);
    const nsLabel =
      isNamespaced(resource.type) || resource.type === 'namespace' ? 'dst_namespace' : undefined;
    m[sourceLabel(q.from.type)] = q.from.name ?? '';
    if (q.from.type !== 'namespace' && q.from.namespace) m.namespace = q.from.namespace;
    if (resource.name !== undefined) m[nameLabel] = resource.name;
    if (ns !== undefined && nsLabel && resource.type !== 'namespace') m[nsLabel] = ns;
    if (!q.from.name) delete m[sourceLabel(q.from.type)];
    return {
      matchers: { ...m, direction: 'outbound' },
      nameLabel,
      nsLabel: resource.type === 'namespace' ? undefined : nsLabel,
      direction: 'outbound',
      peer: 'dst',
    };
  }
  const outbound = q.to !== undefined || resource.type === 'service' || resource.type === 'authority';
  const nameLabel =
    outbound && (resource.type === 'service' || resource.type === 'authority')
      ? destinationLabel(resource.type)
      : sourceLabel(resource.type);
  const nsLabel =
    resource.type === 'namespace' || resource.type === 'authority'
      ? undefined
      : nameLabel === 'dst_service'
        ? 'dst_namespace'
        : 'namespace';
  if (resource.name !== undefined) m[nameLabel] = resource.name;
  if (ns !== undefined && nsLabel) m[nsLabel] = ns;
  if (q.to) {
    m[destinationLabel(q.to.type)] = q.to.name ?? '';
    if (!q.to.name) delete m[destinationLabel(q.to.type)];
    if (q.to.namespace && q.to.type !== 'namespace' && q.to.type !== 'authority')
      m.dst_namespace = q.to.namespace;
  }
  if (q.within?.name !== undefined) m[sourceLabel(q.within.type)] = q.within.name;
  const direction = outbound ? 'outbound' : 'inbound';
  return { matchers: { ...m, direction }, nameLabel, nsLabel, direction, peer: outbound ? 'dst' : 'src' };
}

const withoutDirection = (m: Matchers): Matchers =>
  Object.fromEntries(Object.entries(m).filter(([k]) => k !== 'direction'));

const nonEmpty = (s: Series, label: string) => (s.labels[label] ?? '') !== '';

export async function statSummary(vectors: WindowVectors, q: StatQuery): Promise<StatRow[]> {
  const plan = planOf(q);
  const by = plan.nsLabel ? [plan.nameLabel, plan.nsLabel] : [plan.nameLabel];
  const tcpMatchers = { ...plan.matchers, peer: plan.peer };
  const [responses, p50, p95, p99, conns, read, write, pods] = await Promise.all([
    vectors.increase(ProxyMetric.ResponseTotal, plan.matchers, [...by, 'classification', 'tls']),
    vectors.quantile(0.5, ProxyMetric.ResponseLatencyMs, plan.matchers, by),
    vectors.quantile(0.95, ProxyMetric.ResponseLatencyMs, plan.matchers, by),
    vectors.quantile(0.99, ProxyMetric.ResponseLatencyMs, plan.matchers, by),
    vectors.gauge(ProxyMetric.TcpOpenConnections, tcpMatchers, by),
    vectors.increase(ProxyMetric.TcpReadBytesTotal, tcpMatchers, by),
    vectors.increase(ProxyMetric.TcpWriteBytesTotal, tcpMatchers, by),
    // Pods are counted on the side whose proxies report (the source side for outbound reads).
    plan.direction === 'inbound'
      ? vectors.countPods('process_start_time_seconds', withoutDirection(plan.matchers), by)
      : Promise.resolve([]),
  ]);
  const rows = new Map<string, { labels: Record<string, string>; ok: number; total: number; tls: number }>();
  for (const s of responses) {
    if (!nonEmpty(s, plan.nameLabel)) continue;
    const key = groupKey(s.labels, by);
    const row = rows.get(key) ?? { labels: s.labels, ok: 0, total: 0, tls: 0 };
    row.total += s.value;
    if (s.labels.classification === 'success') row.ok += s.value;
    if (s.labels.tls === 'true') row.tls += s.value;
    rows.set(key, row);
  }
  const index = (v: Series[]) => new Map(v.map((s) => [groupKey(s.labels, by), s.value]));
  const [i50, i95, i99, iConn, iRead, iWrite, iPods] = [p50, p95, p99, conns, read, write, pods].map(
    index,
  ) as [
    Map<string, number>,
    Map<string, number>,
    Map<string, number>,
    Map<string, number>,
    Map<string, number>,
    Map<string, number>,
    Map<string, number>,
  ];
  // Rows for resources with only TCP traffic or only a running proxy, too.
  for (const s of [...conns, ...pods])
    if (nonEmpty(s, plan.nameLabel) && !rows.has(groupKey(s.labels, by)))
      rows.set(groupKey(s.labels, by), { labels: s.labels, ok: 0, total: 0, tls: 0 });
  const w = vectors.windowSeconds;
  const finite = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? undefined : x);
  return [...rows.entries()]
    .map(([key, r]): StatRow => ({
      namespace: plan.nsLabel
        ? (r.labels[plan.nsLabel] ?? '')
        : r.labels[plan.nameLabel] && q.resource.type === 'namespace'
          ? r.labels[plan.nameLabel]!
          : '',
      type: q.resource.type,
      name: r.labels[plan.nameLabel] ?? '',
      meshedPods: iPods.get(key) ?? 0,
      requests: r.total,
      successes: r.ok,
      successRate: r.total > 0 ? r.ok / r.total : undefined,
      rps: r.total / w,
      latencyMsP50: finite(i50.get(key)),
      latencyMsP95: finite(i95.get(key)),
      latencyMsP99: finite(i99.get(key)),
      tlsShare: r.total > 0 ? r.tls / r.total : undefined,
      tcpConnections: iConn.get(key) ?? 0,
      tcpReadBytesPerSec: (iRead.get(key) ?? 0) / w,
      tcpWriteBytesPerSec: (iWrite.get(key) ?? 0) / w,
    }))
    .sort((a, b) => (a.namespace + '/' + a.name).localeCompare(b.namespace + '/' + b.name));
}
