import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { TestEnvError } from './test-env-error.js';

export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface StartProcessOptions {
  /** Short name for messages: `etcd`, `kube-apiserver`, … */
  name: string;
  command: string;
  args: readonly string[];
  /** stdout and stderr are appended here. */
  logPath: string;
  /**
   * Own process group and not waited for: the process outlives this Node process (the CLI's
   * `up`). Otherwise it shares our process group, so a terminal's Ctrl-C reaches it too.
   */
  detached: boolean;
}

/** A control-plane process this package started. */
export class ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logPath: string;
  /** Settles when the process exits (never rejects). */
  readonly exited: Promise<ProcessExit>;
  #exit: ProcessExit | undefined;
  readonly #child: ChildProcess;

  private constructor(name: string, child: ChildProcess, logPath: string) {
    this.name = name;
    this.#child = child;
    this.pid = child.pid!;
    this.logPath = logPath;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.#exit = { code, signal };
        resolve(this.#exit);
      });
    });
  }

  static async start(options: StartProcessOptions): Promise<ManagedProcess> {
    const fd = openSync(options.logPath, 'a');
    let child: ChildProcess;
    try {
      child = spawn(options.command, options.args, {
        stdio: ['ignore', fd, fd],
        detached: options.detached,
      });
    } finally {
      closeSync(fd);
    }
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (err) =>
        reject(
          new TestEnvError(
            'PROCESS_EXITED',
            `could not start ${options.name} (${options.command}): ${err.message}`,
            { cause: err },
          ),
        ),
      );
    });
    if (options.detached) child.unref();
    return new ManagedProcess(options.name, child, options.logPath);
  }

  /** The exit status, or undefined while running. */
  get exit(): ProcessExit | undefined {
    return this.#exit;
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process has exited. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.#exit) return;
    this.#child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const killed = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.#child.kill('SIGKILL');
        resolve();
      }, graceMs);
    });
    await Promise.race([this.exited, killed]);
    clearTimeout(timer);
    await this.exited;
  }

  /** Last lines of the log, for error messages. */
  async logTail(lines = 20): Promise<string> {
    return tailFile(this.logPath, lines);
  }
}

export async function tailFile(path: string, lines = 20): Promise<string> {
  try {
    const text = await readFile(path, 'utf8');
    return text
      .split('\n')
      .slice(-lines - 1)
      .join('\n');
  } catch {
    return '';
  }
}

/** Whether `pid` is a live process whose command line mentions `marker` (guards against PID reuse). */
export async function isOurProcess(pid: number, marker: string): Promise<boolean> {
  try {
    const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').join(' ');
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Field 3 (after the parenthesised command) is the state; Z = zombie, already dead.
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && cmdline.includes(marker);
  } catch {
    return false;
  }
}

/**
 * Stops a process this package started in another Node process (the CLI's `down`): only if its
 * command line still contains `marker` (the environment directory), SIGTERM, then SIGKILL after
 * `graceMs`. Returns false if there was no such process.
 */
export async function stopPid(pid: number, marker: string, graceMs = 10_000): Promise<boolean> {
  if (!(await isOurProcess(pid, marker))) return false;
  const signalled = (sig: NodeJS.Signals): boolean => {
    try {
      process.kill(pid, sig);
      return true;
    } catch {
      return false;
    }
  };
  if (!signalled('SIGTERM')) return false;
  const deadline = Date.now() + graceMs;
  while (await isOurProcess(pid, marker)) {
    if (Date.now() > deadline) {
      signalled('SIGKILL');
      await sleep(200);
      if (!(await isOurProcess(pid, marker))) break;
    }
    await sleep(100);
  }
  return true;
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new TestEnvError('ABORTED', 'aborted', { cause: signal.reason }));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new TestEnvError('ABORTED', 'aborted', { cause: signal?.reason }));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
