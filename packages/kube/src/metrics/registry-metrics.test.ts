import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { MeshError } from '@tsmesh/core';
import { counterOn, gaugeOn, histogramOn } from './registry-metrics.js';

describe('metrics on a given registry', () => {
  it('registers once per registry and reuses the metric afterwards', async () => {
    const registry = new Registry();
    const a = counterOn(registry, 'x_total', 'X.', ['k']);
    const b = counterOn(registry, 'x_total', 'X.', ['k']);
    expect(b).toBe(a);
    a.inc({ k: 'v' });
    b.inc({ k: 'v' });
    expect((await registry.getSingleMetric('x_total')!.get()).values[0]!.value).toBe(2);
    // Another registry is independent: no module-level state.
    const other = new Registry();
    expect(counterOn(other, 'x_total', 'X.', ['k'])).not.toBe(a);
    histogramOn(registry, 'h_seconds', 'H.', [], [1]);
    gaugeOn(registry, 'g', 'G.', []);
    expect(
      registry
        .getMetricsAsArray()
        .map((m) => m.name)
        .sort(),
    ).toEqual(['g', 'h_seconds', 'x_total']);
  });

  it('refuses a name already registered as another type', () => {
    const registry = new Registry();
    counterOn(registry, 'same', 'S.', []);
    expect(() => gaugeOn(registry, 'same', 'S.', [])).toThrow(MeshError);
  });
});
