#!/usr/bin/env node
// The one entry point behind the root npm scripts. A fresh machine has only Node.js and npm:
// this installs what the step needs (Debian packages, pnpm through corepack, the workspace's
// dependencies), then runs the step. Kept dependency-free: it runs before anything is installed.
import { spawnSync } from 'node:child_process';
import { readFileSync, mkdirSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureSystemPackages } from './system-packages.mjs';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const step = process.argv[2];
const extra = process.argv.slice(3);

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const pnpmSpec = pkg.packageManager; // e.g. pnpm@10.34.8

function run(cmd, args, opts = {}) {
  const shown = [cmd, ...args].join(' ');
  console.log(`\n▶ ${shown}`);
  const res = spawnSync(cmd, args, {
    cwd: root,
    stdio: 'inherit',
    ...opts,
    env: { ...process.env, ...(opts.env ?? {}) },
  });
  if (res.error) {
    console.error(`✖ could not start "${shown}": ${res.error.message}`);
    process.exit(1);
  }
  if (res.status !== 0) {
    console.error(`✖ "${shown}" exited with ${res.status ?? res.signal}`);
    process.exit(res.status ?? 1);
  }
}

// The registry here serves packages without signatures, so corepack must not check them.
const pnpmEnv = { COREPACK_INTEGRITY_KEYS: '0', COREPACK_ENABLE_DOWNLOAD_PROMPT: '0' };
Object.assign(process.env, pnpmEnv);

// Tools started below (nx runs package scripts with `pnpm run`) need `pnpm` on PATH: corepack
// writes a shim for the pinned version into a folder of the clone, which goes first on PATH.
const shimDir = join(root, '.tsmesh-tmp', 'bin');
if (!existsSync(join(shimDir, 'pnpm'))) {
  mkdirSync(shimDir, { recursive: true });
  run('corepack', ['enable', '--install-directory', shimDir, 'pnpm']);
}
process.env.PATH = `${shimDir}:${process.env.PATH}`;
const pnpm = (args, opts = {}) =>
  run('corepack', [pnpmSpec, ...args], { ...opts, env: { ...pnpmEnv, ...(opts.env ?? {}) } });

function install() {
  const ci = process.env.CI === 'true' || process.env.CI === '1';
  pnpm(['install', ...(ci ? ['--frozen-lockfile'] : [])]);
}

const build = () => pnpm(['exec', 'nx', 'run-many', '-t', 'build', '--output-style=stream']);

function lint() {
  pnpm(['exec', 'nx', 'run-many', '-t', 'typecheck', '--output-style=stream']);
  // The module-boundary rule reads nx's cached project graph and silently skips without one.
  pnpm(['exec', 'nx', 'show', 'projects'], { stdio: 'ignore' });
  pnpm(['exec', 'eslint', '--max-warnings=0', '.']);
  pnpm(['exec', 'depcruise', '--config', 'tooling/dependency-cruiser.cjs', 'packages']);
  pnpm(['exec', 'prettier', '--check', '--log-level=warn', '.']);
}

function test() {
  ensureSystemPackages('test');
  install();
  build();
  lint();
  // Generated protobuf code is committed; a drift between .proto and generated code fails here.
  pnpm(['--filter', '@tsmesh/core', 'run', 'proto:check']);
  // The real Kubernetes binaries the integration tests run (built from Go modules the first time
  // on a machine, then cached outside the clone).
  run('node', [join(root, 'packages/testenv/bin/testenv.js'), 'build']);
  mkdirSync(join(root, '.tsmesh-tmp'), { recursive: true });
  const report = join(root, '.tsmesh-tmp', 'vitest-report.json');
  const res = spawnSync(
    'corepack',
    [
      pnpmSpec,
      'exec',
      'vitest',
      'run',
      '--reporter=default',
      '--reporter=json',
      `--outputFile.json=${report}`,
      ...extra,
    ],
    { cwd: root, stdio: 'inherit', env: { ...process.env, ...pnpmEnv } },
  );
  let summary = null;
  if (existsSync(report)) {
    const r = JSON.parse(readFileSync(report, 'utf8'));
    summary = {
      passed: r.numPassedTests,
      failed: r.numFailedTests,
      skipped: r.numPendingTests + r.numTodoTests,
    };
  }
  if (summary) {
    // The plain closing line CI reads to count tests.
    console.log(`\ntests: ${summary.passed} passed, ${summary.failed} failed, ${summary.skipped} skipped`);
  }
  if (res.status !== 0 || !summary || summary.failed > 0 || summary.passed === 0) {
    console.error('✖ the test run failed');
    process.exit(res.status || 1);
  }
}

switch (step) {
  case 'test':
    test();
    break;
  case 'build':
    ensureSystemPackages('build');
    install();
    build();
    break;
  case 'lint':
    install();
    lint();
    break;
  case 'proto-gen':
    ensureSystemPackages('build');
    install();
    pnpm(['--filter', '@tsmesh/core', 'run', 'proto:gen']);
    break;
  case 'demo':
    ensureSystemPackages('build');
    install();
    build();
    run('node', [join(root, 'packages/cli/bin/tsmesh.js'), 'demo', ...extra]);
    break;
  default:
    console.error(`usage: node scripts/run.mjs test|build|lint|demo|proto-gen (got "${step ?? ''}")`);
    process.exit(2);
}
