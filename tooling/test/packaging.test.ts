// What users install is what we test: pack every public package as it would be published,
// install the tarballs into an empty project with plain npm, and use them there.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
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
    const script = `
      const core = await import('@tsmesh/core');
      if (core.DefaultPort.Inbound !== 4143) throw new Error('core did not load');
      for (const name of ${JSON.stringify(publicPackages.map((p) => p.name))}) {
        const m = await import(name);
        if (Object.keys(m).length === 0) throw new Error(name + ' has no exports');
      }
      console.log('ok');
    `;
    const out = execFileSync('node', ['--input-type=module', '-e', script], {
      cwd: project,
      encoding: 'utf8',
    });
    expect(out.trim()).toBe('ok');
  });

  it('ship runnable binaries', () => {
    const out = execFileSync(join(project, 'node_modules/.bin/tsmesh'), ['--version'], { encoding: 'utf8' });
    expect(out.trim()).toMatch(/^\d+\.\d+\.\d+/);
    const help = execFileSync(join(project, 'node_modules/.bin/tsmesh-proxy'), ['--help'], {
      encoding: 'utf8',
    });
    expect(help).toMatch(/tsmesh-proxy/);
  });
});
