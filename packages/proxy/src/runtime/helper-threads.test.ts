// lowerHelperThreadPriority's guards and error handling; the built binary's threads are checked in
// test/integration/binary.test.ts (its helper threads at the nice value, its main thread not).
import { describe, expect, it } from 'vitest';
import { lowerHelperThreadPriority } from './helper-threads.js';

describe('lowerHelperThreadPriority', () => {
  it('refuses a nice value outside 0 to 19', () => {
    for (const bad of [-1, 20, 1.5]) {
      expect(() => lowerHelperThreadPriority(bad, { listThreads: () => [] })).toThrow(/from 0 to 19/);
    }
  });

  it('does nothing for 0', () => {
    let listed = 0;
    const stop = lowerHelperThreadPriority(0, { listThreads: () => (listed++, []) });
    stop();
    expect(listed).toBe(0);
  });

  it('passes over a thread that ended meanwhile and the main thread, saying nothing', () => {
    const errors: Error[] = [];
    // 2^22 + 1 is above Linux's largest thread id (pid_max is at most 2^22).
    const stop = lowerHelperThreadPriority(5, {
      listThreads: () => [process.pid, 4_194_305],
      onError: (e) => errors.push(e),
    });
    stop();
    expect(errors).toEqual([]);
  });

  it('reports a failed listing once and keeps trying', async () => {
    const errors: Error[] = [];
    let calls = 0;
    const stop = lowerHelperThreadPriority(5, {
      listThreads: () => {
        calls++;
        throw new Error('no /proc');
      },
      onError: (e) => errors.push(e),
      rescanMs: 5,
    });
    await expect.poll(() => calls, { timeout: 2000 }).toBeGreaterThanOrEqual(3);
    stop();
    expect(errors.map((e) => e.message)).toEqual(['no /proc']);
  });
});
