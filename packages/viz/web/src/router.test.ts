import { describe, expect, it } from 'vitest';
import { parseRoute, pathOf, type Route } from './router.js';

describe('dashboard routes', () => {
  it('round-trips every page through its path', () => {
    const routes: Route[] = [
      { page: 'overview' },
      { page: 'namespace', namespace: 'emojivoto' },
      { page: 'workload', namespace: 'emojivoto', name: 'web' },
      { page: 'workload', namespace: 'a b', name: 'x/y' },
    ];
    for (const r of routes) expect(parseRoute(pathOf(r))).toEqual(r);
  });

  it('answers the overview for unknown or broken paths', () => {
    expect(parseRoute('/nowhere')).toEqual({ page: 'overview' });
    expect(parseRoute('/namespaces/')).toEqual({ page: 'overview' });
    expect(parseRoute('/namespaces/%E0%A4%A/deployments')).toEqual({
      page: 'namespace',
      namespace: '%E0%A4%A',
    });
  });
});
