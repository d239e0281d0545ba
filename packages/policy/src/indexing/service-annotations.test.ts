import { describe, expect, it } from 'vitest';
import { parseFailureAccrual, parseGrpcRetry, parseHttpRetry, parseTimeouts } from './service-annotations.js';

describe('Service annotations', () => {
  it('parses HTTP retries: 5xx, gateway-error, codes and ranges; limit and timeout', () => {
    const problems: string[] = [];
    const r = parseHttpRetry(
      {
        'retry.linkerd.io/http': '5xx, gateway-error,429,400-403,bogus',
        'retry.linkerd.io/limit': '3',
        'retry.linkerd.io/timeout': '250ms',
      },
      (m) => problems.push(m),
    );
    expect(r).toEqual({
      limit: 3,
      timeoutMs: 250,
      statusRanges: [
        { start: 500, end: 599 },
        { start: 502, end: 504 },
        { start: 429, end: 429 },
        { start: 400, end: 403 },
      ],
    });
    expect(problems).toEqual([expect.stringContaining('retry.linkerd.io/http: "bogus"')]);
    expect(parseHttpRetry({}, () => undefined)).toBeUndefined();
    // As Linkerd: a limit or a timeout alone turns retries on (no status ranges); 0 means unset.
    expect(parseHttpRetry({ 'retry.linkerd.io/limit': '2' }, () => undefined)).toEqual({
      limit: 2,
      statusRanges: [],
      timeoutMs: undefined,
    });
    expect(parseHttpRetry({ 'retry.linkerd.io/limit': '0' }, () => undefined)).toBeUndefined();
  });

  it('parses gRPC retry conditions', () => {
    expect(
      parseGrpcRetry({ 'retry.linkerd.io/grpc': 'cancelled,unavailable' }, () => undefined)?.conditions,
    ).toEqual({
      cancelled: true,
      deadlineExceeded: false,
      resourceExhausted: false,
      internal: false,
      unavailable: true,
    });
  });

  it('parses timeouts and failure accrual with Linkerd defaults; reports bad values', () => {
    const problems: string[] = [];
    expect(
      parseTimeouts({ 'timeout.linkerd.io/request': '5s', 'timeout.linkerd.io/idle': 'x' }, (m) =>
        problems.push(m),
      ),
    ).toEqual({
      requestMs: 5000,
    });
    expect(problems).toEqual([expect.stringContaining('timeout.linkerd.io/idle: "x" is not a duration')]);
    expect(
      parseFailureAccrual({ 'balancer.linkerd.io/failure-accrual': 'consecutive' }, () => undefined),
    ).toEqual({
      kind: 'consecutive',
      maxFailures: 7,
      backoff: { minMs: 1000, maxMs: 60_000, jitter: 0.5 },
    });
    expect(
      parseFailureAccrual({ 'balancer.linkerd.io/failure-accrual': 'unified' }, () => undefined),
    ).toMatchObject({ kind: 'unified', successRateThreshold: 0.8, windowMs: 10_000, minRequests: 5 });
  });
});
