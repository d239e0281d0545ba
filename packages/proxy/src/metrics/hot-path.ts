// Metrics on the per-request path without per-request label hashing. prom-client hashes and
// validates a label object on every inc()/observe(); here each label set is resolved once (by
// the labels object, which the proxies build once per connection or target, or else by its
// values) to a small record that a request only adds to. Counters are flushed into their
// prom-client Counter when the registry collects; the latency histogram is a registry metric of
// its own that prints exactly what a prom-client Histogram prints.
import type { Counter, Registry } from 'prom-client';

type Labels = Record<string, string>;

/** Only the string-valued labels (undefined ones are left out, as prom-client does). */
export function cleanLabels(labels: object): Labels {
  const out: Labels = {};
  for (const [k, v] of Object.entries(labels)) if (typeof v === 'string') out[k] = v;
  return out;
}

/** A label set's values as one string key (labels without a string value left out, as above). */
export function labelSetKey(labels: object): string {
  let key = '';
  for (const k in labels) {
    const v = (labels as Record<string, unknown>)[k];
    if (typeof v === 'string') key += `${k}\u0001${v}\u0002`;
  }
  return key;
}

/**
 * Per-label-set state. Found first by the labels object itself; a labels object made per request
 * falls back to a key of its values (cheaper than prom-client's hashing, and stored once).
 */
export class LabelSetCache<V> {
  private readonly byObject = new WeakMap<object, V>();
  private readonly byValues = new Map<string, V>();

  constructor(private readonly make: (labels: Labels) => V) {}

  get(labels: object): V {
    let v = this.byObject.get(labels);
    if (v !== undefined) return v;
    const clean = cleanLabels(labels);
    const key = labelSetKey(clean);
    v = this.byValues.get(key);
    if (v === undefined) {
      v = this.make(clean);
      this.byValues.set(key, v);
    }
    this.byObject.set(labels, v);
    return v;
  }
}

/** A counter child whose increments reach prom-client when the registry collects. */
export interface PendingCount {
  readonly labels: Labels;
  pending: number;
}

/** Counts added on the hot path, flushed into a prom-client Counter by its collect(). */
export class BatchedCounter {
  private readonly counts: PendingCount[] = [];
  private counter: Counter<string> | undefined;

  /** Wires the Counter (created with `collect: () => batched.flush()`). */
  attach(counter: Counter<string>): void {
    this.counter = counter;
  }

  child(labels: Labels): PendingCount {
    const c: PendingCount = { labels, pending: 0 };
    this.counts.push(c);
    return c;
  }

  flush(): void {
    const counter = this.counter;
    if (!counter) return;
    for (const c of this.counts) {
      if (c.pending === 0) continue;
      counter.inc(c.labels, c.pending);
      c.pending = 0;
    }
  }
}

/** One label set of a FastHistogram. */
export interface HistogramChild {
  observe(value: number): void;
}

interface HistogramState extends HistogramChild {
  readonly labels: Labels;
  readonly buckets: number[];
  sum: number;
  count: number;
}

interface MetricValue {
  labels: Record<string, string | number>;
  value: number;
  metricName: string;
}

/**
 * A histogram registered on a prom-client Registry (registerMetric), with children resolved once
 * per label set. Its exposition is a prom-client Histogram's: cumulative `_bucket` lines with
 * `le` (then `+Inf`), `_sum`, `_count`.
 */
export class FastHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly states: HistogramState[] = [];

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly upperBounds: readonly number[],
    registers: readonly Registry[],
  ) {
    for (const r of registers) r.registerMetric(this as never);
  }

  child(labels: Labels): HistogramChild {
    const bounds = this.upperBounds;
    const state: HistogramState = {
      labels,
      buckets: new Array<number>(bounds.length + 1).fill(0),
      sum: 0,
      count: 0,
      observe(value: number) {
        let i = 0;
        while (i < bounds.length && value > (bounds[i] as number)) i++;
        (state.buckets[i] as number) += 1;
        state.sum += value;
        state.count += 1;
      },
    };
    this.states.push(state);
    return state;
  }

  reset(): void {
    for (const s of this.states) {
      s.buckets.fill(0);
      s.sum = 0;
      s.count = 0;
    }
  }

  get(): Promise<{ name: string; help: string; type: string; values: MetricValue[]; aggregator: string }> {
    const values: MetricValue[] = [];
    const bucket = `${this.name}_bucket`;
    for (const s of this.states) {
      if (s.count === 0) continue;
      let cumulative = 0;
      this.upperBounds.forEach((le, i) => {
        cumulative += s.buckets[i] as number;
        values.push({ labels: { le, ...s.labels }, value: cumulative, metricName: bucket });
      });
      cumulative += s.buckets[this.upperBounds.length] as number;
      values.push({ labels: { le: '+Inf', ...s.labels }, value: cumulative, metricName: bucket });
      values.push({ labels: s.labels, value: s.sum, metricName: `${this.name}_sum` });
      values.push({ labels: s.labels, value: s.count, metricName: `${this.name}_count` });
    }
    return Promise.resolve({
      name: this.name,
      help: this.help,
      type: this.type,
      values,
      aggregator: this.aggregator,
    });
  }
}
