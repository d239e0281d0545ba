import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { BatchedCounter, FastHistogram, LabelSetCache } from './hot-path.js';

const BUCKETS = [1, 2, 5, 10, 100];

describe('FastHistogram', () => {
  it('prints exactly what a prom-client Histogram prints for the same observations', async () => {
    const mine = new Registry();
    const theirs = new Registry();
    const fast = new FastHistogram('latency_ms', 'Latency.', BUCKETS, [mine]);
    const reference = new Histogram({
      name: 'latency_ms',
      help: 'Latency.',
      labelNames: ['a', 'b'],
      buckets: BUCKETS,
      registers: [theirs],
    });
    const sets = [
      { a: 'x', b: '1' },
      { a: 'y', b: '' },
    ];
    const children = sets.map((l) => fast.child(l));
    const values = [0, 0.5, 1, 1.5, 5, 7, 99.9, 100, 100.1, 1e6];
    values.forEach((v, i) => {
      const k = i % 2;
      children[k]?.observe(v);
      reference.observe(sets[k] as Record<string, string>, v);
    });
    expect(await mine.metrics()).toBe(await theirs.metrics());
    fast.reset();
    reference.reset();
    expect(await mine.metrics()).toBe(await theirs.metrics());
  });
});

describe('BatchedCounter', () => {
  it('reaches the prom-client Counter when the registry collects', async () => {
    const registry = new Registry();
    const batched = new BatchedCounter();
    batched.attach(
      new Counter({
        name: 'requests_total',
        help: 'Requests.',
        labelNames: ['t'],
        registers: [registry],
        collect: () => batched.flush(),
      }),
    );
    const a = batched.child({ t: 'a' });
    a.pending += 3;
    expect(await registry.metrics()).toContain('requests_total{t="a"} 3');
    a.pending += 2;
    expect(await registry.metrics()).toContain('requests_total{t="a"} 5');
  });
});

describe('LabelSetCache', () => {
  it('resolves a label set once, by object and by values, leaving out undefined labels', () => {
    let made = 0;
    const cache = new LabelSetCache((labels) => ({ labels, n: ++made }));
    const one = { x: '1', y: undefined };
    expect(cache.get(one)).toBe(cache.get(one));
    expect(cache.get({ x: '1' })).toBe(cache.get(one));
    expect(cache.get({ x: '2' }).labels).toEqual({ x: '2' });
    expect(cache.get(one).labels).toEqual({ x: '1' });
    expect(made).toBe(2);
  });
});
