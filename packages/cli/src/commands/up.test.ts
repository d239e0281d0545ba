import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runProgram } from './cli.test-support.js';
import { parseControllers } from './up.js';

const run = (args: string[]) => runProgram(args, { mergeErr: true });

describe('tsmesh up / run options', () => {
  it('refuses a manifest directory that does not exist, naming it', async () => {
    const state = mkdtempSync(join(tmpdir(), 'tsmesh-up-cmd-'));
    try {
      const { out, exitCode } = await run(['up', '-f', join(state, 'nope'), '--state', state]);
      expect(exitCode).toBe(1);
      expect(out).toContain('tsmesh up:');
      expect(out).toContain(join(state, 'nope'));
    } finally {
      rmSync(state, { recursive: true, force: true });
    }
  });

  it('parses --controllers', () => {
    expect(parseControllers('destination,policy')).toEqual(['destination', 'policy']);
    expect(parseControllers('')).toEqual([]);
    expect(() => parseControllers('destination,identityx')).toThrow(/unknown controller "identityx"/);
  });

  it('tsmesh run without a control plane says how to start one', async () => {
    const state = mkdtempSync(join(tmpdir(), 'tsmesh-run-cmd-'));
    try {
      const { out, exitCode } = await run([
        'run',
        '--workload',
        'web',
        '--port',
        '8080',
        '--state',
        state,
        '--',
        'true',
      ]);
      expect(exitCode).toBe(1);
      expect(out).toMatch(/no local control plane is running.*tsmesh up -f DIR --state/s);
      expect(
        (await run(['run', '--workload', 'web', '--port', 'x', '--state', state, '--', 'true'])).out,
      ).toContain('invalid --port "x"');
      // Transparent mode: refused plainly without root (or iproute2/iptables); as root it gets as
      // far as the missing control plane (or an unbuilt proxy), and says how to fix that.
      const netns = (await run(['run', '--workload', 'web', '--netns', '--state', state, '--', 'true'])).out;
      expect(netns).toMatch(
        process.getuid?.() === 0
          ? /no local control plane is running|needs root|is missing|the proxy is not built/
          : /needs root|needs Linux/,
      );
      expect(
        (
          await run([
            'run',
            '--workload',
            'web',
            '--netns',
            '--iptables-mode',
            'x',
            '--state',
            state,
            '--',
            'true',
          ])
        ).out,
      ).toContain('invalid --iptables-mode "x"');
    } finally {
      rmSync(state, { recursive: true, force: true });
    }
  });
});
