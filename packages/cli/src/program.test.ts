import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createProgram } from './program.js';
import { VERSION } from './version.js';

async function run(args: string[]): Promise<{ out: string; exitCode: number }> {
  let out = '';
  const program = createProgram({ out: (t) => (out += t), err: (t) => (out += t) });
  try {
    await program.parseAsync(['node', 'tsmesh', ...args]);
    return { out, exitCode: 0 };
  } catch (err) {
    return { out, exitCode: (err as { exitCode?: number }).exitCode ?? 1 };
  }
}

describe('tsmesh CLI', () => {
  it('prints help that matches the golden file', async () => {
    const { out, exitCode } = await run(['--help']);
    expect(exitCode).toBe(0);
    const golden = readFileSync(new URL('../test/golden/help.txt', import.meta.url), 'utf8');
    expect(out).toBe(golden);
  });

  it('prints its version', async () => {
    expect((await run(['version', '--short'])).out.trim()).toBe(VERSION);
  });

  it('rejects an unknown command with a helpful message and a non-zero exit', async () => {
    const { out, exitCode } = await run(['instal']);
    expect(exitCode).not.toBe(0);
    expect(out).toMatch(/unknown command 'instal'/);
  });
});
