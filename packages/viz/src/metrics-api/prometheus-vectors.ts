// WindowVectors over a Prometheus server's HTTP API (/api/v1/query), with the query text shaped
// as linkerd-viz's metrics-api writes it (viz/metrics-api/prometheus.go and stat_summary.go):
// `sum(increase(response_total{…}[30s])) by (…)`, `histogram_quantile(0.95, sum(irate(
// response_latency_ms_bucket{…}[30s])) by (le, …))`, `sum(tcp_open_connections{…}) by (…)`.
import { MeshError, MeshErrorCode } from '@tsmesh/core';
import type { Matchers, Series, WindowVectors } from './window-vectors.js';

export interface PrometheusVectorsOptions {
  /** e.g. http://127.0.0.1:9090 */
  readonly url: string;
  readonly windowSeconds: number;
  /** Evaluation time (default: now). */
  readonly atMs?: number;
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  /** Called with every query sent (for -v / tests). */
  readonly onQuery?: (promql: string) => void;
}

const escapeValue = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

export function formatSelector(metric: string, m: Matchers): string {
  const parts = Object.entries(m).map(([k, v]) => `${k}="${escapeValue(v)}"`);
  return `${metric}{${parts.join(', ')}}`;
}

const by = (labels: readonly string[]) => `by (${labels.join(', ')})`;
const range = (s: number) => `[${Math.max(1, Math.round(s))}s]`;

export const promql = {
  increase: (metric: string, m: Matchers, labels: readonly string[], w: number) =>
    `sum(increase(${formatSelector(metric, m)}${range(w)})) ${by(labels)}`,
  gauge: (metric: string, m: Matchers, labels: readonly string[]) =>
    `sum(${formatSelector(metric, m)}) ${by(labels)}`,
  quantile: (q: number, metric: string, m: Matchers, labels: readonly string[], w: number) =>
    `histogram_quantile(${q}, sum(irate(${formatSelector(`${metric}_bucket`, m)}${range(w)})) ${by(['le', ...labels])})`,
  countPods: (metric: string, m: Matchers, labels: readonly string[]) =>
    `count(max(${formatSelector(metric, m)}) ${by(['pod', ...labels.filter((l) => l !== 'pod')])}) ${by(labels)}`,
};

interface QueryResponse {
  status: string;
  error?: string;
  data?: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
}

/** One instant query; the vector it answers. */
export async function queryPrometheus(
  url: string,
  query: string,
  options: { atMs?: number; timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<Series[]> {
  const target = new URL('/api/v1/query', url);
  target.searchParams.set('query', query);
  if (options.atMs !== undefined) target.searchParams.set('time', String(options.atMs / 1000));
  const signals = [
    AbortSignal.timeout(options.timeoutMs ?? 10_000),
    ...(options.signal ? [options.signal] : []),
  ];
  let body: QueryResponse;
  try {
    const res = await fetch(target, { signal: AbortSignal.any(signals) });
    body = (await res.json()) as QueryResponse;
  } catch (cause) {
    throw new MeshError(
      MeshErrorCode.Unavailable,
      `Prometheus at ${url} did not answer: ${(cause as Error).message}`,
      {
        cause,
        where: '--prometheus-url',
        hint: 'check that Prometheus runs and the URL is right (e.g. http://127.0.0.1:9090)',
      },
    );
  }
  if (body.status !== 'success' || body.data?.resultType !== 'vector')
    throw new MeshError(
      MeshErrorCode.FailedPrecondition,
      `Prometheus refused the query ${query}: ${body.error ?? body.status}`,
      {
        where: url,
      },
    );
  return body.data.result.map((r) => ({ labels: r.metric, value: Number(r.value[1]) }));
}

export function createPrometheusVectors(options: PrometheusVectorsOptions): WindowVectors {
  const w = options.windowSeconds;
  const run = (q: string) => {
    options.onQuery?.(q);
    return queryPrometheus(options.url, q, options);
  };
  return {
    windowSeconds: w,
    increase: (metric, m, labels) => run(promql.increase(metric, m, labels, w)),
    gauge: (metric, m, labels) => run(promql.gauge(metric, m, labels)),
    quantile: (q, metric, m, labels) => run(promql.quantile(q, metric, m, labels, w)),
    countPods: (metric, m, labels) => run(promql.countPods(metric, m, labels)),
  };
}
