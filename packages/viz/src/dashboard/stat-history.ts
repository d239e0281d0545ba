// The time series the dashboard's charts draw: after every refresh, one point per workload
// (deployment) with its success rate, requests a second and latency percentiles over the window
// ending then. Bounded: at most `maxPoints` points per workload, workloads not seen for that many
// refreshes are forgotten.
import type { StatRow } from '../metrics-api/stat-summary.js';

export interface SeriesPoint {
  readonly atMs: number;
  readonly successRate: number | null;
  readonly rps: number;
  readonly latencyMsP50: number | null;
  readonly latencyMsP95: number | null;
  readonly latencyMsP99: number | null;
}

export interface StatHistory {
  record(atMs: number, rows: readonly StatRow[]): void;
  series(namespace: string, name: string): readonly SeriesPoint[];
}

export function createStatHistory(maxPoints = 180): StatHistory {
  const byKey = new Map<string, { points: SeriesPoint[]; lastSeenMs: number }>();
  const times: number[] = [];
  const key = (namespace: string, name: string) => `${namespace}/${name}`;
  return {
    record(atMs, rows) {
      times.push(atMs);
      if (times.length > maxPoints) times.shift();
      for (const r of rows) {
        const entry = byKey.get(key(r.namespace, r.name)) ?? { points: [], lastSeenMs: atMs };
        entry.lastSeenMs = atMs;
        entry.points.push({
          atMs,
          successRate: r.successRate ?? null,
          rps: r.rps,
          latencyMsP50: r.latencyMsP50 ?? null,
          latencyMsP95: r.latencyMsP95 ?? null,
          latencyMsP99: r.latencyMsP99 ?? null,
        });
        if (entry.points.length > maxPoints) entry.points.shift();
        byKey.set(key(r.namespace, r.name), entry);
      }
      const oldest = times[0] ?? atMs;
      for (const [k, e] of byKey) if (e.lastSeenMs < oldest) byKey.delete(k);
    },
    series: (namespace, name) => byKey.get(key(namespace, name))?.points ?? [],
  };
}
