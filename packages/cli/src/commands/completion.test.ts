// The completion scripts run in real shells: bash always (it is everywhere the CLI runs), zsh and
// fish when installed (a syntax check and, for fish, completions asked of fish itself).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runProgram } from './cli.test-support.js';

const dir = mkdtempSync(join(tmpdir(), 'tsmesh-completion-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const script = (shell: string) => runProgram(['completion', shell]);

const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

/** What bash offers for the words typed so far (the last one being completed). */
function bashComplete(file: string, ...typed: string[]): string[] {
  const words = ['tsmesh', ...typed].map((w) => `'${w}'`).join(' ');
  const r = spawnSync(
    'bash',
    [
      '--norc',
      '-c',
      `source '${file}'; COMP_WORDS=(${words}); COMP_CWORD=${typed.length}; _tsmesh; printf '%s\\n' "\${COMPREPLY[@]}"`,
    ],
    { encoding: 'utf8', cwd: dir, timeout: 20_000 },
  );
  expect(r.stderr).toBe('');
  return r.stdout.split('\n').filter(Boolean);
}

describe('tsmesh completion', () => {
  it('bash: commands, nested subcommands through aliases, global and local options, files for values', async () => {
    const { out, exitCode } = await script('bash');
    expect(exitCode).toBe(0);
    const file = join(dir, 'tsmesh.bash');
    writeFileSync(file, out);
    writeFileSync(join(dir, 'kubeconfig-east'), '');

    expect(bashComplete(file, 'di')).toEqual(['diagnostics']);
    expect(bashComplete(file, 'diagnostics', '')).toEqual(
      expect.arrayContaining([
        'proxy-metrics',
        'controller-metrics',
        'endpoints',
        'policy',
        '--kubeconfig',
        '--help',
      ]),
    );
    expect(bashComplete(file, '-n', 'shop', 'diag', 'proxy-metrics', '--o')).toEqual(['--obfuscate']);
    expect(bashComplete(file, 'profile', '--')).toEqual(
      expect.arrayContaining(['--template', '--open-api', '--proto', '--context', '--namespace']),
    );
    expect(bashComplete(file, 'diagnostics', 'endpoints', '--kubeconfig', 'kubeconfig-e')).toEqual([
      'kubeconfig-east',
    ]);
    expect(bashComplete(file, 'completion', 'z')).toEqual([]);
  });

  it.skipIf(!has('zsh'))('zsh: the script parses', async () => {
    const file = join(dir, 'tsmesh.zsh');
    writeFileSync(file, (await script('zsh')).out);
    const r = spawnSync('zsh', ['-n', file], { encoding: 'utf8', timeout: 20_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('fish: one completion per command and option, by typed path', async () => {
    const { out } = await script('fish');
    expect(out).toContain("complete -c tsmesh -n '__tsmesh_at diagnostics' -a 'proxy-metrics'");
    expect(out).toContain('complete -c tsmesh -l kubeconfig -r -F');
    if (!has('fish')) return;
    const file = join(dir, 'tsmesh.fish');
    writeFileSync(file, out);
    const r = spawnSync('fish', ['--no-config', '-c', `source '${file}'; complete -C 'tsmesh diag '`], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(r.stderr).toBe('');
    const offered = r.stdout.split('\n').map((l) => l.split('\t')[0]);
    expect(offered).toEqual(expect.arrayContaining(['proxy-metrics', 'endpoints', 'policy']));
  });

  it('an unknown shell is an error that lists the shells', async () => {
    const r = await script('powershell');
    expect(r.exitCode).toBe(1);
    expect(r.err).toContain('SHELL: unsupported shell "powershell" (use one of bash, zsh, fish)');
  });
});
