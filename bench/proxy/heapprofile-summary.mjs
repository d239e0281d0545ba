// Summarises a .heapprofile (V8's sampling heap profiler, e.g. BENCH_HEAPPROF of
// tsmesh-proxy-child.mjs): bytes by allocating function (self), and by the first frame outside
// node's own modules and node_modules (where in the proxy the allocation started).
//   node bench/proxy/heapprofile-summary.mjs FILE.heapprofile [top=25]
import { readFileSync } from 'node:fs';

const [file, topArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: node bench/proxy/heapprofile-summary.mjs FILE.heapprofile [top]');
  process.exit(2);
}
const top = Number(topArg ?? 25);
const { head } = JSON.parse(readFileSync(file, 'utf8'));
const where = (f) =>
  `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/packages\//, '')}:${f.lineNumber + 1}`;
const ours = (f) => f.url !== '' && !f.url.startsWith('node:') && !f.url.includes('node_modules');
const bySelf = new Map();
const byOurs = new Map();
let total = 0;
const walk = (node, stack) => {
  const frames = [...stack, node.callFrame];
  if (node.selfSize > 0) {
    total += node.selfSize;
    const self = where(node.callFrame);
    bySelf.set(self, (bySelf.get(self) ?? 0) + node.selfSize);
    const mine = [...frames].reverse().find(ours);
    const key = mine ? `${where(mine)}  <- ${self}` : `(no proxy frame) ${self}`;
    byOurs.set(key, (byOurs.get(key) ?? 0) + node.selfSize);
  }
  for (const child of node.children) walk(child, frames);
};
walk(head, []);
const kb = (n) => `${(n / 1024).toFixed(0).padStart(7)} KiB ${((100 * n) / total).toFixed(1).padStart(5)} %`;
const show = (title, m) => {
  console.log(`\n${title}`);
  for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${kb(v)}  ${k}`);
};
console.log(`${file}: ${(total / 1048576).toFixed(1)} MiB sampled`);
show('by allocating function', bySelf);
show('by the innermost proxy frame (<- allocating function)', byOurs);
