// The few PromQL shapes Linkerd's metrics-api asks, as an interface two backends implement: a
// Prometheus server (the queries as text) and direct scraping of proxies' /metrics (the same
// arithmetic done here). Stat summaries and edges are computed once on top of it.

/** Equality matchers; an empty string value matches a missing label, as in PromQL. */
export type Matchers = Readonly<Record<string, string>>;

export interface Series {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface WindowVectors {
  /** The window, in seconds, the rates are over. */
  readonly windowSeconds: number;
  /** `sum(increase(metric{m}[W])) by (by…)` */
  increase(metric: string, matchers: Matchers, by: readonly string[]): Promise<Series[]>;
  /** `sum(gauge{m}) by (by…)` at the end of the window. */
  gauge(metric: string, matchers: Matchers, by: readonly string[]): Promise<Series[]>;
  /** `histogram_quantile(q, sum(irate(metric_bucket{m}[W])) by (le, by…))` */
  quantile(q: number, metric: string, matchers: Matchers, by: readonly string[]): Promise<Series[]>;
  /** `count(max(metric{m}) by (pod, by…)) by (by…)`: pods reporting the metric. */
  countPods(metric: string, matchers: Matchers, by: readonly string[]): Promise<Series[]>;
}

/** A stable key of the `by` labels of a series. */
export const groupKey = (labels: Readonly<Record<string, string>>, by: readonly string[]): string =>
  JSON.stringify(by.map((k) => labels[k] ?? ''));

export const matches = (labels: Readonly<Record<string, string>>, m: Matchers): boolean =>
  Object.entries(m).every(([k, v]) => (labels[k] ?? '') === v);
