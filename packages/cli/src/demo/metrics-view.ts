// The demo's terminal view of golden metrics per workload: a table redrawn in place on a
// terminal, plain lines otherwise (logs, CI, tests).
import type { Direction, Golden } from './golden-metrics.js';

export interface ViewRow {
  readonly workload: string;
  readonly direction: Direction;
  readonly golden: Golden | undefined;
}

const pct = (v: number | undefined) => (v === undefined ? '-' : `${(v * 100).toFixed(1)}%`);
const ms = (v: number | undefined) =>
  v === undefined ? '-' : v < 10 ? `${v.toFixed(1)}ms` : `${Math.round(v)}ms`;

function cells(row: ViewRow): string[] {
  const g = row.golden;
  return [
    row.workload,
    row.direction,
    pct(g?.successRate),
    g ? g.rps.toFixed(1) : '-',
    ms(g?.p50),
    ms(g?.p95),
    ms(g?.p99),
    g?.tlsShare === undefined ? '-' : pct(g.tlsShare),
  ];
}

const HEADER = ['WORKLOAD', 'DIRECTION', 'SUCCESS', 'RPS', 'P50', 'P95', 'P99', 'MTLS'];

export function formatTable(rows: readonly ViewRow[]): string[] {
  const table = [HEADER, ...rows.map(cells)];
  const widths = HEADER.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
  return table.map((r) =>
    r
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd(),
  );
}

/** One plain line per row: `[12s] web inbound success=90.0% rps=3.8 …`. */
export function formatLines(elapsedS: number, rows: readonly ViewRow[]): string[] {
  return rows.map((row) => {
    const [w, d, sr, rps, p50, p95, p99, tls] = cells(row);
    return `[${elapsedS}s] ${w} ${d} success=${sr} rps=${rps} p50=${p50} p95=${p95} p99=${p99} mtls=${tls}`;
  });
}

/** Redraws a block of lines in place on a terminal. */
export function createRedrawer(write: (text: string) => void) {
  let previous = 0;
  return (lines: readonly string[]) => {
    const up = previous > 0 ? `\x1b[${previous}A\x1b[J` : '';
    write(`${up}${lines.join('\n')}\n`);
    previous = lines.length;
  };
}
