// `viz top`: tap events folded into a table of the most requested paths — one row per (source,
// destination, method, path), with the count, best/worst/last latency and success rate, sorted by
// count, as `linkerd viz top` shows it. A request counts when its response ends; success is a
// status below 500 and, for gRPC, a status other than Unknown, DeadlineExceeded, Internal,
// Unavailable or DataLoss; a reset is a failure.
import type { TapEventJson } from './tap-event-json.js';

export interface TopRow {
  readonly source: string;
  readonly destination: string;
  readonly method: string;
  readonly path: string;
  count: number;
  /** Latencies (request start to response end) in ms. */
  best: number;
  worst: number;
  last: number;
  successes: number;
  failures: number;
}

export interface TopTable {
  insert(event: TapEventJson): void;
  /** Rows by count, most requested first. */
  rows(): readonly TopRow[];
}

const FAILING_GRPC = new Set([2, 4, 13, 14, 15]);

export function createTopTable(options: { maxOpen?: number } = {}): TopTable {
  const maxOpen = options.maxOpen ?? 10_000;
  const open = new Map<string, { event: TapEventJson; status?: number }>();
  const rows = new Map<string, TopRow>();
  const streamKey = (e: TapEventJson, id: { base: number; stream: number }) =>
    `${e.source.ip}:${e.source.port}>${e.destination.ip}:${e.destination.port}#${id.base}:${id.stream}`;
  const name = (e: TapEventJson['source']) => e.metadata.pod || e.ip;
  return {
    insert(e) {
      if (e.requestInitEvent) {
        if (open.size >= maxOpen) open.delete(open.keys().next().value as string);
        open.set(streamKey(e, e.requestInitEvent.id), { event: e });
      } else if (e.responseInitEvent) {
        const o = open.get(streamKey(e, e.responseInitEvent.id));
        if (o) o.status = e.responseInitEvent.httpStatus;
      } else if (e.responseEndEvent) {
        const end = e.responseEndEvent;
        const key = streamKey(e, end.id);
        const o = open.get(key);
        if (!o?.event.requestInitEvent) return;
        open.delete(key);
        const req = o.event.requestInitEvent;
        const latencyMs = end.sinceRequestInit.seconds * 1000 + end.sinceRequestInit.nanos / 1e6;
        const ok =
          (o.status ?? 0) < 500 &&
          end.resetErrorCode === undefined &&
          !(end.grpcStatusCode !== undefined && FAILING_GRPC.has(end.grpcStatusCode));
        const source = name(o.event.source);
        const destination = name(o.event.destination);
        const rowKey = JSON.stringify([source, destination, req.method, req.path]);
        let row = rows.get(rowKey);
        if (!row) {
          row = {
            source,
            destination,
            method: req.method,
            path: req.path,
            count: 0,
            best: latencyMs,
            worst: latencyMs,
            last: latencyMs,
            successes: 0,
            failures: 0,
          };
          rows.set(rowKey, row);
        }
        row.count++;
        row.best = Math.min(row.best, latencyMs);
        row.worst = Math.max(row.worst, latencyMs);
        row.last = latencyMs;
        if (ok) row.successes++;
        else row.failures++;
      }
    },
    rows() {
      return [...rows.values()].sort((a, b) => b.count - a.count);
    },
  };
}

/** A latency as Go's time.Duration rounds it in `linkerd viz top` (µs below 1 ms, ms below 1 s). */
export function formatTopLatency(ms: number): string {
  if (ms < 1) return `${Math.round(ms * 1000)}µs`;
  if (ms < 1000) return `${Math.round(ms)}ms`;
  return `${Math.round(ms / 1000)}s`;
}

const pct = (r: TopRow) => `${((100 * r.successes) / Math.max(1, r.successes + r.failures)).toFixed(2)}%`;

/** The table `viz top` draws (columns as Linkerd's; `hideSources` drops the Source column). */
export function formatTopTable(rows: readonly TopRow[], options: { hideSources?: boolean } = {}): string {
  const header = [
    'Source',
    'Destination',
    'Method',
    'Path',
    'Count',
    'Best',
    'Worst',
    'Last',
    'Success Rate',
  ];
  const right = new Set([4, 5, 6, 7, 8]);
  const cells = rows.map((r) => [
    r.source,
    r.destination,
    r.method,
    r.path,
    String(r.count),
    formatTopLatency(r.best),
    formatTopLatency(r.worst),
    formatTopLatency(r.last),
    pct(r),
  ]);
  const keep = header.map((_, i) => !(options.hideSources && i === 0));
  const all = [header, ...cells];
  const widths = header.map((_, i) => Math.max(...all.map((row) => [...(row[i] ?? '')].length)));
  return all
    .map((row) =>
      row
        .map((c, i) =>
          keep[i] ? (right.has(i) ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)) : undefined,
        )
        .filter((c) => c !== undefined)
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** Rows as the HTTP API's `top` messages carry them. */
export function topRowsJson(rows: readonly TopRow[]) {
  return rows.map((r) => ({
    source: r.source,
    destination: r.destination,
    method: r.method,
    path: r.path,
    count: r.count,
    best: r.best,
    worst: r.worst,
    last: r.last,
    successRate: r.successes / Math.max(1, r.successes + r.failures),
  }));
}
