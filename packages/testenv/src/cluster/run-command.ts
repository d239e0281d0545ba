import { spawn } from 'node:child_process';
import { TestEnvError } from '../test-env-error.js';

export interface CommandResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunCommandOptions {
  /** Written to stdin, which is then closed. */
  input?: string;
  /** Killed (SIGKILL) after this long. Default 60 000. */
  timeoutMs?: number;
  /** Resolve with a non-zero exit code instead of rejecting. */
  allowFailure?: boolean;
}

/** Runs a short-lived command and collects its output; rejects with the command's stderr on failure. */
export function runCommand(
  command: string,
  args: readonly string[],
  options: RunCommandOptions = {},
): Promise<CommandResult> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.stdin.on('error', () => {});
    child.stdin.end(options.input ?? '');
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new TestEnvError('PROCESS_EXITED', `could not run ${command}: ${err.message}`, { cause: err }));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      const result = { code, stdout, stderr };
      if (code === 0 || (options.allowFailure && !timedOut)) {
        resolve(result);
        return;
      }
      const why = timedOut ? `timed out after ${timeoutMs} ms` : `exited with ${code}`;
      reject(
        new TestEnvError(
          'PROCESS_EXITED',
          `${command} ${args.join(' ')} ${why}: ${stderr.trim().slice(-2000) || stdout.trim().slice(-2000)}`,
        ),
      );
    });
  });
}
