// Per-request retry and timeout policy from request headers, as linkerd2-proxy's outbound route
// extensions honour them — only on routes whose rule sets `allow_l5d_request_headers` (the policy
// controller's --allow-l5d-request-headers), and then the headers are taken off the request:
//   l5d-retry-http     overrides retry.linkerd.io/http   (5xx, gateway-error, NNN, NNN-MMM; comma list)
//   l5d-retry-grpc     overrides retry.linkerd.io/grpc   (cancelled, deadline-exceeded, internal,
//                                                         resource-exhausted, unavailable)
//   l5d-retry-limit    overrides retry.linkerd.io/limit
//   l5d-retry-timeout  overrides retry.linkerd.io/timeout (per attempt, until response headers)
//   l5d-timeout, l5d-request-timeout  override timeout.linkerd.io/request (the longer name wins)
//   l5d-response-timeout              overrides timeout.linkerd.io/response
// Durations are the policy controller's: an integer and a unit of ms, s, m, h or d ("0" alone is
// zero, which turns that timeout off). A header whose value does not parse is ignored. Without a route retry policy, any retry
// header makes one: limit 1 unless given, 64 KiB bodies, backoff 25-250 ms with full jitter.
import { parseDurationMs } from '@tsmesh/core/data-plane';
import type { RetryPolicy, RouteTimeouts } from './routing-plan.js';

type Headers = Record<string, string | string[]>;

export const L5D_REQUEST_HEADERS = [
  'l5d-retry-http',
  'l5d-retry-grpc',
  'l5d-retry-limit',
  'l5d-retry-timeout',
  'l5d-timeout',
  'l5d-request-timeout',
  'l5d-response-timeout',
] as const;

/** One whole number and one unit: no fractions, no compounds such as `1h30m`. */
const HEADER_DURATION = /^\d+(ms|s|m|h|d)?$/;

/** `250ms`, `2s`, `1m`, ... → milliseconds; undefined when it does not parse. */
export function parseHeaderDuration(value: string): number | undefined {
  const m = HEADER_DURATION.exec(value.trim());
  if (!m) return undefined;
  // A bare number is allowed only as zero.
  const ms = m[1] === undefined ? (Number(m[0]) === 0 ? 0 : undefined) : parseDurationMs(m[0]);
  return ms !== undefined && Number.isSafeInteger(ms) ? ms : undefined;
}

const statusCode = (s: string): number | undefined => {
  if (!/^\d+$/.test(s)) return undefined;
  const n = Number(s);
  return n >= 100 && n < 600 ? n : undefined;
};

/** `5xx,gateway-error,429,400-403` → inclusive status ranges (unknown items are skipped). */
export function parseHttpConditions(value: string): [number, number][] {
  const out: [number, number][] = [];
  for (const raw of value.split(',')) {
    const c = raw.trim().toLowerCase();
    if (c === '5xx') out.push([500, 599]);
    else if (c === 'gateway-error') out.push([502, 504]);
    else {
      const one = statusCode(c);
      if (one !== undefined) out.push([one, one]);
      else {
        const [a = '', b = ''] = c.split('-', 2);
        const lo = statusCode(a);
        const hi = statusCode(b);
        if (lo !== undefined && hi !== undefined && lo <= hi) out.push([lo, hi]);
      }
    }
  }
  return out;
}

const GRPC_CODES: Readonly<Record<string, number>> = {
  cancelled: 1,
  'deadline-exceeded': 4,
  'resource-exhausted': 8,
  internal: 13,
  unavailable: 14,
};

/** `cancelled,unavailable` → gRPC status codes (unknown items are skipped). */
export function parseGrpcConditions(value: string): Set<number> {
  const out = new Set<number>();
  for (const raw of value.split(',')) {
    const code = GRPC_CODES[raw.trim().toLowerCase()];
    if (code !== undefined) out.add(code);
  }
  return out;
}

export interface PerRequestPolicy {
  readonly retry: RetryPolicy | undefined;
  readonly timeouts: RouteTimeouts;
  /** The request headers without the l5d-* policy headers (the same object when none were sent). */
  readonly headers: Headers;
}

const one = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

/** The rule's retry and timeouts with the request's l5d-* overrides applied. */
export function perRequestPolicy(
  headers: Headers,
  retry: RetryPolicy | undefined,
  timeouts: RouteTimeouts,
): PerRequestPolicy {
  let present = false;
  for (const h of L5D_REQUEST_HEADERS)
    if (headers[h] !== undefined) {
      present = true;
      break;
    }
  if (!present) return { retry, timeouts, headers };
  const get = (name: string) => one(headers[name]);
  const http = get('l5d-retry-http');
  const grpc = get('l5d-retry-grpc');
  const limitText = get('l5d-retry-limit');
  const limit = limitText !== undefined && /^\d+$/.test(limitText.trim()) ? Number(limitText) : undefined;
  const retryTimeoutText = get('l5d-retry-timeout');
  const retryTimeout = retryTimeoutText === undefined ? undefined : parseHeaderDuration(retryTimeoutText);
  const httpStatuses = http === undefined ? undefined : parseHttpConditions(http);
  const grpcCodes = grpc === undefined ? undefined : parseGrpcConditions(grpc);

  let nextRetry = retry;
  if (retry) {
    nextRetry = {
      ...retry,
      ...(retryTimeout === undefined ? {} : { timeoutMs: retryTimeout || undefined }),
      ...(httpStatuses === undefined ? {} : { httpStatuses }),
      ...(grpcCodes === undefined ? {} : { grpcCodes }),
      ...(limit === undefined ? {} : { maxRetries: limit }),
    };
  } else if (
    httpStatuses !== undefined ||
    grpcCodes !== undefined ||
    limit !== undefined ||
    retryTimeout !== undefined
  ) {
    nextRetry = {
      maxRetries: limit ?? 1,
      maxRequestBytes: 64 * 1024,
      httpStatuses: httpStatuses ?? [],
      grpcCodes: grpcCodes ?? new Set(),
      ...(retryTimeout ? { timeoutMs: retryTimeout } : {}),
      backoff: { minMs: 25, maxMs: 250, jitter: 1 },
    };
  }

  const next: { requestMs?: number; responseMs?: number; idleMs?: number } = { ...timeouts };
  for (const name of ['l5d-timeout', 'l5d-request-timeout']) {
    const v = get(name);
    const ms = v === undefined ? undefined : parseHeaderDuration(v);
    if (ms !== undefined) next.requestMs = ms || undefined;
  }
  const resp = get('l5d-response-timeout');
  const respMs = resp === undefined ? undefined : parseHeaderDuration(resp);
  if (respMs !== undefined) next.responseMs = respMs || undefined;

  const rest: Headers = {};
  for (const k in headers)
    if (!(L5D_REQUEST_HEADERS as readonly string[]).includes(k)) rest[k] = headers[k] as string | string[];
  return { retry: nextRetry, timeouts: next, headers: rest };
}
