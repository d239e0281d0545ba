import { describe, expect, test } from 'vitest';
import { parseServiceProfileSpec, quantityMillis } from './service-profile.js';

describe('parseServiceProfileSpec', () => {
  test('a full profile', () => {
    const parsed = parseServiceProfileSpec({
      routes: [
        {
          name: 'GET /books/{id}',
          condition: { method: 'GET', pathRegex: '/books/[^/]*' },
          responseClasses: [{ condition: { status: { min: 500, max: 599 } }, isFailure: true }],
          isRetryable: true,
          timeout: '300ms',
        },
      ],
      retryBudget: { retryRatio: 0.2, minRetriesPerSecond: 10, ttl: '10s' },
      dstOverrides: [{ authority: 'web-v2.shop.svc.cluster.local:80', weight: '500m' }],
    });
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.spec.routes[0]).toMatchObject({
      condition: { all: [{ method: 'GET' }, { pathRegex: '/books/[^/]*' }] },
      timeoutMs: 300,
      isRetryable: true,
    });
    expect(parsed.spec.retryBudget).toEqual({ retryRatio: 0.2, minRetriesPerSecond: 10, ttlMs: 10_000 });
    expect(parsed.spec.dstOverrides).toEqual([
      { authority: 'web-v2.shop.svc.cluster.local:80', weight: 5000 },
    ]);
  });

  test('problems name their fields', () => {
    const parsed = parseServiceProfileSpec({
      routes: [
        { name: '', condition: {} },
        { name: 'x', condition: { pathRegex: '(' }, timeout: 'soon' },
        {
          name: 'y',
          condition: { method: 'GET' },
          responseClasses: [{ condition: { status: { min: 600, max: 500 } } }],
        },
      ],
      retryBudget: { retryRatio: -1, minRetriesPerSecond: 1, ttl: 'x' },
      dstOverrides: [
        { authority: '', weight: 1 },
        { authority: 'a:1', weight: 'lots' },
      ],
      extra: true,
    });
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    const text = parsed.problems.join('\n');
    for (const field of [
      'spec.extra',
      'spec.routes[0].name',
      'spec.routes[0].condition',
      'spec.routes[1].condition.pathRegex',
      'spec.routes[1].timeout',
      'spec.routes[2].responseClasses[0].condition.status.min',
      'spec.retryBudget.retryRatio',
      'spec.retryBudget.ttl',
      'spec.dstOverrides[0].authority',
      'spec.dstOverrides[1].weight',
    ]) {
      expect(text).toContain(`${field}:`);
    }
    expect(parseServiceProfileSpec(undefined).ok).toBe(false);
  });

  test('quantities', () => {
    expect(quantityMillis('1')).toBe(1000);
    expect(quantityMillis('250m')).toBe(250);
    expect(quantityMillis(0.5)).toBe(500);
    expect(quantityMillis('-1')).toBeUndefined();
  });
});
