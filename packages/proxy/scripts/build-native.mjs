#!/usr/bin/env node
// Builds the SO_ORIGINAL_DST addon (native/original-dst.c) with node-gyp, against the headers of
// the running Node (--nodedir, so nothing is downloaded), into build/Release/original_dst.node.
// Runs from the package's `build` script, so a fresh clone gets it through `nx run-many -t build`
// without pnpm's onlyBuiltDependencies. node-gyp comes from the package's dependencies if present,
// else from the copy bundled with npm.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkgDir = dirname(dirname(fileURLToPath(import.meta.url)));
const output = join(pkgDir, 'build', 'Release', 'original_dst.node');
const source = join(pkgDir, 'native', 'original-dst.c');

if (process.platform !== 'linux') {
  console.log('build-native: not Linux; SO_ORIGINAL_DST is Linux-only, skipping the addon');
  process.exit(0);
}
if (existsSync(output) && statSync(output).mtimeMs >= statSync(source).mtimeMs) {
  console.log('build-native: build/Release/original_dst.node is up to date');
  process.exit(0);
}

function findNodeGyp() {
  try {
    return createRequire(join(pkgDir, 'package.json')).resolve('node-gyp/bin/node-gyp.js');
  } catch {
    const prefix = dirname(dirname(process.execPath));
    for (const candidate of [
      join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
      join(prefix, 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    ]) {
      if (existsSync(candidate)) return candidate;
    }
  }
  return null;
}

const nodeGyp = findNodeGyp();
if (!nodeGyp) {
  console.error('build-native: node-gyp not found (install npm, or add node-gyp to devDependencies)');
  process.exit(1);
}
const nodedir = dirname(dirname(process.execPath));
const args = [nodeGyp, 'rebuild', '--silent'];
if (existsSync(join(nodedir, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${nodedir}`);
const res = spawnSync(process.execPath, args, { cwd: pkgDir, stdio: 'inherit' });
if (res.status !== 0) {
  console.error(
    `build-native: node-gyp failed (${res.status ?? res.signal}); python3, make and a C compiler are needed`,
  );
  process.exit(1);
}
console.log('build-native: built build/Release/original_dst.node');
