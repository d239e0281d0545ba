#!/usr/bin/env node
// Launcher: runs the built binary. Build first with `npm run build` at the repository root.
import { existsSync } from 'node:fs';

const main = new URL('../dist/main.js', import.meta.url);
if (!existsSync(main)) {
  console.error(
    'tsmesh-service-mirror: ' +
      main.pathname +
      ' is missing; run `npm run build` at the repository root first',
  );
  process.exit(1);
}
await import(main.href);
