#!/usr/bin/env node
// Launcher: runs the built CLI. Build first with `npm run build` at the repository root
// (or `corepack pnpm --filter @tsmesh/testenv build`).
import { existsSync } from 'node:fs';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(cli)) {
  console.error('testenv: ' + cli.pathname + ' is missing; run `npm run build` at the repository root first');
  process.exit(1);
}
const { run } = await import(cli.href);
await run(process.argv.slice(2));
