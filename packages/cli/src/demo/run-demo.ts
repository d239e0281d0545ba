// `tsmesh demo`: the local control plane (in this process), then each demo workload as its own
// `tsmesh run` process — its proxy plus the app — then a forward from 127.0.0.1:PORT to web's
// inbound proxy, and the live golden-metrics view read from every proxy's /metrics. Stops after
// --duration or on Ctrl-C, and leaves nothing running.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, closeSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DefaultPort, MeshError, MeshErrorCode } from '@tsmesh/core';
import { sleep, type KubeObject } from '@tsmesh/kube';
import {
  createTextLogger,
  EXIT_WITH_PARENT_ENV,
  startLocalControlPlane,
  stopChild,
  type LocalControlPlane,
} from '../local/index.js';
import { DEMO_NAMESPACE, type DemoAppName } from './demo-app.js';
import { demoManifests } from './demo-manifests.js';
import { GoldenWindow } from './golden-metrics.js';
import { createRedrawer, formatLines, formatTable, type ViewRow } from './metrics-view.js';
import { parsePrometheusText } from './prometheus-text.js';

export interface DemoOptions {
  /** State directory; default a fresh temporary one, removed afterwards. */
  readonly stateDir?: string;
  readonly durationMs?: number;
  /** Port on 127.0.0.1 forwarded to web's proxy; default 8080, or any free port if taken. */
  readonly webPort?: number;
  /** The tsmesh CLI entry script the workload processes run (default: this process's script). */
  readonly cliEntry: string;
  readonly tty: boolean;
  /** Raw output (the view redraws itself on a terminal). */
  readonly write: (text: string) => void;
  readonly refreshMs?: number;
  /** Controllers besides identity (default destination and policy). */
  readonly controllers?: readonly ('destination' | 'policy')[];
  /** Starts the web dashboard over this demo's state directory (`tsmesh demo` passes viz's). */
  readonly dashboard?: (
    stateDir: string,
    signal: AbortSignal,
  ) => Promise<{ readonly url: string; close(): Promise<void> }>;
  readonly signal?: AbortSignal;
}

/** The traffic each workload has: servers are called, web and the bot call out. */
const DIRECTIONS: Record<DemoAppName, readonly ('inbound' | 'outbound')[]> = {
  emoji: ['inbound'],
  voting: ['inbound'],
  web: ['inbound', 'outbound'],
  'vote-bot': ['outbound'],
};

interface Workload {
  readonly name: DemoAppName;
  port: number | undefined;
  readonly logFile: string;
  process?: ChildProcess;
  podIP?: string;
}

export async function freePort(host = '127.0.0.1', preferred = 0): Promise<number> {
  const tryPort = (port: number) =>
    new Promise<number | undefined>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(undefined));
      server.listen({ host, port, exclusive: true }, () => {
        const bound = (server.address() as AddressInfo).port;
        server.close(() => resolve(bound));
      });
    });
  return (preferred ? await tryPort(preferred) : undefined) ?? (await tryPort(0))!;
}

/** `count` distinct free ports on 127.0.0.1 (held together while chosen, then released). */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<Server>((resolve, reject) => {
          const server = createServer();
          server.once('error', reject);
          server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

async function waitFor<T>(
  what: string,
  timeoutMs: number,
  signal: AbortSignal,
  probe: () => Promise<T | undefined>,
  gone?: () => string | undefined,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !signal.aborted) {
    const fatal = gone?.();
    if (fatal) throw new MeshError(MeshErrorCode.Unavailable, fatal);
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    await sleep(100, signal);
  }
  throw new MeshError(
    signal.aborted ? MeshErrorCode.Aborted : MeshErrorCode.Timeout,
    `${what} did not happen in time`,
  );
}

/** Whether something accepts TCP connections at host:port (true), or not yet (undefined). */
function accepts(host: string, port: number): Promise<true | undefined> {
  return new Promise((resolve) => {
    const socket = connect(port, host);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(undefined));
  });
}

/** A TCP forward from 127.0.0.1:port to the target (what `kubectl port-forward` gives). */
async function startForward(port: number, target: { host: string; port: number }): Promise<Server> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    sockets.add(client).add(upstream);
    const done = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', done).on('close', done);
    upstream.on('error', done).on('close', done);
    client.pipe(upstream).pipe(client);
  });
  server.on('close', () => {
    for (const s of sockets) s.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port }, resolve);
  });
  return server;
}

