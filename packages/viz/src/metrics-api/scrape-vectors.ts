// WindowVectors without Prometheus (local mode): two scrapes of every proxy's /metrics a window
// apart, each series labelled with its target's labels (namespace, pod, deployment, … — what
// Prometheus' relabelling adds; a scraped label of the same name is kept as exported_<name>, as
// Prometheus does without honor_labels). Increases are the difference of the two scrapes (a
// counter that went down restarted: its new value is the increase), rates are per second of the
// time between the scrapes, quantiles use the same histogram_quantile over the bucket increases.
import { MeshError, MeshErrorCode } from '@tsmesh/core';
import { parsePrometheusText, type Sample } from '../prometheus-text/index.js';
import { histogramQuantile } from './histogram-quantile.js';
import { groupKey, matches, type Matchers, type Series, type WindowVectors } from './window-vectors.js';

export interface ScrapeTarget {
  /** The /metrics URL, e.g. http://127.0.1.3:4191/metrics */
  readonly url: string;
  /** Target labels added to every series (namespace, pod, deployment, …). */
  readonly labels: Readonly<Record<string, string>>;
}

export interface Snapshot {
  readonly atMs: number;
  readonly samples: readonly Sample[];
  /** Targets that could not be scraped, with why. */
  readonly failures: readonly { url: string; error: string }[];
}

export async function scrapeTargets(
  targets: readonly ScrapeTarget[],
  options: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<Snapshot> {
  const failures: { url: string; error: string }[] = [];
  const atMs = Date.now();
  const parts = await Promise.all(
    targets.map(async (t) => {
      try {
        const signals = [
          AbortSignal.timeout(options.timeoutMs ?? 5_000),
          ...(options.signal ? [options.signal] : []),
        ];
        const res = await fetch(t.url, { signal: AbortSignal.any(signals) });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        return withTargetLabels(parsePrometheusText(await res.text()), t.labels);
      } catch (e) {
        failures.push({ url: t.url, error: (e as Error).message });
        return [];
      }
    }),
  );
  return { atMs, samples: parts.flat(), failures };
}

export function withTargetLabels(
  samples: readonly Sample[],
  target: Readonly<Record<string, string>>,
): Sample[] {
  return samples.map((s) => {
    const labels: Record<string, string> = {};
    for (const [k, v] of Object.entries(s.labels)) labels[k in target ? `exported_${k}` : k] = v;
    return { name: s.name, labels: { ...labels, ...target }, value: s.value };
  });
}

const seriesKey = (s: Sample) =>
  `${s.name}${JSON.stringify(Object.entries(s.labels).sort(([a], [b]) => (a < b ? -1 : 1)))}`;

/** Per series: its increase between two snapshots (a counter reset counts from zero). */
function increases(before: Snapshot, after: Snapshot, name: string, m: Matchers): Sample[] {
  const old = new Map(before.samples.filter((s) => s.name === name).map((s) => [seriesKey(s), s.value]));
  return after.samples
    .filter((s) => s.name === name && matches(s.labels, m))
    .map((s) => {
      const prev = old.get(seriesKey(s)) ?? 0;
      return { ...s, value: s.value >= prev ? s.value - prev : s.value };
    });
}

function sumBy(samples: readonly Sample[], by: readonly string[]): Map<string, Series> {
  const out = new Map<string, Series>();
  for (const s of samples) {
    const key = groupKey(s.labels, by);
    const prev = out.get(key);
    const labels =
      prev?.labels ?? Object.fromEntries(by.filter((k) => s.labels[k]).map((k) => [k, s.labels[k]!]));
    out.set(key, { labels, value: (prev?.value ?? 0) + s.value });
  }
  return out;
}

export function createScrapeVectors(before: Snapshot, after: Snapshot): WindowVectors {
  const seconds = (after.atMs - before.atMs) / 1000;
  if (!(seconds > 0))
    throw new MeshError(MeshErrorCode.InvalidArgument, 'the second scrape must come after the first', {
      where: 'scrape window',
    });
  return {
    windowSeconds: seconds,
    increase: async (metric, m, by) => [...sumBy(increases(before, after, metric, m), by).values()],
    gauge: async (metric, m, by) => [
      ...sumBy(
        after.samples.filter((s) => s.name === metric && matches(s.labels, m)),
        by,
      ).values(),
    ],
    quantile: async (q, metric, m, by) => {
      const groups = new Map<string, { labels: Record<string, string>; buckets: Map<number, number> }>();
      for (const s of increases(before, after, `${metric}_bucket`, m)) {
        const key = groupKey(s.labels, by);
        let g = groups.get(key);
        if (!g) {
          g = {
            labels: Object.fromEntries(by.filter((k) => s.labels[k]).map((k) => [k, s.labels[k]!])),
            buckets: new Map(),
          };
          groups.set(key, g);
        }
        const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
        g.buckets.set(le, (g.buckets.get(le) ?? 0) + s.value);
      }
      return [...groups.values()].map((g) => ({ labels: g.labels, value: histogramQuantile(q, g.buckets) }));
    },
    countPods: async (metric, m, by) => {
      const pods = sumBy(
        after.samples.filter((s) => s.name === metric && matches(s.labels, m)),
        ['pod', ...by.filter((l) => l !== 'pod')],
      );
      return [
        ...sumBy(
          [...pods.values()].map((p) => ({ name: metric, labels: p.labels, value: 1 })),
          by,
        ).values(),
      ];
    },
  };
}
