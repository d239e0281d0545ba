// The end of a child process (proxy or app of a workload runner): its exit code as a shell gives
// it, and a stop that asks politely (SIGTERM) and insists (SIGKILL) after a grace period.
import type { ChildProcess } from 'node:child_process';

/** Resolves with the child's exit code: its own, 128+15 when a signal ended it, 127 when it could not start. */
export function exitCodeOf(child: ChildProcess): Promise<number> {
  return new Promise<number>((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    if (child.signalCode !== null) return resolve(128 + 15);
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 + 15 : 1)));
    child.once('error', () => resolve(127));
  });
}

/**
 * SIGTERM, SIGKILL after `graceMs`; resolves once the child has exited (at once when it had, or
 * never started).
 */
export async function stopChild(child: ChildProcess | undefined, graceMs: number): Promise<void> {
  if (!child || child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = exitCodeOf(child);
  child.kill('SIGTERM');
  const force = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(force);
}
