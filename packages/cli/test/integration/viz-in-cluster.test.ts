// `tsmesh viz metrics-api` and `tsmesh viz web` — the processes of viz install's metrics-api and web
// Deployments — run as real processes (the built CLI) against a REAL Prometheus (Debian's
// `prometheus`) scraping a small proxy-metrics endpoint every second: /ready on the admin port,
// the API's answers computed from Prometheus, a bad query a 400 with a hint while the process keeps
// serving, the web Host check (--enforced-host), and a clean exit on SIGTERM.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { built, cli } from './demo-process.js';
import { get, hasPrometheus, startPrometheus, until, type PrometheusProcess } from './viz-support.js';

if (!hasPrometheus) console.warn('viz-in-cluster test skipped: no prometheus (scripts/system-packages.mjs)');
if (!built) console.warn('viz-in-cluster test skipped: the CLI is not built (nx run @tsmesh/cli:build)');

interface Proc {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  url: string;
  adminUrl: string;
}

/** The built CLI as a child; resolves with the URLs of its "serving URL (admin URL)" line. */
async function startCli(args: string[]): Promise<Proc> {
  const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (t: string) => (output += t));
  child.stderr!.setEncoding('utf8').on('data', (t: string) => (output += t));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const m = await until(`tsmesh ${args.slice(0, 2).join(' ')} serving`, 30_000, async () => {
    if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}:\n${output}`);
    return /serving (http:\S+) \(admin (http:\S+)\)/.exec(output) ?? undefined;
  }).catch((e: unknown) => {
    child.kill('SIGKILL');
    throw e;
  });
  return { child, output: () => output, exited, url: m[1]!, adminUrl: m[2]! };
}

async function stopCli(p: Proc | undefined): Promise<number | null | undefined> {
  if (!p) return undefined;
  if (p.child.exitCode === null) p.child.kill('SIGTERM');
  const timer = setTimeout(() => p.child.kill('SIGKILL'), 15_000);
  const code = await p.exited;
  clearTimeout(timer);
  return code;
}

describe.skipIf(!built || !hasPrometheus)('viz metrics-api and web processes over a real Prometheus', () => {
  const root = mkdtempSync(join(tmpdir(), 'tsmesh-viz-incluster-'));
  let target: Server;
  let prometheus: PrometheusProcess | undefined;
  let api: Proc | undefined;
  let web: Proc | undefined;

  beforeAll(async () => {
    // The proxy of deploy/web: 90 % of its inbound requests succeed; counters grow per scrape.
    let n = 0;
    target = createServer((_req, res) => {
      n += 10;
      res.setHeader('content-type', 'text/plain; version=0.0.4');
      res.end(
        [
          `response_total{direction="inbound",tls="true",classification="success",status_code="200"} ${9 * n}`,
          `response_total{direction="inbound",tls="true",classification="failure",status_code="500"} ${n}`,
          `response_latency_ms_bucket{direction="inbound",le="10"} ${10 * n}`,
          `response_latency_ms_bucket{direction="inbound",le="+Inf"} ${10 * n}`,
          'process_start_time_seconds 1700000000',
          '',
        ].join('\n'),
      );
    });
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
    const targetPort = (target.address() as AddressInfo).port;
    prometheus = await startPrometheus(
      root,
      [
        'global:',
        '  scrape_interval: 1s',
        '  scrape_timeout: 900ms',
        'scrape_configs:',
        '  - job_name: linkerd-proxy',
        '    static_configs:',
        `      - targets: ['127.0.0.1:${targetPort}']`,
        '        labels: {namespace: demo, deployment: web, pod: web-0}',
        '',
      ].join('\n'),
    );
    api = await startCli([
      'viz',
      'metrics-api',
      '--addr=127.0.0.1:0',
      '--admin-addr=127.0.0.1:0',
      `--prometheus-url=${prometheus.url}`,
      '--time-window=10s',
    ]);
    web = await startCli([
      'viz',
      'web',
      '--addr=127.0.0.1:0',
      '--admin-addr=127.0.0.1:0',
      `--prometheus-url=${prometheus.url}`,
      '--time-window=10s',
      '--refresh=1s',
    ]);
  }, 120_000);

  afterAll(async () => {
    await stopCli(api);
    await stopCli(web);
    await prometheus?.stop();
    await new Promise((r) => target?.close(r));
    rmSync(root, { recursive: true, force: true });
  }, 60_000);

  it('metrics-api is ready and answers stat from Prometheus', async () => {
    for (const path of ['ready', 'live'])
      expect((await get(new URL(path, api!.adminUrl).href)).status).toBe(200);
    const row = await until('deploy/web in the metrics API', 45_000, async () => {
      const r = await get(new URL('api/stat?resource=deployment&namespace=demo', api!.url).href);
      if (r.status !== 200) throw new Error(`${r.status} ${r.body}`);
      const rows = (JSON.parse(r.body) as { rows: { name: string; successRate?: number; rps: number }[] })
        .rows;
      return rows.find((x) => x.name === 'web' && x.rps > 0 && x.successRate !== undefined);
    });
    expect(row.successRate).toBeCloseTo(0.9, 2);
    const edges = await get(new URL('api/edges?namespace=demo', api!.url).href);
    expect(edges.status, edges.body).toBe(200);
    const routes = await get(new URL('api/routes?resource=deploy/web&namespace=demo', api!.url).href);
    expect(routes.status, routes.body).toBe(200);
  });

  it('metrics-api refuses a bad query with a 400 and a hint, and keeps serving', async () => {
    const bad = await get(new URL('api/stat?resource=bogus', api!.url).href);
    expect(bad.status).toBe(400);
    const body = JSON.parse(bad.body) as { error: string; hint: string };
    expect(body.error).toContain('bogus');
    expect(body.hint).not.toBe('');
    expect((await get(new URL('ready', api!.adminUrl).href)).status).toBe(200);
    expect((await get(new URL('api/stat?resource=deployment', api!.url).href)).status).toBe(200);
    expect(api!.child.exitCode).toBeNull();
  });

  it('web is ready, serves the API over Prometheus to the web Service host only', async () => {
    expect((await get(new URL('ready', web!.adminUrl).href)).status).toBe(200);
    const serviceHost = 'web.linkerd-viz.svc.cluster.local:8084';
    const meta = await get(new URL('api/meta', web!.url).href, serviceHost);
    expect(meta.status, meta.body).toBe(200);
    expect(JSON.parse(meta.body)).toMatchObject({ mode: 'prometheus', windowSeconds: 10 });
    const refused = await get(new URL('api/meta', web!.url).href, 'evil.example:8084');
    expect(refused.status).toBe(403);
    expect(refused.body).toContain('--enforced-host');
    await until('deploy/web on the dashboard', 45_000, async () => {
      const r = await get(new URL('api/stat?resource=deployment&namespace=demo', web!.url).href, serviceHost);
      const rows = (JSON.parse(r.body) as { rows?: { name: string; rps: number }[] }).rows ?? [];
      return rows.some((x) => x.name === 'web' && x.rps > 0) ? true : undefined;
    });
    const bad = await get(new URL('api/stat?namespace=a%20b', web!.url).href, serviceHost);
    expect(bad.status).toBe(400);
    expect((JSON.parse(bad.body) as { hint: string }).hint).not.toBe('');
    expect((await get(new URL('api/meta', web!.url).href, serviceHost)).status).toBe(200);
  });

  it('both exit cleanly on SIGTERM', async () => {
    expect(await stopCli(api)).toBe(0);
    expect(await stopCli(web)).toBe(0);
    api = undefined;
    web = undefined;
  });
});
