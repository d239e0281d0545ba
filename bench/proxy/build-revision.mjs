// Builds @tsmesh/proxy as it was at a git revision (or as it is in the working tree: "worktree")
// into a directory outside the repository, so one benchmark run can compare two versions of the
// proxy side by side: `proxy-bench.mjs --compare DIR` runs that build as a fourth path.
// Usage: node bench/proxy/build-revision.mjs REV|worktree|TREEDIR OUTDIR   → OUTDIR/dist/index.js
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const [rev, outArg] = process.argv.slice(2);
if (!rev || !outArg) {
  console.error('usage: node bench/proxy/build-revision.mjs REV|worktree OUTDIR');
  process.exit(2);
}
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const pkg = join(root, 'packages/proxy');
const out = resolve(outArg);
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
let src = join(pkg, 'src');
if (existsSync(join(rev, 'packages/proxy/src'))) {
  // A checkout-like directory (e.g. a revision with a patch applied).
  src = join(resolve(rev), 'packages/proxy/src');
} else if (rev !== 'worktree') {
  const archive = execFileSync(
    'git',
    ['-C', root, 'archive', rev, 'packages/proxy/src', 'packages/proxy/package.json'],
    { maxBuffer: 256 * 1024 * 1024 },
  );
  execFileSync('tar', ['-x', '-C', out], { input: archive });
  src = join(out, 'packages/proxy/src');
}
// Dependencies resolve from the package's own node_modules (the native addon is left out: the
// benchmark runs in explicit mode, without SO_ORIGINAL_DST).
symlinkSync(join(pkg, 'node_modules'), join(out, 'node_modules'));
// esbuild is tsup's own (the repository builds with tsup).
const fromRoot = createRequire(join(root, 'package.json'));
const esbuild = createRequire(fromRoot.resolve('tsup'))('esbuild');
await esbuild.build({
  entryPoints: [join(src, 'index.ts')],
  outfile: join(out, 'dist/index.js'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  conditions: ['tsmesh-source'],
  logLevel: 'warning',
});
console.log(join(out, 'dist/index.js'));
