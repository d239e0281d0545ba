// Medians over several rounds of proxy-bench.mjs (its --json files), per scenario and path: req/s,
// the ratio to haproxy measured in the same round (each round's ratio listed too), CPU µs per
// request of the outbound and inbound proxies, p99 and the pair's peak RSS. On a shared machine a
// single round is noise; the ratio within a round is what holds.
// Usage: node bench/proxy/raw-h1/summarize.mjs r1.json r2.json r3.json ...
import { readFileSync } from 'node:fs';

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: node bench/proxy/raw-h1/summarize.mjs ROUND.json... (proxy-bench --json)');
  process.exit(2);
}
const rows = new Map();
for (const file of files) {
  for (const [scenario, paths] of Object.entries(JSON.parse(readFileSync(file, 'utf8')).results)) {
    for (const [name, x] of Object.entries(paths)) {
      const key = `${scenario} ${name}`;
      if (!rows.has(key)) rows.set(key, { rps: [], ratio: [], out: [], inb: [], p99: [], rss: [] });
      const row = rows.get(key);
      row.rps.push(x.rps);
      if (paths.haproxy) row.ratio.push(x.rps / paths.haproxy.rps);
      row.p99.push(x.p99);
      const { outbound, inbound } = x.usage ?? {};
      if (outbound && inbound) {
        row.out.push(outbound.cpuUsPerReq);
        row.inb.push(inbound.cpuUsPerReq);
        row.rss.push(Math.max(outbound.rssMb, inbound.rssMb));
      }
    }
  }
}

function median(values) {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
const num = (x, digits = 0) => (Number.isFinite(x) ? x.toFixed(digits) : '-');

console.log(`${files.length} rounds: ${files.join(' ')}`);
console.log(
  'scenario  path                req/s  /haproxy (rounds)            out µs  in µs  p99 ms  RSS MB',
);
for (const [key, r] of rows) {
  const [scenario, name] = key.split(' ');
  const ratio = `${num(median(r.ratio), 2)} (${r.ratio.map((x) => x.toFixed(2)).join(' ')})`;
  console.log(
    `${scenario.padEnd(9)} ${name.padEnd(17)} ${num(median(r.rps)).padStart(7)}  ${ratio.padEnd(27)}` +
      ` ${num(median(r.out)).padStart(6)} ${num(median(r.inb)).padStart(6)} ${num(median(r.p99), 2).padStart(7)} ${num(median(r.rss)).padStart(7)}`,
  );
}
