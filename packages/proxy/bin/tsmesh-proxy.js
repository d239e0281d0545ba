#!/usr/bin/env -S node --max-semi-space-size=4 --heap-growing-percent=25
// Launcher: runs the built CLI. Build first with `npm run build` at the repository root.
// Node flags, measured in bench/README.md ("Proxy pair"):
// --max-semi-space-size=4: V8's young generation may otherwise grow to 3 x 16 MB under load.
// --heap-growing-percent=25: after a full GC the old generation may grow by 25 % of the live heap
//   before the next one (V8 otherwise lets it reach up to 4x the live heap: a proxy with ~21 MB
//   live swung to 140-160 MB RSS under load; with it, 91-96 MB).
import { existsSync } from 'node:fs';

const main = new URL('../dist/main.js', import.meta.url);
if (!existsSync(main)) {
  console.error(
    'tsmesh-proxy: ' + main.pathname + ' is missing; run `npm run build` at the repository root first',
  );
  process.exit(1);
}
await import(main.href);
