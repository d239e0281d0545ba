// `tsmesh viz metrics-api` and `tsmesh viz web`: the processes of the metrics-api and web
// Deployments of `tsmesh viz install`. metrics-api serves the stat/routes/edges/authz JSON API over
// a Prometheus server (the dashboard's own API handlers); web serves the dashboard over the same
// Prometheus, bound to every address in the pod and refusing any Host that does not match
// --enforced-host (DNS rebinding), as linkerd-viz's web does, and live tap and top through the tap
// APIService with its own ServiceAccount (linkerd-viz binds web to the tap-admin ClusterRole), as
// linkerd-viz's web taps through the Kubernetes API. Each has an admin port with /live and /ready
// for the probes viz install renders, and runs until SIGTERM or SIGINT.
import type { Command } from 'commander';
import { MeshError, MeshErrorCode } from '@tsmesh/core';
import {
  createKubeApiTapHandler,
  createPrometheusSource,
  startAdminServer,
  startDashboardServer,
  startMetricsApiServer,
  VIZ_NAMESPACE,
} from '@tsmesh/viz';
import { loadKubeConfig, type KubeConnectionFlags } from '../../check/index.js';
import { guarded } from '../command-errors.js';
import { durationFlag } from '../duration-flag.js';
import { untilInterrupted } from '../up.js';

/** The Host names of the web Service in namespace `ns` (and the loopback ones, for port-forward). */
export function defaultEnforcedHost(ns: string, clusterDomain: string): string {
  const dots = (s: string) => s.replaceAll('.', '\\.');
  return `^(localhost|127\\.0\\.0\\.1|web\\.${dots(ns)}\\.svc\\.${dots(clusterDomain)}|web\\.${dots(ns)}\\.svc|\\[::1\\])(:\\d+)?$`;
}

/** host:port (an empty host is every address). */
export function listenAddress(addr: string, flag: string): { host: string; port: number } {
  const colon = addr.lastIndexOf(':');
  const port = Number(addr.slice(colon + 1));
  if (colon < 0 || addr.slice(colon + 1) === '' || !Number.isInteger(port) || port < 0 || port > 65535)
    throw new MeshError(MeshErrorCode.InvalidArgument, `bad address ${JSON.stringify(addr)}`, {
      where: flag,
      hint: 'host:port, e.g. 0.0.0.0:8085 (port 0: any free one)',
    });
  return { host: addr.slice(0, colon).replace(/^\[|\]$/g, '') || '0.0.0.0', port };
}

function prometheusSource(url: string | undefined, window: string) {
  if (!url)
    throw new MeshError(MeshErrorCode.InvalidArgument, 'no Prometheus URL', {
      where: '--prometheus-url',
      hint: 'e.g. --prometheus-url=http://prometheus.linkerd-viz.svc.cluster.local:9090',
    });
  return createPrometheusSource({
    url,
    windowSeconds: durationFlag(window, '--time-window', { what: 'time window', minMs: 1000 }) / 1000,
  });
}

/** Runs until SIGTERM or SIGINT, then closes what `start` opened (signal handlers removed on exit). */
export async function serveUntilSignalled(start: (signal: AbortSignal) => Promise<() => Promise<void>>) {
  const stop = new AbortController();
  const interrupted = untilInterrupted(stop.signal).then(() => stop.abort());
  try {
    const close = await start(stop.signal);
    await interrupted;
    await close();
  } finally {
    stop.abort();
  }
}

interface CommonFlags {
  addr: string;
  adminAddr: string;
  prometheusUrl?: string;
  timeWindow: string;
}

export function registerVizInClusterServers(viz: Command, err: (line: string) => void): void {
  viz
    .command('metrics-api')
    .description(
      'Run the metrics API (the metrics-api Deployment of viz install): stat, routes, edges and authz as JSON over Prometheus',
    )
    .option('--addr <host:port>', 'the API listener', '0.0.0.0:8085')
    .option('--admin-addr <host:port>', 'the admin listener (/live, /ready)', '0.0.0.0:9995')
    .option('--prometheus-url <url>', 'the Prometheus server to query')
    .option('-t, --time-window <window>', 'the window rates are over', '1m')
    .action(
      guarded('viz metrics-api', err, async (o: CommonFlags) => {
        const api = listenAddress(o.addr, '--addr');
        const admin = listenAddress(o.adminAddr, '--admin-addr');
        const source = prometheusSource(o.prometheusUrl, o.timeWindow);
        await serveUntilSignalled(async (signal) => {
          const server = await startMetricsApiServer({
            source,
            address: api.host,
            port: api.port,
            adminAddress: admin.host,
            adminPort: admin.port,
            signal,
          });
          err(`viz metrics-api: serving ${server.url} (admin ${server.adminUrl}) over ${o.prometheusUrl}`);
          return () => server.close();
        });
      }),
    );

  viz
    .command('web')
    .description('Run the web dashboard in the cluster (the web Deployment of viz install) over Prometheus')
    .option('--addr <host:port>', 'the dashboard listener', '0.0.0.0:8084')
    .option('--admin-addr <host:port>', 'the admin listener (/live, /ready)', '0.0.0.0:9994')
    .option('--prometheus-url <url>', 'the Prometheus server to query')
    .option('-t, --time-window <window>', 'the window rates are over', '1m')
    .option(
      '--enforced-host <regexp>',
      'the Host header must match this (DNS-rebinding protection; default: the web Service names in linkerd-viz)',
    )
    .option('--refresh <interval>', 'how often the charts get a point', '10s')
    .option(
      '--kubeconfig <file>',
      'the Kubernetes API live tap goes through (default: in-cluster, the pod’s ServiceAccount)',
    )
    .option('--context <name>', 'kubeconfig context')
    .option('--no-tap', 'serve no live tap and top')
    .action(
      guarded(
        'viz web',
        err,
        async (
          o: CommonFlags & KubeConnectionFlags & { enforcedHost?: string; refresh: string; tap: boolean },
        ) => {
          const web = listenAddress(o.addr, '--addr');
          const admin = listenAddress(o.adminAddr, '--admin-addr');
          const source = prometheusSource(o.prometheusUrl, o.timeWindow);
          const hostText = o.enforcedHost ?? defaultEnforcedHost(VIZ_NAMESPACE, 'cluster.local');
          let enforcedHost: RegExp;
          try {
            enforcedHost = new RegExp(hostText);
          } catch (e) {
            throw new MeshError(MeshErrorCode.InvalidArgument, (e as Error).message, {
              where: '--enforced-host',
              hint: 'a JavaScript regular expression, e.g. ^(localhost|web\\.linkerd-viz\\.svc)(:\\d+)?$',
            });
          }
          const intervalMs = durationFlag(o.refresh, '--refresh', { what: 'refresh interval', minMs: 100 });
          const tap = o.tap ? createKubeApiTapHandler({ kubeConfig: loadKubeConfig(o) }) : undefined;
          await serveUntilSignalled(async (signal) => {
            const adminServer = await startAdminServer({ address: admin.host, port: admin.port });
            let dashboard;
            try {
              dashboard = await startDashboardServer({
                source,
                address: web.host,
                port: web.port,
                enforcedHost,
                intervalMs,
                ...(tap ? { tap: (req, res) => void tap(req, res) } : {}),
                signal,
              });
            } catch (e) {
              await adminServer.close();
              throw e;
            }
            err(`viz web: serving ${dashboard.url} (admin ${adminServer.url}) over ${o.prometheusUrl}`);
            return async () => {
              await Promise.all([dashboard.close(), adminServer.close()]);
            };
          });
        },
      ),
    );
}
