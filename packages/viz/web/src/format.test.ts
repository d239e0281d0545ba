import { describe, expect, it } from 'vitest';
import { formatBytes, formatLatency, formatPercent, formatRps, healthOf, shortIdentity } from './format.js';

describe('dashboard number formats', () => {
  it('shows success rates as Linkerd does, with their health colour', () => {
    expect(formatPercent(undefined)).toBe('-');
    expect(formatPercent(1)).toBe('100%');
    expect(formatPercent(0.9123)).toBe('91.23%');
    expect([1, 0.95, 0.94, 0.9, 0.5, undefined].map(healthOf)).toEqual([
      'good',
      'good',
      'warning',
      'warning',
      'bad',
      'none',
    ]);
  });

  it('shows requests a second, latency and bytes with units', () => {
    expect([0, 0.001, 1.234, 250.4].map(formatRps)).toEqual(['0', '< 0.01', '1.23', '250']);
    expect([0, 0.5, 4.25, 37.6, 1500, NaN, Infinity].map(formatLatency)).toEqual([
      '0 ms',
      '0.50 ms',
      '4.3 ms',
      '38 ms',
      '1.50 s',
      '-',
      '-',
    ]);
    expect([0, 512, 2048].map(formatBytes)).toEqual(['0 B/s', '512 B/s', '2.0 KiB/s']);
  });

  it('shortens mesh identities to account.namespace', () => {
    expect(shortIdentity('web.emojivoto.serviceaccount.identity.linkerd.cluster.local')).toBe(
      'web.emojivoto',
    );
    expect(shortIdentity('')).toBe('');
  });
});