export async function runDemo(options: DemoOptions): Promise<void> {
  const { write } = options;
  const line = (text: string) => write(`${text}\n`);
  const controller = new AbortController();
  const onAbort = () => controller.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const signal = controller.signal;
  const ownState = options.stateDir === undefined;
  const stateDir = options.stateDir ?? mkdtempSync(join(tmpdir(), 'tsmesh-demo-'));
  const manifestDir = join(stateDir, 'manifests');
  const logDir = join(stateDir, 'logs');
  mkdirSync(manifestDir, { recursive: true });
  mkdirSync(logDir, { recursive: true });

  const cpLog = openSync(join(logDir, 'control-plane.log'), 'a');
  const workloads: Workload[] = (['emoji', 'voting', 'web', 'vote-bot'] as const).map((name) => ({
    name,
    port: undefined,
    logFile: join(logDir, `${name}.log`),
  }));
  let plane: LocalControlPlane | undefined;
  let forward: Server | undefined;
  let dashboard: { readonly url: string; close(): Promise<void> } | undefined;
  let failed: unknown;
  const windows = new Map<string, GoldenWindow>();

  const rows = (): ViewRow[] =>
    workloads.flatMap((w) => {
      const window = windows.get(w.name);
      const dirs = DIRECTIONS[w.name];
      return dirs.map((direction) => ({ workload: w.name, direction, golden: window?.current(direction) }));
    });

  try {
    line(
      `tsmesh demo: control plane, and ${workloads.map((w) => w.name).join(', ')} each behind its own proxy`,
    );
    line(`  state and logs: ${stateDir}`);
    plane = await startLocalControlPlane({
      manifestDir,
      stateDir,
      adminPort: false,
      controllers: options.controllers,
      logger: createTextLogger((text) => writeFileSync(cpLog, `${text}\n`)),
      onManifestError: (e) => line(`manifest problem: ${e.describe()}`),
    });
    line(`  control plane: ${plane.controllers.join(', ')} (api ${plane.info.api})`);
    // App ports once the control plane holds its own, all held at once so they differ.
    const [webPort0, emojiPort, votingPort] = await freePorts(3);
    const ports = { web: webPort0!, emoji: emojiPort!, voting: votingPort! };
    for (const w of workloads) if (w.name !== 'vote-bot') w.port = ports[w.name];
    for (const [file, text] of Object.entries(demoManifests(ports)))
      writeFileSync(join(manifestDir, file), text);

    const start = async (w: Workload) => {
      const fd = openSync(w.logFile, 'a');
      const args = [
        options.cliEntry,
        'run',
        '--workload',
        w.name,
        '--namespace',
        DEMO_NAMESPACE,
        '--state',
        stateDir,
        ...(w.port ? ['--port', `${w.name === 'web' ? 'http' : 'grpc'}=${w.port}`] : []),
        '--',
        process.execPath,
        options.cliEntry,
        'demo-app',
        w.name,
      ];
      w.process = spawn(process.execPath, args, {
        stdio: ['ignore', fd, fd],
        env: { ...process.env, [EXIT_WITH_PARENT_ENV]: '1' },
      });
      closeSync(fd);
      const child = w.process;
      child.once('exit', () => {
        if (!signal.aborted)
          line(`! ${w.name} stopped unexpectedly (exit ${child.exitCode}); see ${w.logFile}`);
      });
      const gone = () => (child.exitCode !== null ? `${w.name} exited with ${child.exitCode}` : undefined);
      const fail = (err: unknown): never => {
        throw new MeshError(MeshErrorCode.Unavailable, `${w.name} did not start: ${(err as Error).message}`, {
          hint: `see ${w.logFile}`,
        });
      };
      // Bounds for a loaded machine (a workload is a Node process and its proxy starting); a
      // workload that exits ends the wait at once (gone).
      const pod = await waitFor(
        `${w.name} registering`,
        60_000,
        signal,
        async () => {
          const res = await fetch(new URL('/v1/pods', plane!.info.api));
          const { items } = (await res.json()) as { items: KubeObject[] };
          return items.find((p) => p.metadata?.labels?.app === w.name);
        },
        gone,
      ).catch(fail);
      w.podIP = (pod.status as { podIP: string }).podIP;
      await waitFor(
        `${w.name}'s proxy becoming ready`,
        60_000,
        signal,
        async () => {
          const res = await fetch(`http://${w.podIP}:${DefaultPort.Admin}/ready`);
          return res.status === 200 ? true : undefined;
        },
        gone,
      ).catch(fail);
      // A ready proxy is not a listening app: until the app accepts on its port, requests that
      // reach its proxy get 502 (the first page load raced this).
      const appPort = w.port;
      if (appPort !== undefined) {
        await waitFor(
          `${w.name} listening on 127.0.0.1:${appPort}`,
          30_000,
          signal,
          () => accepts('127.0.0.1', appPort),
          gone,
        ).catch(fail);
      }
      windows.set(w.name, new GoldenWindow(10_000));
      line(
        `  ${w.name.padEnd(8)} pod ${w.podIP}  proxy admin http://${w.podIP}:${DefaultPort.Admin}/metrics`,
      );
    };
    // The servers together, then the bot once web is ready.
    await Promise.all(workloads.filter((w) => w.name !== 'vote-bot').map(start));
    await start(workloads.find((w) => w.name === 'vote-bot')!);

    const web = workloads.find((w) => w.name === 'web')!;
    const webPort = await freePort('127.0.0.1', options.webPort ?? 8080);
    // Like a Service endpoint: web's pod IP at its app port, where its proxy listens.
    forward = await startForward(webPort, { host: web.podIP!, port: web.port! });
    dashboard = await options.dashboard?.(stateDir, signal);
    line('');
    line(`The app: http://127.0.0.1:${webPort}/ (web, through its proxy)`);
    if (dashboard) line(`The dashboard: ${dashboard.url} (golden metrics, topology, routes, top and tap)`);
    line(
      options.durationMs
        ? `Golden metrics below; stopping after ${Math.round(options.durationMs / 1000)}s (Ctrl-C stops earlier).`
        : 'Golden metrics below (last 10 s, from each proxy); Ctrl-C stops everything.',
    );
    line('');

    // --duration counts from here, once the app is up.
    const started = Date.now();
    const deadline = options.durationMs ? started + options.durationMs : Infinity;
    const timer = options.durationMs ? setTimeout(() => controller.abort(), options.durationMs) : undefined;
    const redraw = createRedrawer(write);
    const refreshMs = options.refreshMs ?? (options.tty ? 1000 : 5000);
    let lastPlain = 0;
    while (!signal.aborted && Date.now() < deadline) {
      await Promise.all(
        workloads.map(async (w) => {
          try {
            const res = await fetch(`http://${w.podIP}:${DefaultPort.Admin}/metrics`, {
              signal: AbortSignal.timeout(2000),
            });
            windows.get(w.name)?.add(Date.now(), parsePrometheusText(await res.text()));
          } catch {
            // the proxy may be restarting; keep the last figures
          }
        }),
      );
      const elapsed = Math.round((Date.now() - started) / 1000);
      if (options.tty) redraw([`tsmesh demo — ${elapsed}s`, ...formatTable(rows())]);
      else if (Date.now() - lastPlain >= refreshMs) {
        lastPlain = Date.now();
        for (const text of formatLines(elapsed, rows())) line(text);
      }
      await sleep(options.tty ? refreshMs : 1000, signal);
    }
    clearTimeout(timer);
    line('');
    line(`Since the app was up (${Math.round((Date.now() - started) / 1000)}s, each proxy):`);
    for (const text of formatTable(
      workloads.flatMap((w) =>
        DIRECTIONS[w.name].map((direction) => ({
          workload: w.name,
          direction,
          golden: windows.get(w.name)?.cumulative(direction, (Date.now() - started) / 1000),
        })),
      ),
    ))
      line(`  ${text}`);
  } catch (err) {
    failed = err;
  } finally {
    controller.abort();
    line('stopping: workloads, proxies, control plane');
    forward?.close();
    await dashboard?.close();
    await Promise.all(workloads.map((w) => stopChild(w.process, 8000)));
    await plane?.close();
    closeSync(cpLog);
    options.signal?.removeEventListener('abort', onAbort);
    if (ownState && !failed) rmSync(stateDir, { recursive: true, force: true });
    line(failed ? `demo failed; logs kept in ${logDir}` : 'stopped; nothing left running');
  }
  if (failed) throw failed;
}
