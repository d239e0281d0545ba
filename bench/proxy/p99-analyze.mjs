// Where the slow requests of a fixed-rate run come from: reads h2load's per-request logs and the
// proxies' GC pauses and event-loop stalls written by `proxy-bench.mjs --log-dir DIR` (the
// BENCH_LATLOG instrumentation of tsmesh-proxy-child.mjs) and, per log, prints the latency
// percentiles, the GC pauses and stalls inside the run, and how many of the slowest 1 % of the
// requests overlap a GC pause or a stall of the outbound (a) or inbound (b) proxy.
// Usage: node bench/proxy/p99-analyze.mjs DIR
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node bench/proxy/p99-analyze.mjs DIR');
  process.exit(2);
}
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const f = (x) => x.toFixed(2);

for (const file of readdirSync(dir)
  .filter((n) => /^h[12]-1k-.*\.log$/.test(n))
  .sort()) {
  const path = /^h[12]-1k-(.*)\.log$/.exec(file)[1];
  // h2load: start (µs since the epoch), status, µs to the end of the response, stream id.
  const reqs = readFileSync(join(dir, file), 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.split('\t').map(Number))
    .map(([start, , dur]) => ({ start: start / 1000, dur: dur / 1000 }))
    .filter((r) => Number.isFinite(r.dur));
  if (reqs.length === 0) continue;
  const lat = reqs.map((r) => r.dur).sort((x, y) => x - y);
  const from = Math.min(...reqs.map((r) => r.start));
  const to = Math.max(...reqs.map((r) => r.start + r.dur));
  const p99 = pct(lat, 99);
  console.log(
    `${file}: ${reqs.length} requests, p50 ${f(pct(lat, 50))} p90 ${f(pct(lat, 90))} p99 ${f(p99)} max ${f(lat.at(-1))} ms`,
  );
  // Arrival pattern: how many requests start within 1 ms of the previous one (bursts).
  const starts = reqs.map((r) => r.start).sort((x, y) => x - y);
  let burst = 0;
  for (let i = 1; i < starts.length; i++) if (starts[i] - starts[i - 1] < 1) burst++;
  console.log(`  ${f((burst / starts.length) * 100)} % of requests start < 1 ms after the previous one`);
  const slow = reqs.filter((r) => r.dur >= p99);
  for (const side of ['a', 'b']) {
    const lf = join(dir, `${path}.${side}.json`);
    if (!existsSync(lf)) continue;
    const { gcs, stalls, eld, threadsMs, oldSpace = [] } = JSON.parse(readFileSync(lf, 'utf8'));
    const inRun = (t) => t >= from && t <= to;
    const g = gcs.filter(([t]) => inRun(t));
    const byKind = {};
    for (const [, d, k] of g) {
      const e = (byKind[k] ??= { n: 0, total: 0, max: 0 });
      e.n++;
      e.total += d;
      e.max = Math.max(e.max, d);
    }
    const s = stalls.filter(([t]) => inRun(t));
    // Each stall: [epoch ms, late by ms, main thread on CPU ms, main thread waiting for a CPU ms].
    const sum = (i) => s.reduce((a, x) => a + (x[i] ?? 0), 0);
    const overlaps = (list) =>
      slow.filter((r) => list.some(([t, d]) => t < r.start + r.dur && t + d > r.start)).length;
    console.log(
      `  ${side === 'a' ? 'outbound' : 'inbound '}: GC ${Object.entries(byKind)
        .map(([k, e]) => `${k} ${e.n}× total ${f(e.total)} max ${f(e.max)} ms`)
        .join(', ')}; stalls > 3 ms: ${s.length} (max ${f(Math.max(0, ...s.map(([, d]) => d)))} ms); ` +
        `whole-process loop delay p99 ${f(eld.p99)} max ${f(eld.max)} ms`,
    );
    console.log(
      `    stalls in all: ${f(sum(1))} ms late, of it main thread running ${f(sum(2))} ms, waiting for a CPU ${f(sum(3))} ms`,
    );
    // Promotion: old space growth summed over the samples that grew, per second of the run.
    const os = oldSpace.filter(([t]) => inRun(t));
    let grown = 0;
    for (let i = 1; i < os.length; i++) grown += Math.max(0, os[i][1] - os[i - 1][1]);
    const secs = (to - from) / 1000;
    console.log(
      `    old space grew ${f(grown / secs)} MB/s (${f((grown * 1048576) / reqs.length / 1024)} KiB per request), ` +
        `${f(os[0]?.[1] ?? 0)} → ${f(os.at(-1)?.[1] ?? 0)} MB`,
    );
    console.log(
      `    CPU by thread over the process's life (ms): ${Object.entries(threadsMs ?? {})
        .filter(([, v]) => v > 0)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
    );
    console.log(
      `    slowest 1 % (${slow.length}, ≥ ${f(p99)} ms) overlapping: a GC pause ≥ 1 ms ${overlaps(g.filter(([, d]) => d >= 1))}, a stall ${overlaps(s)}`,
    );
  }
}
