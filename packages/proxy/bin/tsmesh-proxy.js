#!/usr/bin/env -S node --max-semi-space-size=2 --heap-growing-percent=25 --v8-pool-size=1
// Launcher: runs the built CLI. Build first with `npm run build` at the repository root.
// Node flags, measured in bench/README.md ("Proxy pair", "Memory"):
// --max-semi-space-size=2: V8's young generation may otherwise grow to 3 x 16 MB under load; at 2 MB
//   per semi-space a loaded proxy's peak RSS was 4-5 MB lower than at 4, for the same CPU per request
//   (1 MB saved 2 MB more and cost up to 40 % more CPU with HTTP/2).
// --heap-growing-percent=25: after a full GC the old generation may grow by 25 % of the live heap
//   before the next one (V8 otherwise lets it reach up to 4x the live heap: a proxy with ~21 MB
//   live swung to 140-160 MB RSS under load; with it, 91-96 MB).
// --v8-pool-size=1: one V8 background thread instead of four. A proxy works on one core at a time;
//   more GC and compiler threads only compete with its event loop for that core, and each keeps a
//   malloc arena: peak RSS 3-5 MB lower and p99 at 1,000 req/s lower (12-14 ms added against 24).
import { existsSync } from 'node:fs';

const main = new URL('../dist/main.js', import.meta.url);
if (!existsSync(main)) {
  console.error(
    'tsmesh-proxy: ' + main.pathname + ' is missing; run `npm run build` at the repository root first',
  );
  process.exit(1);
}
await import(main.href);
