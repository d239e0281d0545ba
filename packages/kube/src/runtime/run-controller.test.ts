// The controller frame: exit 2 naming a bad flag, usage and 0 for --help, 1 with the reason when
// serving fails to start, 0 after SIGTERM stops a serve that waits on the signal.
import { MeshError, MeshErrorCode } from '@tsmesh/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runControllerMain, untilAborted } from './run-controller.js';

afterEach(() => vi.restoreAllMocks());

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => (out.push(String(chunk)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => (err.push(String(chunk)), true));
  return { out, err };
}

const base = { program: 'tsmesh-test', logLevel: () => 'error' as const };

describe('runControllerMain', () => {
  it('exits 2 naming a bad flag, and 0 with the usage for --help', async () => {
    const io = capture();
    const bad = await runControllerMain({
      ...base,
      parse: () => {
        throw new MeshError(MeshErrorCode.Config, 'unknown flag --nope', { where: '--nope' });
      },
      serve: async () => {},
    });
    expect(bad).toBe(2);
    expect(io.err.join('')).toMatch(/^tsmesh-test: .*--nope/);
    const help = await runControllerMain({
      ...base,
      parse: () => ({ help: 'usage: tsmesh-test\n' }),
      serve: async () => {},
    });
    expect(help).toBe(0);
    expect(io.out.join('')).toBe('usage: tsmesh-test\n');
  });

  it('exits 1 with the reason when serving fails, and 0 after SIGTERM ends a serve', async () => {
    const io = capture();
    const failed = await runControllerMain({
      ...base,
      parse: () => ({ port: 1 }),
      serve: () => Promise.reject(new Error('listen EADDRINUSE 127.0.0.1:1')),
    });
    expect(failed).toBe(1);
    expect(io.err.join('')).toContain('tsmesh-test: listen EADDRINUSE 127.0.0.1:1');
    // The log line carries the binary's own fields (tsmesh-policy's name) before the call's.
    await runControllerMain({
      ...base,
      logFields: { name: 'tsmesh-test' },
      parse: () => ({}),
      serve: () => Promise.reject(new Error('boom')),
    });
    const logged = io.err.map((line) => line.trim()).find((line) => line.includes('"boom"'));
    expect(JSON.parse(logged ?? '{}')).toMatchObject({ level: 50, name: 'tsmesh-test', error: 'boom' });
    let served = false;
    const listenersBefore = process.listenerCount('SIGTERM');
    const running = runControllerMain({
      ...base,
      parse: () => ({}),
      serve: async (_config, { signal, registry }) => {
        served = true;
        expect(await registry.getSingleMetric('process_cpu_user_seconds_total')).toBeDefined();
        await untilAborted(signal);
      },
    });
    await vi.waitFor(() => expect(served).toBe(true));
    process.emit('SIGTERM', 'SIGTERM');
    expect(await running).toBe(0);
    // The frame took its signal handlers away again.
    expect(process.listenerCount('SIGTERM')).toBe(listenersBefore);
  });
});
