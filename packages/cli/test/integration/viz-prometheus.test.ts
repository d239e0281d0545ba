// `tsmesh viz stat|edges` against a REAL Prometheus (Debian's `prometheus`) scraping the running
// demo's proxies every second: the CLI's numbers from --prometheus-url agree with Prometheus'
// own answers to independently written queries for the same window, and the local direct-scrape
// mode (--state, no Prometheus) agrees with Prometheus too. Prometheus listens on 127.0.0.1 only,
// keeps its storage in a temporary directory and is stopped at the end.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { podScrapeTargets, queryPrometheus, type Series } from '@tsmesh/viz';
import { localPods } from '../../src/commands/viz.js';
import { built, startDemo, type DemoProcess } from './demo-process.js';
import { hasPrometheus, runTsmesh, sleep, startPrometheus, type PrometheusProcess } from './viz-support.js';

const run = async (args: string[]): Promise<string> => (await runTsmesh(args)).out;

interface Row {
  name: string;
  successRate?: number;
  rps: number;
  latencyMsP50?: number;
  latencyMsP95?: number;
  meshedPods: number;
}

const byName = (series: Series[], label = 'deployment'): Record<string, number> =>
  Object.fromEntries(series.map((s) => [s.labels[label] ?? '', s.value]));

describe.skipIf(!built || !hasPrometheus)('tsmesh viz against a real Prometheus scraping the demo', () => {
  const root = mkdtempSync(join(tmpdir(), 'tsmesh-viz-prom-'));
  const state = join(root, 'demo');
  let demo: DemoProcess;
  let prometheus: PrometheusProcess | undefined;
  let url = '';

  beforeAll(async () => {
    demo = startDemo(state, ['--duration', '150s']);
    await demo.up();
    const targets = podScrapeTargets(await localPods(state));
    expect(targets.map((t) => t.labels.deployment).sort()).toEqual(['emoji', 'vote-bot', 'voting', 'web']);
    const config = [
      'global:',
      '  scrape_interval: 1s',
      '  scrape_timeout: 900ms',
      '  evaluation_interval: 1s',
      'scrape_configs:',
      '  - job_name: linkerd-proxy',
      '    static_configs:',
      ...targets.map((t) => {
        const u = new URL(t.url);
        return `      - targets: ['${u.host}']\n        labels: ${JSON.stringify(Object.fromEntries(Object.entries(t.labels).filter(([k]) => k !== 'job')))}`;
      }),
    ].join('\n');
    prometheus = await startPrometheus(root, `${config}\n`);
    url = prometheus.url;
    // Every target up, then enough scrapes for a 10s window.
    const deadline = Date.now() + 60_000;
    let last = '';
    for (;;) {
      try {
        const up = await queryPrometheus(url, 'sum(up{job="linkerd-proxy"})');
        if (up[0]?.value === 4) break;
        last = JSON.stringify(up);
      } catch (e) {
        last = String(e);
      }
      if (Date.now() > deadline || prometheus.child.exitCode !== null) {
        const targetsNow = await fetch(`${url}/api/v1/targets`).then((r) => r.text(), String);
        throw new Error(
          `Prometheus did not scrape the proxies: ${last}\n${targetsNow}\n${config}\n${prometheus.log()}`,
        );
      }
      await sleep(500);
    }
    await sleep(15_000);
  }, 150_000);

  afterAll(async () => {
    await prometheus?.stop();
    await demo?.stop();
    rmSync(root, { recursive: true, force: true });
  }, 60_000);

  it('viz stat --prometheus-url agrees with Prometheus for the same window', async () => {
    const at = Date.now();
    const rows = JSON.parse(
      await run([
        'viz',
        'stat',
        'deploy',
        '-n',
        'emojivoto',
        '--prometheus-url',
        url,
        '-t',
        '10s',
        '-o',
        'json',
      ]),
    ) as Row[];
    const sel = '{direction="inbound", namespace="emojivoto"}';
    const [rps, ok, all, p50] = await Promise.all([
      queryPrometheus(url, `sum by (deployment) (rate(response_total${sel}[10s]))`, { atMs: at }),
      queryPrometheus(
        url,
        `sum by (deployment) (increase(response_total{direction="inbound", namespace="emojivoto", classification="success"}[10s]))`,
        { atMs: at },
      ),
      queryPrometheus(url, `sum by (deployment) (increase(response_total${sel}[10s]))`, { atMs: at }),
      queryPrometheus(
        url,
        `histogram_quantile(0.5, sum by (le, deployment) (irate(response_latency_ms_bucket${sel}[10s])))`,
        { atMs: at },
      ),
    ]);
    const [rpsOf, okOf, allOf, p50Of] = [rps, ok, all, p50].map((s) => byName(s)) as Record<
      string,
      number
    >[] as [Record<string, number>, Record<string, number>, Record<string, number>, Record<string, number>];
    const served = rows.filter((r) => r.rps > 0);
    expect(served.map((r) => r.name).sort()).toEqual(['emoji', 'voting', 'web']);
    for (const r of served) {
      expect(r.rps).toBeCloseTo(rpsOf[r.name]!, 0);
      expect(Math.abs(r.rps - rpsOf[r.name]!) / rpsOf[r.name]!).toBeLessThan(0.15);
      expect(r.successRate).toBeCloseTo(okOf[r.name]! / allOf[r.name]!, 1);
      // Linkerd's latency query uses irate (the last two scrapes), so a scrape landing between the
      // two evaluations moves it: a bucket's width of tolerance.
      expect(Math.abs(r.latencyMsP50! - p50Of[r.name]!)).toBeLessThanOrEqual(
        Math.max(3, 0.5 * p50Of[r.name]!),
      );
      expect(r.meshedPods).toBe(1);
    }
    // The demo's voting service fails some votes on purpose.
    expect(served.find((r) => r.name === 'voting')!.successRate).toBeLessThan(1);
  });

  it('direct scrapes (--state, no Prometheus) agree with Prometheus over the same window', async () => {
    const start = Date.now();
    const rows = JSON.parse(
      await run(['viz', 'stat', 'deploy', '-n', 'emojivoto', '--state', state, '-t', '10s', '-o', 'json']),
    ) as Row[];
    const seconds = Math.round((Date.now() - start) / 1000);
    await sleep(2000); // Prometheus' last scrape of the window
    const at = Date.now() - 1000;
    const sel = '{direction="inbound", namespace="emojivoto"}';
    const [rps, ok, all] = await Promise.all([
      queryPrometheus(url, `sum by (deployment) (rate(response_total${sel}[${seconds}s]))`, { atMs: at }),
      queryPrometheus(
        url,
        `sum by (deployment) (increase(response_total{direction="inbound", namespace="emojivoto", classification="success"}[${seconds}s]))`,
        { atMs: at },
      ),
      queryPrometheus(url, `sum by (deployment) (increase(response_total${sel}[${seconds}s]))`, { atMs: at }),
    ]);
    const [rpsOf, okOf, allOf] = [byName(rps), byName(ok), byName(all)];
    const served = rows.filter((r) => r.rps > 0);
    expect(served.map((r) => r.name).sort()).toEqual(['emoji', 'voting', 'web']);
    for (const r of served) {
      expect(Math.abs(r.rps - rpsOf[r.name]!) / rpsOf[r.name]!).toBeLessThan(0.25);
      expect(Math.abs(r.successRate! - okOf[r.name]! / allOf[r.name]!)).toBeLessThan(0.1);
    }
  }, 60_000);

  it('viz edges --prometheus-url shows the demo calls secured by mTLS with both identities', async () => {
    const edges = JSON.parse(
      await run([
        'viz',
        'edges',
        'deploy',
        '-n',
        'emojivoto',
        '--prometheus-url',
        url,
        '-t',
        '10s',
        '-o',
        'json',
      ]),
    ) as {
      src: { name: string };
      dst: { name: string };
      secured: boolean;
      clientId: string;
      serverId: string;
    }[];
    const web = edges.find((e) => e.src.name === 'web' && e.dst.name === 'emoji');
    expect(web).toMatchObject({
      secured: true,
      serverId: 'emoji.emojivoto.serviceaccount.identity.linkerd.cluster.local',
      clientId: 'web.emojivoto.serviceaccount.identity.linkerd.cluster.local',
    });
  });

  it("the Grafana dashboard's queries run on Prometheus and show the demo's traffic", async () => {
    const dashboard = JSON.parse(
      readFileSync(new URL('../../../viz/grafana/tsmesh-proxy.json', import.meta.url), 'utf8'),
    ) as { panels: { title: string; targets: { expr: string }[] }[] };
    const answered: Record<string, number> = {};
    for (const panel of dashboard.panels)
      for (const { expr } of panel.targets) {
        const promql = expr
          .replaceAll('$__rate_interval', '10s')
          .replaceAll('$namespace', 'emojivoto')
          .replaceAll('$deployment', '.*');
        answered[panel.title] = (answered[panel.title] ?? 0) + (await queryPrometheus(url, promql)).length;
      }
    expect(answered['Success rate (inbound)']).toBeGreaterThanOrEqual(3);
    expect(answered['Latency (inbound)']).toBeGreaterThanOrEqual(9);
    expect(answered['Share of requests on mTLS']).toBe(2);
  });
});
