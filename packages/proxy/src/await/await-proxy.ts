// `tsmesh-proxy await -- CMD`: what linkerd-await does. Wait until the proxy's admin server says
// /ready, run the application, and when it exits ask the proxy to shut down (so a Job's pod
// completes instead of waiting on its sidecar), exiting with the application's status.
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { DefaultPort, MeshError, MeshErrorCode } from '@tsmesh/core/data-plane';

export interface AwaitProxyOptions {
  readonly command: string;
  readonly args: readonly string[];
  /** The proxy's admin port on 127.0.0.1. */
  readonly adminPort?: number;
  /** How long to wait for /ready before giving up. */
  readonly timeoutMs?: number;
  /** Ask the proxy to shut down once the command exits (needs its /shutdown endpoint enabled). */
  readonly shutdown?: boolean;
  readonly pollIntervalMs?: number;
  readonly log?: (line: string) => void;
  readonly signal?: AbortSignal;
}

function adminCall(port: number, method: 'GET' | 'POST', path: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs}ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** Resolves once GET /ready answers 200; rejects with a MeshError (timeout) after timeoutMs. */
export async function waitForProxyReady(options: {
  adminPort: number;
  timeoutMs: number;
  pollIntervalMs: number;
  signal?: AbortSignal;
}): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    options.signal?.throwIfAborted();
    try {
      const status = await adminCall(options.adminPort, 'GET', '/ready', options.pollIntervalMs * 10);
      if (status === 200) return;
      last = `HTTP ${status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, options.pollIntervalMs));
  }
  throw new MeshError(
    MeshErrorCode.Timeout,
    `the proxy was not ready within ${options.timeoutMs}ms (${last})`,
    {
      where: `http://127.0.0.1:${options.adminPort}/ready`,
      hint: 'check the proxy container is running and its logs',
    },
  );
}

/** Waits for the proxy, runs the command, shuts the proxy down; resolves to the command's exit code. */
export async function awaitProxy(options: AwaitProxyOptions): Promise<number> {
  const adminPort = options.adminPort ?? DefaultPort.Admin;
  const log = options.log ?? (() => {});
  await waitForProxyReady({
    adminPort,
    timeoutMs: options.timeoutMs ?? 120_000,
    pollIntervalMs: options.pollIntervalMs ?? 100,
    signal: options.signal,
  });
  const child = spawn(options.command, [...options.args], { stdio: 'inherit' });
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on('SIGTERM', forward);
  process.on('SIGINT', forward);
  const code = await new Promise<number>((resolve) => {
    child.once('error', (err) => {
      log(`cannot start ${options.command}: ${err.message}`);
      resolve(127);
    });
    child.once('exit', (status, signal) => resolve(status ?? (signal ? 128 : 1)));
  }).finally(() => {
    process.off('SIGTERM', forward);
    process.off('SIGINT', forward);
  });
  if (options.shutdown ?? true) {
    try {
      const status = await adminCall(adminPort, 'POST', '/shutdown', 5_000);
      if (status !== 200)
        log(`the proxy refused /shutdown (HTTP ${status}); is its shutdown endpoint enabled?`);
    } catch (err) {
      log(`could not ask the proxy to shut down: ${(err as Error).message}`);
    }
  }
  return code;
}
