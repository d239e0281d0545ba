// `tsmesh viz dashboard`: the web dashboard — the built React app and its JSON API over the
// metrics API — on 127.0.0.1:50750 (linkerd viz dashboard's port) until Ctrl-C. Numbers come from
// a Prometheus server (--prometheus-url) or, in local mode, from the proxies of the local control
// plane's pods (--state), scraped every interval with rates over the window.
import type { Command } from 'commander';
import { MeshError, MeshErrorCode } from '@tsmesh/core';
import {
  createPrometheusSource,
  createScrapeSource,
  createTapHttpHandler,
  podScrapeTargets,
  startDashboardServer,
  type DashboardServer,
  type DashboardSource,
  type TapHandler,
} from '@tsmesh/viz';
import { defaultStateDir } from '../local/index.js';
import { guarded } from './command-errors.js';
import { durationFlag } from './duration-flag.js';
import { untilInterrupted } from './up.js';
import { localPods } from './viz/viz-source.js';
import { localTapService } from './viz-tap.js';

/** linkerd viz dashboard's default port. */
export const DASHBOARD_PORT = 50750;

export interface DashboardOptions {
  readonly prometheusUrl?: string;
  /** Local mode: the state directory of `tsmesh up` / `tsmesh demo`. */
  readonly stateDir?: string;
  readonly windowMs?: number;
  readonly intervalMs?: number;
  readonly address?: string;
  readonly port?: number;
  readonly allowedHosts?: readonly string[];
  /** When the port is taken, take any free one instead of failing (`tsmesh demo`). */
  readonly anyPortIfTaken?: boolean;
  /** Told what does not work (e.g. tap without the issuer), the dashboard running anyway. */
  readonly onProblem?: (text: string) => void;
  readonly signal?: AbortSignal;
}

function portFlag(text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new MeshError(MeshErrorCode.InvalidArgument, `bad port ${JSON.stringify(text)}`, {
      where: '--port',
      hint: 'a number from 0 to 65535 (0: any free port)',
    });
  return port;
}

/**
 * Live top and tap for a local mesh: the dashboard is the tap client (it signs the tap identity's
 * certificate with the state directory's issuer, as `tsmesh viz tap` does), so whoever reaches
 * the dashboard — 127.0.0.1 by default — may tap, like linkerd's dashboard with its own account.
 * Undefined, with why, when the state directory's issuer cannot be read.
 */
function localTap(stateDir: string): { handler?: TapHandler; problem?: string } {
  try {
    const service = localTapService(stateDir);
    return {
      handler: createTapHttpHandler({
        service,
        authenticate: () => ({ user: 'tsmesh-dashboard', groups: ['system:authenticated'] }),
        authorize: async () => ({
          allowed: true,
          reason: 'local mode: the dashboard reads the state directory',
        }),
      }),
    };
  } catch (e) {
    return { problem: e instanceof MeshError ? e.describe() : (e as Error).message };
  }
}

/** The dashboard over Prometheus or the local mesh in `stateDir`; shared by the command and `tsmesh demo`. */
export async function startDashboard(options: DashboardOptions): Promise<DashboardServer> {
  const stateDir = options.stateDir ?? defaultStateDir();
  const source: DashboardSource = options.prometheusUrl
    ? createPrometheusSource({
        url: options.prometheusUrl,
        windowSeconds: (options.windowMs ?? 60_000) / 1000,
      })
    : createScrapeSource({
        // Asked at every refresh, so workloads started later show up.
        targets: async (signal) => podScrapeTargets(await localPods(stateDir, signal)),
        windowMs: options.windowMs ?? 10_000,
      });
  const tap = options.prometheusUrl ? {} : localTap(stateDir);
  if (tap.problem) options.onProblem?.(`live top and tap are off: ${tap.problem}`);
  const start = (port: number) =>
    startDashboardServer({
      source,
      ...(tap.handler ? { tap: tap.handler } : {}),
      address: options.address ?? '127.0.0.1',
      port,
      ...(options.intervalMs !== undefined ? { intervalMs: options.intervalMs } : {}),
      ...(options.allowedHosts ? { allowedHosts: options.allowedHosts } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  const port = options.port ?? DASHBOARD_PORT;
  return start(port).catch((e: unknown) => {
    if (options.anyPortIfTaken && port !== 0) return start(0);
    throw e;
  });
}

interface DashboardFlags {
  port: string;
  address: string;
  prometheusUrl?: string;
  state?: string;
  timeWindow?: string;
  interval?: string;
  allowedHost?: string[];
  show?: string;
}

/** Adds `dashboard` to the program's `viz` command (registered by registerVizCommand first). */
export function registerVizDashboardCommand(
  program: Command,
  out: (line: string) => void,
  err: (line: string) => void,
): void {
  const viz = program.commands.find((c) => c.name() === 'viz');
  if (!viz) throw new Error('registerVizDashboardCommand: register the viz command first');
  viz
    .command('dashboard')
    .description(
      'Serve the web dashboard: golden metrics, charts, routes, topology, authorization, top and tap',
    )
    .option('--port <port>', 'port to listen on (0: any free port)', String(DASHBOARD_PORT))
    .option('--address <address>', 'address to listen on', '127.0.0.1')
    .option('--prometheus-url <url>', 'query this Prometheus (default: scrape the local proxies directly)')
    .option('--state <dir>', 'local mode: the state directory of `tsmesh up` / `tsmesh demo`')
    .option(
      '-t, --time-window <window>',
      'the window rates are over (default 1m with Prometheus, 10s locally)',
    )
    .option('--interval <interval>', 'how often the numbers and charts refresh', '2s')
    .option(
      '--allowed-host <host>',
      'also accept this Host name (e.g. behind a proxy); repeatable',
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option('--show <what>', '"url": only print the URL line (for scripts)')
    .action(
      guarded('viz dashboard', err, async (o: DashboardFlags) => {
        if (o.show !== undefined && o.show !== 'url')
          throw new MeshError(MeshErrorCode.InvalidArgument, `unknown --show ${JSON.stringify(o.show)}`, {
            where: '--show',
            hint: 'use url',
          });
        const controller = new AbortController();
        const dashboard = await startDashboard({
          ...(o.prometheusUrl ? { prometheusUrl: o.prometheusUrl } : {}),
          ...(o.state ? { stateDir: o.state } : {}),
          windowMs:
            durationFlag(o.timeWindow, '--time-window', { minMs: 1000 }) ??
            (o.prometheusUrl ? 60_000 : 10_000),
          intervalMs: durationFlag(o.interval, '--interval', { minMs: 100 })!,
          address: o.address,
          port: portFlag(o.port),
          ...(o.allowedHost ? { allowedHosts: o.allowedHost } : {}),
          onProblem: err,
          signal: controller.signal,
        });
        if (o.show === 'url') out(dashboard.url);
        else {
          out(`tsmesh dashboard available at: ${dashboard.url}`);
          out(
            o.prometheusUrl
              ? `  numbers from Prometheus at ${o.prometheusUrl}`
              : `  numbers from the local proxies (${o.state ?? defaultStateDir()}); Ctrl-C stops it`,
          );
        }
        await untilInterrupted();
        controller.abort();
        await dashboard.close();
      }),
    );
}
