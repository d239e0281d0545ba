import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, test } from 'vitest';
import { main } from '../../src/cli.js';
import type { TestEnvState } from '../../src/state-file.js';

const run = promisify(execFile);
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) {
    await main(['down', '--dir', d]);
    await rm(d, { recursive: true, force: true });
  }
});

test('testenv up / down: kubectl works against the environment, down stops exactly its processes', async () => {
  const parent = await mkdtemp(join(tmpdir(), 'testenv-cli-'));
  const dir = join(parent, 'env');
  dirs.push(dir);
  expect(await main(['up', '--dir', dir])).toBe(0);

  const state = JSON.parse(await readFile(join(dir, 'testenv.json'), 'utf8')) as TestEnvState;
  const pids = Object.values(state.pids) as number[];
  expect(pids).toHaveLength(3);
  for (const pid of pids) expect(() => process.kill(pid, 0)).not.toThrow();

  const { stdout } = await run('kubectl', [
    '--kubeconfig',
    join(dir, 'kubeconfig'),
    'get',
    'ns',
    '-o',
    'name',
  ]);
  expect(stdout.split('\n')).toEqual(
    expect.arrayContaining(['namespace/default', 'namespace/kube-system', 'namespace/kube-public']),
  );

  expect(await main(['down', '--dir', dir])).toBe(0);
  for (const pid of pids) {
    // Gone, or a zombie awaiting its reaper: in both cases no longer running.
    const state = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => 'gone');
    expect(state === 'gone' || / Z /.test(state)).toBe(true);
  }
  // The directory `up` created is removed entirely.
  await expect(stat(dir)).rejects.toThrow();
  await rm(parent, { recursive: true, force: true });
});

test('testenv without a command prints usage and fails', async () => {
  expect(await main([])).toBe(2);
});

test('testenv up --addressing: only with --cluster, only a known plan (refused before anything starts)', async () => {
  const dir = join(tmpdir(), 'testenv-cli-never-created');
  await expect(main(['up', '--dir', dir, '--addressing', 'east'])).rejects.toThrow(
    /--addressing goes with --cluster/,
  );
  await expect(main(['up', '--cluster', '--dir', dir, '--addressing', 'north'])).rejects.toThrow(
    /unknown cluster addressing "north" \(one of default, east, west\)/,
  );
  await expect(stat(dir)).rejects.toThrow();
});
