// histogram_quantile as Prometheus computes it (promql/quantile.go, bucketQuantile): buckets
// sorted by upper bound, the +Inf bucket required, the rank q·count located in the first bucket
// whose cumulative count reaches it, and the value interpolated linearly inside that bucket
// (the first bucket starts at 0 when its bound is positive). A rank in the +Inf bucket answers the
// highest finite bound. No observations → NaN, as Prometheus.

/** Cumulative counts by upper bound (`le`), in any order; Infinity is the +Inf bucket. */
export type Buckets = ReadonlyMap<number, number> | readonly (readonly [number, number])[];

export function histogramQuantile(q: number, buckets: Buckets): number {
  if (Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  const sorted = [...buckets].sort(([a], [b]) => a - b);
  if (sorted.length < 2 || sorted.at(-1)![0] !== Infinity) return NaN;
  // Prometheus makes counts monotonic (a scrape may race with an observation).
  for (let i = 1; i < sorted.length; i++)
    if (sorted[i]![1] < sorted[i - 1]![1]) sorted[i] = [sorted[i]![0], sorted[i - 1]![1]];
  const total = sorted.at(-1)![1];
  if (!(total > 0)) return NaN;
  const rank = q * total;
  let b = sorted.findIndex(([, count]) => count >= rank);
  if (b < 0) b = sorted.length - 1;
  if (b === sorted.length - 1) return sorted[sorted.length - 2]![0];
  if (b === 0 && sorted[0]![0] <= 0) return sorted[0]![0];
  const start = b === 0 ? 0 : sorted[b - 1]![0];
  const end = sorted[b]![0];
  const below = b === 0 ? 0 : sorted[b - 1]![1];
  const inBucket = sorted[b]![1] - below;
  // Rank 0 can land in an empty bucket (q = 0, or every observation above it): its lower bound,
  // rather than the 0/0 a literal reading of the interpolation gives.
  if (inBucket === 0) return start;
  return start + (end - start) * ((rank - below) / inBucket);
}
