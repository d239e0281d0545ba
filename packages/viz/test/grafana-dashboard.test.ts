// Every Grafana dashboard under grafana/ is importable as it is (one input for the Prometheus data
// source, a unique uid, unique panel ids, a query on every panel, template variables defined before
// use) and queries only metric names and labels that the proxies and the service mirror export —
// Linkerd's names — so it works against tsmesh and Linkerd alike.
//
// The names come from their sources: @tsmesh/core's ProxyMetric/MetricLabel, and, for families
// core does not list (the outbound route and balancer families, the policy rate-limit labels, the
// dst_* labels, the service mirror's gateway_* families), the literals of the files that register
// them (this package may not import the proxy or multicluster packages; the cli's integration test
// grafana-dashboards.test.ts checks the names again against the running proxies and a real
// GatewayProbe).
import { readdirSync, readFileSync } from 'node:fs';
import { MetricLabel, ProxyMetric } from '@tsmesh/core';
import { describe, expect, it } from 'vitest';

interface Target {
  expr: string;
  refId: string;
  datasource?: { type: string; uid: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type: string; uid: string };
  targets?: Target[];
}
interface Variable {
  name: string;
  type: string;
  datasource?: { type: string; uid: string };
  query: { query: string } | string;
  includeAll?: boolean;
  multi?: boolean;
}
interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  __inputs: { name: string; type: string; pluginId: string }[];
  templating: { list: Variable[] };
  panels: Panel[];
}

const dir = new URL('../grafana/', import.meta.url);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort();
const dashboards = files.map(
  (file) => [file, JSON.parse(readFileSync(new URL(file, dir), 'utf8')) as Dashboard] as const,
);

/** Metric and label names registered in another package's source: its snake_case string literals. */
function literalsOf(path: string): string[] {
  const text = readFileSync(new URL(path, import.meta.url), 'utf8');
  const literals = [...text.matchAll(/'([a-z][a-z0-9]*(?:_[a-z0-9]+)+)'/g)].map((m) => m[1]!);
  // mesh-metrics.ts builds each route family name as `${p}_<suffix>`, p = outbound_{http,grpc}_route.
  const routeFamilies = [...text.matchAll(/`\$\{p\}_([a-z_]+)`/g)].flatMap((m) =>
    ['http', 'grpc'].map((proto) => `outbound_${proto}_route_${m[1]!}`),
  );
  return [...literals, ...routeFamilies];
}

const sources = [
  '../../proxy/src/outbound/mesh-metrics.ts',
  '../../proxy/src/inbound-policy/policy-metrics.ts',
  '../../proxy/src/metrics/proxy-metrics.ts',
  '../../multicluster/src/probe/gateway-probe.ts',
].flatMap(literalsOf);

const FAMILIES = new Set<string>([...Object.values(ProxyMetric), ...sources]);
const isMetric = (name: string) =>
  FAMILIES.has(name) || FAMILIES.has(name.replace(/_(bucket|count|sum)$/, ''));
// Proxy labels plus what the scrape configuration adds (namespace, pod, owner, …) and `le`.
const LABELS = new Set<string>([
  ...Object.values(MetricLabel),
  ...sources,
  'namespace',
  'pod',
  'deployment',
  'instance',
  'job',
  'le',
]);
/** Grafana's own variables. */
const BUILT_IN = new Set(['__rate_interval', '__interval', '__range', '__all']);

/** The metric names a selector matches: its name, or the alternatives of its __name__ regex. */
function namesOf(name: string | undefined, matchers: string): string[] {
  if (name) return [name];
  const regex = /__name__=~"([a-z_]*)\(([a-z_|]+)\)([a-z_]*)"/.exec(matchers);
  expect(regex, `a selector without a metric name: {${matchers}}`).not.toBeNull();
  return regex![2]!.split('|').map((alt) => `${regex![1]}${alt}${regex![3]}`);
}

const queryOf = (v: Variable) => (typeof v.query === 'string' ? v.query : v.query.query);
const queriesOf = (d: Dashboard) =>
  d.panels.filter((p) => p.type !== 'row').flatMap((p) => (p.targets ?? []).map((t) => t.expr));

it('grafana/ holds the dashboards a Linkerd user expects', () => {
  expect(files).toEqual([
    'tsmesh-multicluster.json',
    'tsmesh-namespace.json',
    'tsmesh-proxy.json',
    'tsmesh-route.json',
    'tsmesh-service.json',
    'tsmesh-top-line.json',
    'tsmesh-workload.json',
  ]);
  const uids = dashboards.map(([, d]) => d.uid);
  expect(new Set(uids).size).toBe(uids.length);
  const titles = dashboards.map(([, d]) => d.title);
  expect(new Set(titles).size).toBe(titles.length);
});

