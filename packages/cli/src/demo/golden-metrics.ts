// Golden metrics per workload and direction from the proxies' Linkerd metrics: success rate
// (response_total by classification), requests a second, p50/p95/p99 latency
// (response_latency_ms buckets) and the share of requests on mutual TLS (request_total's tls
// label), over a sliding window of scrapes.
import type { Sample } from './prometheus-text.js';

export type Direction = 'inbound' | 'outbound';

export interface Totals {
  readonly success: number;
  readonly failure: number;
  readonly requests: number;
  /** Requests on mutual TLS; -1 when the metrics do not say. */
  readonly tlsRequests: number;
  /** Cumulative bucket counts by upper bound (ms), Infinity last. */
  readonly buckets: ReadonlyMap<number, number>;
}

export interface Golden {
  readonly requests: number;
  readonly successRate: number | undefined;
  readonly rps: number;
  readonly p50: number | undefined;
  readonly p95: number | undefined;
  readonly p99: number | undefined;
  /** Share of requests on mutual TLS, 0..1 (undefined: no requests). */
  readonly tlsShare: number | undefined;
}

const ROUTE_STATUSES = /^outbound_(http|grpc)_route_request_statuses_total$/;
const ROUTE_DURATION = /^outbound_(http|grpc)_route_request_duration_seconds_bucket$/;

export function totalsOf(samples: readonly Sample[], direction: Direction): Totals {
  let success = 0;
  let failure = 0;
  let requests = 0;
  let tlsRequests = 0;
  const buckets = new Map<number, number>();
  const routes = { success: 0, failure: 0, buckets: new Map<number, number>() };
  for (const s of samples) {
    if (direction === 'outbound' && ROUTE_STATUSES.test(s.name)) {
      // Linkerd's route-level outbound families (the discovery-driven outbound stack).
      const grpc = s.name.startsWith('outbound_grpc');
      const failed =
        (s.labels.error ?? '') !== '' ||
        (grpc ? s.labels.grpc_status !== '0' : Number(s.labels.http_status ?? 0) >= 500);
      if (failed) routes.failure += s.value;
      else routes.success += s.value;
      continue;
    }
    if (direction === 'outbound' && ROUTE_DURATION.test(s.name)) {
      const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le) * 1000;
      routes.buckets.set(le, (routes.buckets.get(le) ?? 0) + s.value);
      continue;
    }
    if (s.labels.direction !== direction) continue;
    if (s.name === 'response_total') {
      if (s.labels.classification === 'success') success += s.value;
      else if (s.labels.classification === 'failure') failure += s.value;
    } else if (s.name === 'request_total') {
      requests += s.value;
      if (s.labels.tls === 'true') tlsRequests += s.value;
    } else if (s.name === 'response_latency_ms_bucket') {
      const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
      buckets.set(le, (buckets.get(le) ?? 0) + s.value);
    }
  }
  if (success + failure === 0 && routes.success + routes.failure > 0) {
    // Route families carry no TLS label: the share stays unknown (tlsRequests -1).
    return {
      success: routes.success,
      failure: routes.failure,
      requests: routes.success + routes.failure,
      tlsRequests: -1,
      buckets: routes.buckets,
    };
  }
  return { success, failure, requests, tlsRequests, buckets };
}

/** The q-quantile (0..1) of a cumulative histogram, interpolated within its bucket. */
export function histogramQuantile(q: number, buckets: ReadonlyMap<number, number>): number | undefined {
  const sorted = [...buckets].sort(([a], [b]) => a - b);
  const total = sorted.at(-1)?.[1] ?? 0;
  if (total <= 0) return undefined;
  const rank = q * total;
  let prevBound = 0;
  let prevCount = 0;
  for (const [bound, count] of sorted) {
    if (count >= rank) {
      if (bound === Infinity) return prevBound;
      const inBucket = count - prevCount;
      return inBucket <= 0 ? bound : prevBound + ((bound - prevBound) * (rank - prevCount)) / inBucket;
    }
    prevBound = bound;
    prevCount = count;
  }
  return prevBound;
}

const minus = (a: Totals, b: Totals | undefined): Totals =>
  b === undefined
    ? a
    : {
        success: a.success - b.success,
        failure: a.failure - b.failure,
        requests: a.requests - b.requests,
        tlsRequests: a.tlsRequests < 0 || b.tlsRequests < 0 ? -1 : a.tlsRequests - b.tlsRequests,
        buckets: new Map([...a.buckets].map(([le, n]) => [le, n - (b.buckets.get(le) ?? 0)])),
      };

export function goldenOf(window: Totals, seconds: number): Golden {
  const responses = window.success + window.failure;
  return {
    requests: window.requests,
    successRate: responses > 0 ? window.success / responses : undefined,
    rps: seconds > 0 ? responses / seconds : 0,
    p50: histogramQuantile(0.5, window.buckets),
    p95: histogramQuantile(0.95, window.buckets),
    p99: histogramQuantile(0.99, window.buckets),
    tlsShare:
      window.requests > 0 && window.tlsRequests >= 0 ? window.tlsRequests / window.requests : undefined,
  };
}

/** Scrapes of one proxy over time; golden metrics over the last `windowMs`. */
export class GoldenWindow {
  readonly #history: { atMs: number; inbound: Totals; outbound: Totals }[] = [];
  constructor(readonly windowMs = 10_000) {}

  add(atMs: number, samples: readonly Sample[]): void {
    this.#history.push({
      atMs,
      inbound: totalsOf(samples, 'inbound'),
      outbound: totalsOf(samples, 'outbound'),
    });
    while (this.#history.length > 2 && this.#history[1]!.atMs <= atMs - this.windowMs) this.#history.shift();
  }

  current(direction: Direction): Golden | undefined {
    const last = this.#history.at(-1);
    if (!last) return undefined;
    const first = this.#history.length > 1 ? this.#history[0] : undefined;
    const seconds = first ? (last.atMs - first.atMs) / 1000 : 0;
    return goldenOf(minus(last[direction], first?.[direction]), seconds);
  }

  /** Everything since the proxy started; requests a second over `seconds`. */
  cumulative(direction: Direction, seconds: number): Golden | undefined {
    const last = this.#history.at(-1);
    return last ? goldenOf(last[direction], seconds) : undefined;
  }
}
