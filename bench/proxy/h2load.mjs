// h2load's results as the proxy benches read them (proxy-bench.mjs, mesh-routing.bench.mjs).
import { readFileSync } from 'node:fs';

/** The p-th percentile of an ascending list. */
export const percentile = (sorted, p) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

/**
 * h2load's summary: requests per second, and as errors the failed and errored requests and every
 * answer that is not 2xx (with -D, "succeeded" leaves out the streams the run's end cut off, so it
 * is not compared). p50/p99 in ms come from the per-request log (`--log-file`: start, status, µs
 * to the end of the response, stream); NaN without one.
 */
export function parseH2load(out, logFile) {
  const rps = Number(/finished in [\d.]+\w+, ([\d.]+) req\/s/.exec(out)?.[1]);
  const m = /(\d+) succeeded, (\d+) failed, (\d+) errored/.exec(out);
  const st = /status codes: \d+ 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(out);
  const errors = m && st ? Number(m[2]) + Number(m[3]) + Number(st[1]) + Number(st[2]) + Number(st[3]) : NaN;
  let p50 = NaN;
  let p99 = NaN;
  if (logFile) {
    const lat = readFileSync(logFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => Number(l.split('\t')[2]) / 1000)
      .filter(Number.isFinite)
      .sort((x, y) => x - y);
    if (lat.length > 0) [p50, p99] = [percentile(lat, 50), percentile(lat, 99)];
  }
  return { rps, p50, p99, errors };
}
