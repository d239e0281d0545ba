// The Grafana dashboard under grafana/ is importable as it is (an input for the Prometheus data
// source, unique panel ids, a target on every panel) and queries only Linkerd's proxy metric names
// and labels, so it works against tsmesh and Linkerd proxies alike.
import { readFileSync } from 'node:fs';
import { MetricLabel, ProxyMetric } from '@tsmesh/core';
import { describe, expect, it } from 'vitest';

interface Dashboard {
  uid: string;
  title: string;
  __inputs: { name: string; pluginId: string }[];
  templating: { list: { name: string; query: { query: string } }[] };
  panels: { id: number; title: string; targets: { expr: string; refId: string }[] }[];
}

const dashboard = JSON.parse(
  readFileSync(new URL('../grafana/tsmesh-proxy.json', import.meta.url), 'utf8'),
) as Dashboard;

const METRICS = new Set<string>(
  Object.values(ProxyMetric).flatMap((m) => [m, `${m}_bucket`, `${m}_count`, `${m}_sum`]),
);
// Proxy labels plus what the scrape configuration adds (namespace, pod, owner, …) and `le`.
const LABELS = new Set<string>([
  ...Object.values(MetricLabel),
  'namespace',
  'pod',
  'deployment',
  'instance',
  'job',
  'le',
]);

const expressions = [
  ...dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr)),
  ...dashboard.templating.list.map((v) => v.query.query),
];

describe('grafana/tsmesh-proxy.json', () => {
  it('is importable: Prometheus input, unique panel ids, every panel queries', () => {
    expect(dashboard.__inputs).toEqual([
      expect.objectContaining({ name: 'DS_PROMETHEUS', pluginId: 'prometheus' }),
    ]);
    expect(dashboard.uid).toBe('tsmesh-proxy');
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of dashboard.panels) expect(p.targets.length, p.title).toBeGreaterThan(0);
  });

  it("references only Linkerd's proxy metric names and labels", () => {
    for (const expr of expressions) {
      const selectors = [...expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^}]*)\}/g)];
      const bare = [...expr.matchAll(/label_values\(([a-zA-Z_:][a-zA-Z0-9_:]*)[,)]/g)];
      expect(selectors.length + bare.length, expr).toBeGreaterThan(0);
      for (const [, name, matchers] of selectors) {
        expect(METRICS.has(name!), `${name} in ${expr}`).toBe(true);
        for (const [, label] of matchers!.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)/g))
          expect(LABELS.has(label!), `label ${label} in ${expr}`).toBe(true);
      }
      for (const [, name] of bare) expect(METRICS.has(name!), `${name} in ${expr}`).toBe(true);
      for (const [, labels] of expr.matchAll(/\bby \(([^)]*)\)/g))
        for (const label of labels!.split(',').map((l) => l.trim()))
          expect(LABELS.has(label), `by ${label} in ${expr}`).toBe(true);
    }
  });
});
