// Every Grafana dashboard of @tsmesh/viz (packages/viz/grafana/*.json) against a REAL Prometheus
// (Debian's `prometheus`) scraping the running demo's proxies and a real service-mirror gateway
// probe: each template variable is resolved as Grafana resolves it (label_values through
// /api/v1/label/NAME/values?match[]=…, one real value picked), Grafana's own variables are
// replaced ($__rate_interval etc.), and EVERY panel query of EVERY dashboard goes through
// /api/v1/query: all must be accepted, and the golden-metric panels must answer with data. The
// metric names the dashboards use are also checked against the families the running proxies and
// the service mirror's GatewayProbe actually register.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GatewayProbe } from '@tsmesh/multicluster';
import { podScrapeTargets } from '@tsmesh/viz';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localPods } from '../../src/commands/viz.js';
import { built, startDemo, type DemoProcess } from './demo-process.js';
import { hasPrometheus, startPrometheus, until, type PrometheusProcess } from './viz-support.js';

interface Panel {
  id: number;
  type: string;
  title: string;
  targets?: { refId: string; expr: string }[];
}
interface Variable {
  name: string;
  query: { query: string };
  includeAll?: boolean;
}
interface Dashboard {
  uid: string;
  templating: { list: Variable[] };
  panels: Panel[];
}

const grafanaDir = new URL('../../../viz/grafana/', import.meta.url);
const dashboards = readdirSync(grafanaDir)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => JSON.parse(readFileSync(new URL(f, grafanaDir), 'utf8')) as Dashboard);

/** Values picked for variables when label_values offers them (the demo's busiest workload). */
const PREFERRED: Record<string, string> = {
  namespace: 'emojivoto',
  deployment: 'web',
  service: 'voting-svc',
  cluster: 'east',
};
/**
 * Grafana's own variables: the rate window a 1 s scrape interval gives ($__rate_interval is at
 * least four scrape intervals; 15 s keeps a few scrapes in every window on a loaded machine).
 */
const BUILT_IN: Record<string, string> = { __rate_interval: '15s', __interval: '2s', __range: '5m' };

/**
 * Panels that must answer with data over the demo's traffic (the others — denials, retries, errors,
 * traffic to other clusters — must be accepted, but the demo has none of that).
 */
const MUST_ANSWER: Record<string, string[]> = {
  'tsmesh-top-line': [
    'Global success rate',
    'Global request volume',
    'Global p95 latency',
    'Namespaces monitored',
    'Deployments monitored',
    'Success rate',
    'Request rate (mTLS and plaintext)',
    'Latency',
    'Success rate by namespace',
    'Request rate by namespace',
    'p95 latency by namespace',
    'mTLS share by namespace',
    'Open TCP connections by namespace',
  ],
  'tsmesh-namespace': [
    'Success rate',
    'Request volume',
    'p95 latency',
    'Meshed pods',
    'Success rate (inbound)',
    'Request rate (inbound)',
    'Latency (inbound)',
    'Success rate (outbound)',
    'Request rate (outbound)',
    'Latency (outbound)',
    'mTLS share of requests',
    'Open TCP connections',
  ],
  'tsmesh-workload': [
    'Inbound success rate',
    'Inbound request volume',
    'Inbound p95 latency',
    'Pods',
    'Success rate (inbound)',
    'Request rate (inbound, mTLS and plaintext)',
    'Latency (inbound)',
    'Success rate by client identity',
    'Request rate by client identity',
    'p95 latency by client identity',
    'Success rate (outbound)',
    'Request rate (outbound, mTLS and plaintext)',
    'Latency (outbound)',
    'Success rate by destination',
    'Request rate by destination',
    'p95 latency by destination',
    'mTLS share of requests',
    'HTTP authorizations (allowed)',
    'Open TCP connections',
    'TCP connections opened',
  ],
  'tsmesh-route': [
    'Route success rate',
    'Route request rate',
    'Route request duration (p50, p95)',
    'Responses by status',
    'Backend request rate',
    'Backend response duration (p95)',
    'Success rate by inbound route',
    'Request rate by inbound route',
    'p95 latency by inbound route',
    'Authorizations by inbound route',
  ],
  'tsmesh-multicluster': [
    'Gateway alive',
    'Gateway enabled',
    'Last probe latency',
    'Probe success rate',
    'Probe latency (p50, p95)',
    'Probes',
  ],
  'tsmesh-service': [
    'Success rate',
    'Request volume',
    'p95 latency',
    'mTLS share',
    'Success rate by client',
    'Request rate by client',
    'Latency by client',
    'Success rate by pod',
    'Request rate by pod',
    'p95 latency by pod',
    'Responses by status',
  ],
  'tsmesh-proxy': ['Success rate (inbound)', 'Requests per second (inbound)', 'Latency (inbound)'],
};

interface Answer {
  status: string;
  errorType?: string;
  error?: string;
  data?: { resultType: string; result: unknown[] } | string[];
}

