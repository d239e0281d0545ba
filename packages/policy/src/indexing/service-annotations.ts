// The Service (and route) annotations Linkerd's policy-controller reads for outbound policy:
// retry.linkerd.io/{http,grpc,limit,timeout}, timeout.linkerd.io/{request,response,idle},
// balancer.linkerd.io/failure-accrual* and balancer.alpha.linkerd.io/failure-accrual-*. A bad
// value is reported (annotation, value, what is expected) and that setting is left out.
import { parseDurationMs, parsePortList } from '@tsmesh/core';

export interface StatusRange {
  readonly start: number;
  readonly end: number;
}

export interface HttpRetry {
  readonly limit: number;
  readonly statusRanges: readonly StatusRange[];
  readonly timeoutMs: number | undefined;
}

export interface GrpcRetry {
  readonly limit: number;
  readonly conditions: {
    readonly cancelled: boolean;
    readonly deadlineExceeded: boolean;
    readonly resourceExhausted: boolean;
    readonly internal: boolean;
    readonly unavailable: boolean;
  };
  readonly timeoutMs: number | undefined;
}

export interface RouteTimeoutsMs {
  readonly requestMs?: number;
  readonly responseMs?: number;
  readonly idleMs?: number;
}

export interface BackoffMs {
  readonly minMs: number;
  readonly maxMs: number;
  readonly jitter: number;
}

export type FailureAccrual =
  | { readonly kind: 'consecutive'; readonly maxFailures: number; readonly backoff: BackoffMs }
  | {
      readonly kind: 'unified';
      readonly maxFailures: number;
      readonly backoff: BackoffMs;
      readonly successRateThreshold: number;
      readonly windowMs: number;
      readonly minRequests: number;
    };

export const Annotation = {
  RetryHttp: 'retry.linkerd.io/http',
  RetryGrpc: 'retry.linkerd.io/grpc',
  RetryLimit: 'retry.linkerd.io/limit',
  RetryTimeout: 'retry.linkerd.io/timeout',
  TimeoutRequest: 'timeout.linkerd.io/request',
  TimeoutResponse: 'timeout.linkerd.io/response',
  TimeoutIdle: 'timeout.linkerd.io/idle',
  FailureAccrual: 'balancer.linkerd.io/failure-accrual',
  MaxFailures: 'balancer.linkerd.io/failure-accrual-consecutive-max-failures',
  MinPenalty: 'balancer.linkerd.io/failure-accrual-consecutive-min-penalty',
  MaxPenalty: 'balancer.linkerd.io/failure-accrual-consecutive-max-penalty',
  JitterRatio: 'balancer.linkerd.io/failure-accrual-consecutive-jitter-ratio',
  SuccessRateThreshold: 'balancer.alpha.linkerd.io/failure-accrual-success-rate-threshold',
  SuccessRateWindow: 'balancer.alpha.linkerd.io/failure-accrual-success-rate-window',
  SuccessRateMinRequests: 'balancer.alpha.linkerd.io/failure-accrual-success-rate-min-requests',
  OpaquePorts: 'config.linkerd.io/opaque-ports',
} as const;

type Annotations = Readonly<Record<string, string>>;
export type AnnotationProblem = (message: string) => void;

function duration(a: Annotations, key: string, report: AnnotationProblem): number | undefined {
  const text = a[key];
  if (text === undefined) return undefined;
  const ms = parseDurationMs(text.trim());
  if (ms === undefined) report(`${key}: "${text}" is not a duration (write e.g. 500ms, 10s, 1m)`);
  return ms;
}

function integer(a: Annotations, key: string, report: AnnotationProblem, fallback: number): number {
  const text = a[key];
  if (text === undefined) return fallback;
  const n = Number(text.trim());
  if (!Number.isInteger(n) || n < 0) {
    report(`${key}: "${text}" is not a non-negative integer`);
    return fallback;
  }
  return n;
}

function ratio(
  a: Annotations,
  key: string,
  report: AnnotationProblem,
  fallback: number,
  max: number,
): number {
  const text = a[key];
  if (text === undefined) return fallback;
  const n = Number(text.trim());
  if (!Number.isFinite(n) || n < 0 || n > max) {
    report(`${key}: "${text}" is not a number from 0 to ${max}`);
    return fallback;
  }
  return n;
}

