// Test support for the viz integration tests: the CLI in-process (runTsmesh), bounded polling, a
// GET with a chosen Host header, kubectl that does not block the event loop, and a real Prometheus
// (Debian's `prometheus`) on 127.0.0.1 with its storage under a test folder.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { runProgram } from '../../src/commands/cli.test-support.js';

/** `tsmesh ARGS` in-process: its output and error lines as the binary prints them; a failure throws. */
export async function runTsmesh(args: readonly string[]): Promise<{ out: string; err: string }> {
  const { out, err, exitCode } = await runProgram(args, { lines: true });
  if (exitCode !== 0) throw new Error(`tsmesh ${args.join(' ')} failed: ${err || `exit code ${exitCode}`}`);
  return { out, err };
}

export const hasPrometheus =
  spawnSync('sh', ['-c', 'command -v prometheus'], { stdio: 'ignore' }).status === 0;

/**
 * kubectl without blocking the event loop (for tests whose servers the apiserver calls back: a
 * webhook, an aggregated API); killed after 60 s.
 */
export function kubectlAsync(
  kubectl: string,
  kubeconfig: string,
  args: readonly string[],
  input?: string,
): Promise<{ status: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(kubectl, ['--kubeconfig', kubeconfig, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (t: string) => (out += t));
    child.stderr.setEncoding('utf8').on('data', (t: string) => (err += t));
    const timer = setTimeout(() => child.kill(), 60_000);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, out, err });
    });
    child.stdin.end(input ?? '');
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` every 250 ms until it returns a value; fails after `timeoutMs` with the last error. */
export async function until<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline)
      throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (last error: ${String(last)})` : ''}`);
    await sleep(250);
  }
}

/** GET with a chosen Host header (fetch cannot set it). */
export function get(url: string, host?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: host ? { host } : {}, timeout: 20_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (t: string) => (body += t));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: no answer in 20 s`)));
    req.on('error', reject).end();
  });
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

export interface PrometheusProcess {
  readonly child: ChildProcess;
  /** e.g. http://127.0.0.1:41234 */
  readonly url: string;
  /** Its output so far (for failure messages). */
  log(): string;
  /** SIGTERM and wait for the exit. */
  stop(): Promise<void>;
}

/**
 * Prometheus with `config` (prometheus.yml text) in `root`, resolved once /-/ready answers. A free
 * port can be taken between the probe and Prometheus' listen: then it tries another (3 times).
 */
export async function startPrometheus(root: string, config: string): Promise<PrometheusProcess> {
  const configFile = join(root, 'prometheus.yml');
  writeFileSync(configFile, config);
  let log = '';
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const child = spawn(
      'prometheus',
      [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${join(root, `tsdb-${attempt}`)}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--storage.tsdb.retention.time=1h',
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout!.on('data', (d: Buffer) => (log += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    const up = await until('Prometheus up', 60_000, async () => {
      if (child.exitCode !== null) return false;
      const r = await fetch(`${url}/-/ready`);
      return r.ok ? true : undefined;
    }).catch((e: unknown) => {
      child.kill('SIGKILL');
      throw new Error(`${String(e)}\n${log}`);
    });
    if (up)
      return {
        child,
        url,
        log: () => log,
        async stop() {
          if (child.exitCode !== null) return;
          const exited = new Promise((r) => child.once('exit', r));
          child.kill('SIGTERM');
          await exited;
        },
      };
    if (attempt === 3) throw new Error(`Prometheus did not start:\n${log}`);
  }
}