it('finds the families and labels it checks against in their sources', () => {
  for (const name of ['gateway_alive', 'gateway_probe_latency_ms', 'gateway_probes'])
    expect(FAMILIES.has(name), name).toBe(true);
  for (const name of [
    'outbound_http_route_request_statuses_total',
    'outbound_grpc_route_retry_requests_total',
  ])
    expect(FAMILIES.has(name), name).toBe(true);
  for (const label of [
    'target_cluster_name',
    'probe_successful',
    'http_status',
    'parent_name',
    'dst_service',
  ])
    expect(LABELS.has(label), label).toBe(true);
});

describe.each(dashboards)('grafana/%s', (_file, dashboard) => {
  it('is importable: Prometheus input, uid, current schema, panels laid out on the grid', () => {
    expect(dashboard.__inputs).toEqual([
      expect.objectContaining({ name: 'DS_PROMETHEUS', type: 'datasource', pluginId: 'prometheus' }),
    ]);
    // Grafana refuses uids longer than 40 characters.
    expect(dashboard.uid).toMatch(/^tsmesh-[a-z0-9-]{1,33}$/);
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(39);
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const titles = dashboard.panels.filter((p) => p.type !== 'row').map((p) => p.title);
    expect(
      titles.filter((t, i) => titles.indexOf(t) !== i),
      'panel titles used twice',
    ).toEqual([]);
    for (const p of dashboard.panels) {
      expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
      if (p.type === 'row') continue;
      expect(p.datasource, p.title).toEqual({ type: 'prometheus', uid: '${DS_PROMETHEUS}' });
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      const refIds = p.targets!.map((t) => t.refId);
      expect(new Set(refIds).size, p.title).toBe(refIds.length);
      for (const t of p.targets!) expect(t.expr.trim(), p.title).not.toBe('');
    }
  });

  it('defines every variable it uses, before use, from label_values on the Prometheus input', () => {
    const defined = new Set<string>();
    const used = (text: string) => [...text.matchAll(/\$\{?([a-zA-Z_][a-zA-Z0-9_]*)/g)].map((m) => m[1]!);
    for (const v of dashboard.templating.list) {
      expect(v.type, v.name).toBe('query');
      expect(v.datasource, v.name).toEqual({ type: 'prometheus', uid: '${DS_PROMETHEUS}' });
      expect(queryOf(v), v.name).toMatch(/^label_values\(.+, [a-z_]+\)$/);
      for (const name of used(queryOf(v))) expect(defined.has(name), `$${name} in ${v.name}`).toBe(true);
      defined.add(v.name);
    }
    for (const expr of queriesOf(dashboard))
      for (const name of used(expr))
        expect(defined.has(name) || BUILT_IN.has(name), `$${name} in ${expr}`).toBe(true);
  });

  it('references only the metric names and labels the proxies and the service mirror export', () => {
    const expressions = [...queriesOf(dashboard), ...dashboard.templating.list.map(queryOf)];
    for (const expr of expressions) {
      // `name{…}`, or `{__name__=~"prefix(a|b)suffix", …}` for the same query over two families.
      const selectors = [...expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)?\{([^}]*)\}/g)].flatMap(
        ([, name, matchers]) => namesOf(name, matchers!).map((n) => [n, matchers!] as const),
      );
      const bare = [...expr.matchAll(/label_values\(([a-zA-Z_:][a-zA-Z0-9_:]*)[,)]/g)];
      expect(selectors.length + bare.length, expr).toBeGreaterThan(0);
      for (const [name, matchers] of selectors) {
        expect(isMetric(name), `${name} in ${expr}`).toBe(true);
        for (const [, label] of matchers.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)/g))
          if (label !== '__name__') expect(LABELS.has(label!), `label ${label} in ${expr}`).toBe(true);
      }
      for (const [, name] of bare) expect(isMetric(name!), `${name} in ${expr}`).toBe(true);
      for (const [, labels] of expr.matchAll(/\bby \(([^)]*)\)/g))
        for (const label of labels!.split(',').map((l) => l.trim()))
          expect(LABELS.has(label), `by ${label} in ${expr}`).toBe(true);
      for (const [, label] of expr.matchAll(/^label_values\(.*, ([a-z_]+)\)$/g))
        expect(LABELS.has(label!), `label_values of ${label}`).toBe(true);
    }
  });
});
