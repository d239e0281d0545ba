import { describe, expect, it } from 'vitest';
import { parseArgs, USAGE } from './usage.js';

describe('parseArgs', () => {
  it('defaults to run', () => {
    expect(parseArgs([])).toEqual({ command: 'run', help: false, version: false, options: [], rest: [] });
  });
  it('recognises --help and subcommands', () => {
    expect(parseArgs(['--help'])).toMatchObject({ command: 'run', help: true });
    expect(parseArgs(['await', '--timeout', '5s', '--', 'sh', '-c', 'true'])).toMatchObject({
      command: 'await',
      options: ['--timeout', '5s'],
      rest: ['sh', '-c', 'true'],
    });
  });
  it('rejects unknown commands', () => {
    expect(parseArgs(['bogus'])).toEqual({ error: 'unknown command "bogus"' });
  });
  it('usage names the subcommands', () => {
    expect(USAGE).toMatch(/tsmesh-proxy await/);
  });
});