export function parseStatusRanges(text: string, report: AnnotationProblem): StatusRange[] {
  const out: StatusRange[] = [];
  for (const raw of text.split(',')) {
    const part = raw.trim().toLowerCase();
    if (part === '') continue;
    if (part === '5xx') out.push({ start: 500, end: 599 });
    else if (part === 'gateway-error') out.push({ start: 502, end: 504 });
    else {
      const m = /^(\d{3})(?:-(\d{3}))?$/.exec(part);
      const start = m ? Number(m[1]) : NaN;
      const end = m?.[2] !== undefined ? Number(m[2]) : start;
      if (!m || start < 100 || end > 599 || end < start) {
        report(
          `${Annotation.RetryHttp}: "${raw.trim()}" is not 5xx, gateway-error, a status or a status range`,
        );
        continue;
      }
      out.push({ start, end });
    }
  }
  return out;
}

/** Linkerd: a retry exists when any of limit (non-zero), timeout (non-zero) or conditions is set. */
function retryBase(
  a: Annotations,
  report: AnnotationProblem,
): { limit: number; timeoutMs: number | undefined; any: boolean } {
  const limitText = a[Annotation.RetryLimit];
  const limit = integer(a, Annotation.RetryLimit, report, 0);
  const timeoutMs = duration(a, Annotation.RetryTimeout, report);
  const any = (limitText !== undefined && limit !== 0) || (timeoutMs !== undefined && timeoutMs !== 0);
  return { limit: limit === 0 ? 1 : limit, timeoutMs: timeoutMs === 0 ? undefined : timeoutMs, any };
}

export function parseHttpRetry(a: Annotations, report: AnnotationProblem): HttpRetry | undefined {
  const text = a[Annotation.RetryHttp];
  const base = retryBase(a, report);
  if (text === undefined && !base.any) return undefined;
  return {
    limit: base.limit,
    statusRanges: text === undefined ? [] : parseStatusRanges(text, report),
    timeoutMs: base.timeoutMs,
  };
}

export function parseGrpcRetry(a: Annotations, report: AnnotationProblem): GrpcRetry | undefined {
  const text = a[Annotation.RetryGrpc];
  const base = retryBase(a, report);
  if (text === undefined && !base.any) return undefined;
  const conditions = {
    cancelled: false,
    deadlineExceeded: false,
    resourceExhausted: false,
    internal: false,
    unavailable: false,
  };
  for (const raw of (text ?? '').split(',')) {
    const c = raw.trim().toLowerCase();
    if (c === '') continue;
    if (c === 'cancelled') conditions.cancelled = true;
    else if (c === 'deadline-exceeded') conditions.deadlineExceeded = true;
    else if (c === 'resource-exhausted') conditions.resourceExhausted = true;
    else if (c === 'internal') conditions.internal = true;
    else if (c === 'unavailable') conditions.unavailable = true;
    else
      report(
        `${Annotation.RetryGrpc}: "${raw.trim()}" is not one of cancelled, deadline-exceeded, internal, resource-exhausted, unavailable`,
      );
  }
  return { limit: base.limit, conditions, timeoutMs: base.timeoutMs };
}

export function parseTimeouts(a: Annotations, report: AnnotationProblem): RouteTimeoutsMs {
  const out: { requestMs?: number; responseMs?: number; idleMs?: number } = {};
  const request = duration(a, Annotation.TimeoutRequest, report);
  const response = duration(a, Annotation.TimeoutResponse, report);
  const idle = duration(a, Annotation.TimeoutIdle, report);
  if (request !== undefined) out.requestMs = request;
  if (response !== undefined) out.responseMs = response;
  if (idle !== undefined) out.idleMs = idle;
  return out;
}

export function parseFailureAccrual(a: Annotations, report: AnnotationProblem): FailureAccrual | undefined {
  const kind = a[Annotation.FailureAccrual];
  if (kind === undefined) return undefined;
  const maxFailures = integer(a, Annotation.MaxFailures, report, 7);
  const backoff: BackoffMs = {
    minMs: duration(a, Annotation.MinPenalty, report) ?? 1000,
    maxMs: duration(a, Annotation.MaxPenalty, report) ?? 60_000,
    jitter: ratio(a, Annotation.JitterRatio, report, 0.5, 100),
  };
  if (kind === 'consecutive') return { kind: 'consecutive', maxFailures, backoff };
  if (kind === 'unified') {
    return {
      kind: 'unified',
      maxFailures,
      backoff,
      successRateThreshold: ratio(a, Annotation.SuccessRateThreshold, report, 0.8, 1),
      windowMs: duration(a, Annotation.SuccessRateWindow, report) ?? 10_000,
      minRequests: integer(a, Annotation.SuccessRateMinRequests, report, 5),
    };
  }
  report(`${Annotation.FailureAccrual}: "${kind}" is not consecutive or unified`);
  return undefined;
}

/** `config.linkerd.io/opaque-ports`: comma list of ports and ranges. */
export function parsePortSet(text: string): Set<number> {
  return parsePortList(text);
}
