import { describe, expect, it } from 'vitest';
import {
  parseGrpcConditions,
  parseHeaderDuration,
  parseHttpConditions,
  perRequestPolicy,
} from './request-headers.js';
import type { RetryPolicy } from './routing-plan.js';

describe('l5d-* request header parsing', () => {
  it('parses durations as the policy controller does', () => {
    expect(parseHeaderDuration('250ms')).toBe(250);
    expect(parseHeaderDuration('2s')).toBe(2000);
    expect(parseHeaderDuration(' 1m ')).toBe(60_000);
    expect(parseHeaderDuration('1h')).toBe(3_600_000);
    expect(parseHeaderDuration('1d')).toBe(86_400_000);
    expect(parseHeaderDuration('0')).toBe(0);
    for (const bad of ['5', '1.5s', '-1s', 's', '', '10us', '99999999999999999999d'])
      expect(parseHeaderDuration(bad)).toBeUndefined();
  });

  it('parses HTTP and gRPC retry conditions, skipping unknown items', () => {
    expect(parseHttpConditions('5xx, gateway-error,429,400-403,bogus,700,404-401')).toEqual([
      [500, 599],
      [502, 504],
      [429, 429],
      [400, 403],
    ]);
    expect([
      ...parseGrpcConditions('cancelled,Deadline-Exceeded,internal,resource-exhausted,unavailable,x'),
    ]).toEqual([1, 4, 13, 8, 14]);
  });

  it('overrides a rule retry policy and timeouts, and strips the headers', () => {
    const retry: RetryPolicy = {
      maxRetries: 1,
      maxRequestBytes: 1024,
      httpStatuses: [[500, 599]],
      grpcCodes: new Set([14]),
      timeoutMs: 100,
    };
    const p = perRequestPolicy(
      {
        accept: '*/*',
        'l5d-retry-limit': '3',
        'l5d-retry-timeout': '2s',
        'l5d-retry-grpc': 'internal',
        'l5d-timeout': '1s',
        'l5d-request-timeout': '5s',
        'l5d-response-timeout': '0',
      },
      retry,
      { requestMs: 10_000, responseMs: 300, idleMs: 50 },
    );
    expect(p.retry).toMatchObject({
      maxRetries: 3,
      timeoutMs: 2000,
      maxRequestBytes: 1024,
      httpStatuses: [[500, 599]],
    });
    expect([...(p.retry?.grpcCodes ?? [])]).toEqual([13]);
    // l5d-request-timeout wins over l5d-timeout; a zero response timeout turns it off.
    expect(p.timeouts).toEqual({ requestMs: 5000, responseMs: undefined, idleMs: 50 });
    expect(p.headers).toEqual({ accept: '*/*' });
  });

  it('makes a retry policy with Linkerd defaults when the rule has none; no headers, no change', () => {
    const p = perRequestPolicy({ 'l5d-retry-http': '503' }, undefined, {});
    expect(p.retry).toEqual({
      maxRetries: 1,
      maxRequestBytes: 64 * 1024,
      httpStatuses: [[503, 503]],
      grpcCodes: new Set(),
      backoff: { minMs: 25, maxMs: 250, jitter: 1 },
    });
    const headers = { accept: '*/*' };
    const same = perRequestPolicy(headers, undefined, { requestMs: 5 });
    expect(same.headers).toBe(headers);
    expect(same.retry).toBeUndefined();
    expect(same.timeouts).toEqual({ requestMs: 5 });
  });
});