async function prometheusGet(base: string, path: string, params: Record<string, string>): Promise<Answer> {
  const url = new URL(path, base);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  const res = await fetch(url, { signal: AbortSignal.timeout(20_000) });
  return (await res.json()) as Answer;
}

/** $name and ${name} replaced by the chosen values; an unknown variable is left as it is (and fails). */
const substitute = (text: string, values: Record<string, string>) =>
  text.replace(/\$\{?([a-zA-Z_][a-zA-Z0-9_]*)\}?/g, (m, name: string) => values[name] ?? m);

const serve = (server: Server) =>
  new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );

describe.skipIf(!built || !hasPrometheus)('Grafana dashboards against a real Prometheus', () => {
  const root = mkdtempSync(join(tmpdir(), 'tsmesh-grafana-'));
  let state = '';
  const stop = new AbortController();
  const servers: Server[] = [];
  const registry = new Registry();
  let demo: DemoProcess | undefined;
  let prometheus: PrometheusProcess | undefined;
  let url = '';
  let adminUrls: string[] = [];

  beforeAll(async () => {
    // The demo gives each workload 20 s to register with its control plane; on a machine loaded
    // far past its cores a start can miss that. A second start (fresh state) is allowed; both
    // failures are reported.
    const failures: string[] = [];
    for (let attempt = 1; attempt <= 2 && adminUrls.length === 0; attempt++) {
      state = join(root, `demo-${attempt}`);
      demo = startDemo(state, ['--duration', '300s']);
      try {
        adminUrls = Object.values((await demo.up()).admin);
      } catch (e) {
        failures.push(String(e));
        await demo.stop();
      }
    }
    if (adminUrls.length === 0) throw new Error(`the demo did not come up twice:\n${failures.join('\n')}`);
    // The pods as the local control plane lists them (polled: it may answer late on a loaded machine).
    const targets = await until("the demo's pods from the local control plane", 60_000, async () => {
      const t = podScrapeTargets(await localPods(state));
      return t.length >= 4 ? t : undefined;
    });
    expect(targets.map((t) => t.labels.deployment).sort()).toEqual(['emoji', 'vote-bot', 'voting', 'web']);

    // The service mirror's gateway probes, as it runs them, against two gateways' probe ports:
    // east answers /ready (alive unless 3 probes in a row fail: a slow loaded machine must not turn
    // it dead), west answers 503 (dead after its first probe).
    const gateway = (status: number) =>
      createServer((req, res) => {
        res.statusCode = req.url === '/ready' ? status : 404;
        res.end();
      });
    const [east, west] = [gateway(200), gateway(503)];
    servers.push(east, west);
    const ports = { east: await serve(east), west: await serve(west) };
    for (const cluster of ['east', 'west'] as const) {
      const probe = new GatewayProbe({
        clusterName: cluster,
        address: () => '127.0.0.1',
        spec: () => ({
          path: '/ready',
          port: ports[cluster],
          periodMs: 500,
          timeoutMs: 10_000,
          failureThreshold: cluster === 'east' ? 3 : 1,
        }),
        registry,
      });
      void probe.run(stop.signal);
    }
    const mirrorMetrics = createServer((_req, res) => {
      void registry.metrics().then((text) => {
        res.setHeader('content-type', registry.contentType);
        res.end(text);
      });
    });
    servers.push(mirrorMetrics);
    const mirrorPort = await serve(mirrorMetrics);

    // Prometheus reads YAML, and JSON is YAML: the scrape configuration linkerd-viz's Prometheus
    // would have, the pods' labels as its relabelling gives them.
    const config = {
      global: { scrape_interval: '1s', scrape_timeout: '900ms', evaluation_interval: '1s' },
      scrape_configs: [
        {
          job_name: 'linkerd-proxy',
          static_configs: targets.map((t) => ({
            targets: [new URL(t.url).host],
            labels: Object.fromEntries(Object.entries(t.labels).filter(([k]) => k !== 'job')),
          })),
        },
        {
          job_name: 'service-mirror',
          static_configs: [
            {
              targets: [`127.0.0.1:${mirrorPort}`],
              labels: { namespace: 'linkerd-multicluster', deployment: 'linkerd-service-mirror' },
            },
          ],
        },
      ],
    };
    prometheus = await startPrometheus(root, `${JSON.stringify(config, null, 2)}\n`);
    url = prometheus.url;

    // Every target up, then traffic in the rate window of the golden metrics and the probes.
    const ready = [
      ['sum(up)', (n: number) => n === 5],
      [
        'count(sum(rate(request_total{direction="inbound"}[15s])) by (deployment) > 0)',
        (n: number) => n === 3,
      ],
      [
        'count(histogram_quantile(0.95, sum(rate(response_latency_ms_bucket[15s])) by (le, deployment)))',
        (n: number) => n >= 3,
      ],
      ['count(sum(rate(gateway_probes[15s])) by (target_cluster_name) > 0)', (n: number) => n === 2],
    ] as const;
    let last = '';
    const scraped = await until('Prometheus has scraped the demo and the probes', 120_000, async () => {
      if (prometheus!.child.exitCode !== null || demo!.child.exitCode !== null) return false;
      for (const [query, ok] of ready) {
        const answer = await prometheusGet(url, '/api/v1/query', { query });
        const value = Number(
          ((answer.data as { result: { value: [number, string] }[] })?.result[0]?.value ?? [])[1],
        );
        if (!ok(value)) {
          last = `${query} = ${value} (${JSON.stringify(answer).slice(0, 300)})`;
          return undefined;
        }
      }
      return true;
    }).catch((e: unknown) => String(e));
    if (scraped !== true) {
      const targetsNow = await fetch(`${url}/api/v1/targets`).then((r) => r.text(), String);
      throw new Error(
        `${scraped === false ? 'Prometheus or the demo exited' : scraped}; last: ${last}\n` +
          `targets: ${targetsNow.slice(0, 2000)}\n${prometheus.log()}\n${demo?.output()}`,
      );
    }
  }, 450_000);

  afterAll(async () => {
    stop.abort();
    for (const s of servers) s.closeAllConnections?.();
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    await prometheus?.stop();
    await demo?.stop();
    rmSync(root, { recursive: true, force: true });
  }, 60_000);

  it('uses only metric families the proxies and the service mirror register', async () => {
    const families = new Set<string>();
    const texts = [
      ...(await Promise.all(adminUrls.map((u) => fetch(u).then((r) => r.text())))),
      await registry.metrics(),
    ];
    for (const text of texts) for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) families.add(m[1]!);
    const known = (name: string) =>
      families.has(name) || families.has(name.replace(/_(bucket|count|sum)$/, ''));
    const missing = new Set<string>();
    for (const d of dashboards)
      for (const expr of [
        ...d.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)),
        ...d.templating.list.map((v) => v.query.query),
      ])
        for (const [, name] of expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\{/g))
          if (!known(name!)) missing.add(`${d.uid}: ${name}`);
    expect([...missing]).toEqual([]);
  });

  it('runs every panel query of every dashboard; the golden-metric panels answer with data', async () => {
    const rejected: string[] = [];
    const empty: string[] = [];
    const answered: string[] = [];
    for (const d of dashboards) {
      // Variables in order, each query with the values chosen before it, as Grafana refreshes them.
      const values: Record<string, string> = { ...BUILT_IN };
      for (const v of d.templating.list) {
        const m = /^label_values\((.+), ([a-z_]+)\)$/.exec(v.query.query);
        expect(m, `${d.uid} $${v.name}: ${v.query.query}`).not.toBeNull();
        const answer = await prometheusGet(url, `/api/v1/label/${m![2]}/values`, {
          'match[]': substitute(m![1]!, values),
          start: String(Date.now() / 1000 - 300),
        });
        expect(answer.status, `${d.uid} $${v.name}: ${JSON.stringify(answer)}`).toBe('success');
        const options = (answer.data as string[]).filter((o) => o !== '');
        expect(options.length, `${d.uid} $${v.name} has no values: ${v.query.query}`).toBeGreaterThan(0);
        values[v.name] = options.includes(PREFERRED[v.name] ?? '') ? PREFERRED[v.name]! : options[0]!;
      }
      for (const panel of d.panels)
        for (const target of panel.targets ?? []) {
          const query = substitute(target.expr, values);
          const where = `${d.uid} "${panel.title}" ${target.refId}: ${query}`;
          expect(query, where).not.toMatch(/\$/);
          const answer = await prometheusGet(url, '/api/v1/query', { query });
          if (answer.status !== 'success') rejected.push(`${where} → ${answer.errorType}: ${answer.error}`);
          else if ((answer.data as { result: unknown[] }).result.length > 0)
            answered.push(`${d.uid}/${panel.title}`);
          else empty.push(where);
        }
    }
    expect(rejected).toEqual([]);
    const mustAnswer = Object.entries(MUST_ANSWER).flatMap(([uid, titles]) =>
      titles.map((t) => `${uid}/${t}`),
    );
    const silent = mustAnswer.filter((p) => !answered.includes(p));
    expect(silent, `golden panels without data; empty queries:\n${empty.join('\n')}`).toEqual([]);
    // Every listed title exists (a renamed panel must not pass unnoticed).
    const titles = new Set(dashboards.flatMap((d) => d.panels.map((p) => `${d.uid}/${p.title}`)));
    expect(mustAnswer.filter((p) => !titles.has(p))).toEqual([]);
  }, 120_000);

  it('the gateway panels tell the live gateway from the dead one', async () => {
    const answer = await prometheusGet(url, '/api/v1/query', {
      query: 'max(gateway_alive) by (target_cluster_name)',
    });
    const alive = Object.fromEntries(
      (answer.data as { result: { metric: Record<string, string>; value: [number, string] }[] }).result.map(
        (r) => [r.metric.target_cluster_name, r.value[1]],
      ),
    );
    expect(alive).toEqual({ east: '1', west: '0' });
  });
});
