#!/usr/bin/env -S node --max-semi-space-size=4
// Launcher: runs the built CLI. Build first with `npm run build` at the repository root.
// --max-semi-space-size=4: V8's young generation may otherwise grow to 3 x 16 MB under load;
// capped, a proxy's RSS under load is ~100-120 MB instead of ~140-180 MB for about 5-15 % more CPU
// per request (bench/README.md, "Proxy pair").
import { existsSync } from 'node:fs';

const main = new URL('../dist/main.js', import.meta.url);
if (!existsSync(main)) {
  console.error(
    'tsmesh-proxy: ' + main.pathname + ' is missing; run `npm run build` at the repository root first',
  );
  process.exit(1);
}
await import(main.href);
