import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runProgram } from './commands/cli.test-support.js';
import { VERSION } from './version.js';

const run = (args: string[]) => runProgram(args, { mergeErr: true });

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
