// Terminal tables in linkerd viz's columns: `stat` (NAME MESHED SUCCESS RPS LATENCY_P50
// LATENCY_P95 LATENCY_P99 TCP_CONN, + READ_BYTES/SEC WRITE_BYTES/SEC with -o wide, NAMESPACE
// first across namespaces), `edges` (SRC DST SRC_NS DST_NS SECURED, identities with -o wide) and
// `routes`. Values as Linkerd prints them: 100.00%, 1.5rps, 12ms, `-` for no traffic. Columns are
// padded to their widest cell with three spaces between, so the table fits a terminal.
import type { AuthzRow } from '../dashboard/index.js';
import type { Edge, StatRow } from '../metrics-api/index.js';

export type Cell = string;

export function formatTable(
  header: readonly string[],
  rows: readonly (readonly Cell[])[],
  /** How many leading columns are text (left-aligned); the rest are numbers. */
  leftColumns = 1,
): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  // Text left-aligned, numbers right-aligned.
  const line = (cells: readonly Cell[]) =>
    cells
      .map((c, i) => (i < leftColumns ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('   ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

const percent = (x: number | undefined) => (x === undefined ? '-' : `${(x * 100).toFixed(2)}%`);
const rps = (r: StatRow) => (r.requests > 0 ? `${r.rps.toFixed(1)}rps` : '-');
const ms = (x: number | undefined) => (x === undefined ? '-' : `${Math.round(x)}ms`);
const bytes = (x: number) => `${x.toFixed(1)}B/s`;
const meshed = (r: StatRow) =>
  r.type === 'authority' || r.type === 'service' || r.type === 'route'
    ? '-'
    : `${r.meshedPods}/${r.totalPods ?? r.meshedPods}`;

export interface StatTableOptions {
  readonly wide?: boolean;
  readonly allNamespaces?: boolean;
}

export function formatStatTable(rows: readonly StatRow[], options: StatTableOptions = {}): string {
  if (rows.length === 0) return 'No traffic found.';
  const header = [
    ...(options.allNamespaces ? ['NAMESPACE'] : []),
    'NAME',
    'MESHED',
    'SUCCESS',
    'RPS',
    'LATENCY_P50',
    'LATENCY_P95',
    'LATENCY_P99',
    'TCP_CONN',
    ...(options.wide ? ['READ_BYTES/SEC', 'WRITE_BYTES/SEC'] : []),
  ];
  const cells = rows.map((r) => [
    ...(options.allNamespaces ? [r.namespace] : []),
    r.name,
    meshed(r),
    percent(r.successRate),
    rps(r),
    ms(r.latencyMsP50),
    ms(r.latencyMsP95),
    ms(r.latencyMsP99),
    String(Math.round(r.tcpConnections)),
    ...(options.wide ? [bytes(r.tcpReadBytesPerSec), bytes(r.tcpWriteBytesPerSec)] : []),
  ]);
  if (options.allNamespaces) {
    // NAMESPACE is the left-aligned first column; NAME follows it left-aligned too.
    const widths = [header[0]!, ...cells.map((c) => c[0]!)].reduce((w, c) => Math.max(w, c.length), 0);
    return formatTable(
      [`${header[0]!.padEnd(widths)}   ${header[1]!}`, ...header.slice(2)],
      cells.map((c) => [`${c[0]!.padEnd(widths)}   ${c[1]!}`, ...c.slice(2)]),
    );
  }
  return formatTable(header, cells);
}

export function formatRoutesTable(rows: readonly StatRow[]): string {
  if (rows.length === 0) return 'No traffic found.';
  return formatTable(
    ['ROUTE', 'SUCCESS', 'RPS', 'LATENCY_P50', 'LATENCY_P95', 'LATENCY_P99'],
    rows.map((r) => [
      r.name,
      percent(r.successRate),
      rps(r),
      ms(r.latencyMsP50),
      ms(r.latencyMsP95),
      ms(r.latencyMsP99),
    ]),
  );
}

export function formatEdgesTable(edges: readonly Edge[], options: { wide?: boolean } = {}): string {
  if (edges.length === 0) return 'No edges found.';
  const secured = (e: Edge) => (e.secured ? '√' : `× (${e.noTlsReason || 'not mTLS'})`);
  return formatTable(
    ['SRC', 'DST', 'SRC_NS', 'DST_NS', ...(options.wide ? ['CLIENT_ID', 'SERVER_ID'] : []), 'SECURED'],
    edges.map((e) => [
      e.src.name,
      e.dst.name,
      e.src.namespace,
      e.dst.namespace,
      ...(options.wide ? [e.clientId || '-', e.serverId || '-'] : []),
      secured(e),
    ]),
    Infinity,
  );
}

/**
 * `viz authz`: ROUTE SERVER AUTHORIZATION UNAUTHORIZED SUCCESS RPS LATENCY_P50 LATENCY_P95
 * LATENCY_P99 — the decisions per route (`authzSummary`), with the success rate and latency of
 * each route's allowed requests from its inbound route stats.
 */
export function formatAuthzTable(rows: readonly AuthzRow[], routeStats: readonly StatRow[] = []): string {
  const header = [
    'ROUTE',
    'SERVER',
    'AUTHORIZATION',
    'UNAUTHORIZED',
    'SUCCESS',
    'RPS',
    'LATENCY_P50',
    'LATENCY_P95',
    'LATENCY_P99',
  ];
  const stats = new Map(routeStats.map((r) => [r.name, r]));
  return formatTable(
    header,
    rows.map((r) => {
      const s = r.authorization ? stats.get(r.route) : undefined;
      return [
        r.route || '-',
        r.server.replace(':', '/') || '-',
        r.authorization.replace(':', '/') || '-',
        `${r.deniedPerSec.toFixed(1)}rps`,
        percent(s?.successRate),
        `${r.allowedPerSec.toFixed(1)}rps`,
        ms(s?.latencyMsP50),
        ms(s?.latencyMsP95),
        ms(s?.latencyMsP99),
      ];
    }),
    3,
  );
}
