import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { exitCodeOf, stopChild } from './child-process.js';

describe('child processes of the runners', () => {
  it('exit code: its own, 127 when it cannot start', async () => {
    expect(await exitCodeOf(spawn(process.execPath, ['-e', 'process.exit(3)']))).toBe(3);
    const missing = spawn('/nonexistent/tsmesh-test-binary');
    expect(await exitCodeOf(missing)).toBe(127);
    // never started: nothing to stop, no grace timer left behind
    await stopChild(missing, 60_000);
  });

  it('stop: SIGTERM, then SIGKILL after the grace period for a child that ignores it', async () => {
    const polite = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)']);
    await stopChild(polite, 60_000);
    expect(await exitCodeOf(polite)).toBe(128 + 15);
    const stubborn = spawn(
      process.execPath,
      ['-e', "process.on('SIGTERM', () => {}); console.log('ready'); setInterval(() => {}, 1000)"],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    await new Promise((r) => stubborn.stdout.once('data', r));
    await stopChild(stubborn, 100);
    expect(stubborn.signalCode).toBe('SIGKILL');
  });
});
