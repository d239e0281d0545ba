// Test support: the built `tsmesh demo` as a child process — its output, the proxies it lists,
// and its logs when it fails to come up.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Sample } from '../../src/demo/index.js';

export const cli = new URL('../../bin/tsmesh.js', import.meta.url).pathname;
export const built = existsSync(new URL('../../dist/main.js', import.meta.url));

export const sum = (samples: readonly Sample[], name: string, labels: Record<string, string> = {}) =>
  samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((n, s) => n + s.value, 0);

/** The demo's own logs, for a failure message (state directories are removed afterwards). */
function logsOf(state: string): string {
  const dir = join(state, 'logs');
  if (!existsSync(dir)) return '(no logs)';
  return readdirSync(dir)
    .map((f) => `--- ${f}\n${readFileSync(join(dir, f), 'utf8').split('\n').slice(-15).join('\n')}`)
    .join('\n');
}

export interface DemoProcess {
  readonly child: ChildProcess;
  output(): string;
  readonly exited: Promise<number | null>;
  /** Sends `signal` (default SIGTERM) unless it has exited already, and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Resolves once the app line is printed: the app URL and each workload's proxy admin URL. */
  up(): Promise<{ appUrl: string; admin: Record<string, string> }>;
}

export function startDemo(state: string, args: readonly string[], detached = false): DemoProcess {
  const child = spawn(process.execPath, [cli, 'demo', '--state', state, '--port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached,
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (t: string) => (output += t));
  child.stderr.setEncoding('utf8').on('data', (t: string) => (output += t));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    output: () => output,
    exited,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
    async up() {
      const deadline = Date.now() + 90_000;
      while (!/The app: http:\/\/127\.0\.0\.1:\d+\//.test(output)) {
        if (Date.now() > deadline || child.exitCode !== null)
          throw new Error(`the demo did not come up:\n${output}\n${logsOf(state)}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      const appUrl = /The app: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(output)![1]!;
      const admin = Object.fromEntries(
        [...output.matchAll(/^\s+(\S+)\s+pod (127\.\d+\.\d+\.\d+)\s+proxy admin (\S+)$/gm)].map((m) => [
          m[1]!,
          m[3]!,
        ]),
      );
      return { appUrl, admin };
    },
  };
}
