// Builders for the control-plane answers outbound tests send (OutboundPolicy, DestinationProfile),
// in the proxy API's protobuf shapes.
import type { destination, outbound } from '@tsmesh/core';

export const duration = (ms: number) => ({ seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 });

export interface TestBackend {
  /** Destination.Get path. */
  readonly path: string;
  readonly weight?: number;
  readonly failfastMs?: number;
}

export interface TestRule {
  readonly backends: readonly TestBackend[];
  readonly pathPrefix?: string;
  readonly timeouts?: { requestMs?: number; responseMs?: number };
  readonly retry?: { maxRetries: number; statuses: [number, number][]; timeoutMs?: number };
  /** RequestHeaderModifier / ResponseHeaderModifier filters (values as text or as bytes). */
  readonly requestHeaders?: TestHeaderEdits;
  readonly responseHeaders?: TestHeaderEdits;
}

export interface TestHeaderEdits {
  readonly add?: Record<string, string | Uint8Array>;
  readonly set?: Record<string, string | Uint8Array>;
  readonly remove?: readonly string[];
}

/** A header modifier message of http_route. */
const headerModifier = (e: TestHeaderEdits) => {
  const headers = (h: Record<string, string | Uint8Array> | undefined) => ({
    headers: Object.entries(h ?? {}).map(([name, v]) => ({
      name,
      value: typeof v === 'string' ? Buffer.from(v) : v,
    })),
  });
  return { add: headers(e.add), set: headers(e.set), remove: [...(e.remove ?? [])] };
};

const service = (authority: string) => {
  const [host = '', port = '80'] = authority.split(':');
  const [name = '', namespace = ''] = host.split('.');
  return { group: 'core', kind: 'Service', name, namespace, port: Number(port) };
};

/** An HTTP OutboundPolicy for the Service at `authority` (`name.ns.svc.cluster.local:port`). */
export function httpPolicy(
  authority: string,
  rules: readonly TestRule[],
  failureAccrual?: { maxFailures: number; minPenaltyMs: number; maxPenaltyMs: number },
): outbound.OutboundPolicy.$Properties {
  const http1 = {
    routes: [
      {
        metadata: {
          resource: {
            group: 'gateway.networking.k8s.io',
            kind: 'HTTPRoute',
            namespace: service(authority).namespace,
            name: 'test-route',
          },
        },
        rules: rules.map((r) => ({
          matches: r.pathPrefix ? [{ path: { prefix: r.pathPrefix } }] : [],
          backends: {
            randomAvailable: {
              backends: r.backends.map((b) => ({
                weight: b.weight ?? 1,
                backend: {
                  backend: {
                    metadata: { resource: service(b.path) },
                    balancer: {
                      discovery: { dst: { path: b.path } },
                      peakEwma: { defaultRtt: duration(30), decay: duration(10_000) },
                    },
                    queue: { capacity: 100, failfastTimeout: duration(b.failfastMs ?? 3000) },
                  },
                },
              })),
            },
          },
          ...(r.timeouts
            ? {
                timeouts: {
                  ...(r.timeouts.requestMs ? { request: duration(r.timeouts.requestMs) } : {}),
                  ...(r.timeouts.responseMs ? { response: duration(r.timeouts.responseMs) } : {}),
                },
              }
            : {}),
          ...(r.requestHeaders || r.responseHeaders
            ? {
                filters: [
                  ...(r.requestHeaders ? [{ requestHeaderModifier: headerModifier(r.requestHeaders) }] : []),
                  ...(r.responseHeaders
                    ? [{ responseHeaderModifier: headerModifier(r.responseHeaders) }]
                    : []),
                ],
              }
            : {}),
          ...(r.retry
            ? {
                retry: {
                  maxRetries: r.retry.maxRetries,
                  conditions: { statusRanges: r.retry.statuses.map(([start, end]) => ({ start, end })) },
                  ...(r.retry.timeoutMs ? { timeout: duration(r.retry.timeoutMs) } : {}),
                },
              }
            : {}),
        })),
      },
    ],
    ...(failureAccrual
      ? {
          failureAccrual: {
            consecutiveFailures: {
              maxFailures: failureAccrual.maxFailures,
              backoff: {
                minBackoff: duration(failureAccrual.minPenaltyMs),
                maxBackoff: duration(failureAccrual.maxPenaltyMs),
                jitterRatio: 0,
              },
            },
          },
        }
      : {}),
  };
  return {
    metadata: { resource: service(authority) },
    protocol: { detect: { timeout: duration(10_000), http1, http2: http1 } },
  };
}

/** A ServiceProfile with one retryable route (all paths) and a retry budget, optionally a traffic split. */
export function retryProfile(
  authority: string,
  budget: { ratio: number; minPerSecond: number; ttlMs: number },
  split?: readonly { authority: string; weight: number }[],
): destination.DestinationProfile.$Properties {
  return {
    fullyQualifiedName: authority.split(':')[0] ?? '',
    routes: [
      {
        condition: { path: { regex: '/.*' } },
        metricsLabels: { route: 'all' },
        isRetryable: true,
        responseClasses: [{ condition: { status: { min: 500, max: 599 } }, isFailure: true }],
      },
    ],
    retryBudget: {
      retryRatio: budget.ratio,
      minRetriesPerSecond: budget.minPerSecond,
      ttl: duration(budget.ttlMs),
    },
    dstOverrides: (split ?? []).map((s) => ({ authority: s.authority, weight: s.weight })),
  };
}

/** A ServiceProfile that only splits traffic. */
export function splitProfile(
  authority: string,
  split: readonly { authority: string; weight: number }[],
): destination.DestinationProfile.$Properties {
  return { fullyQualifiedName: authority.split(':')[0] ?? '', dstOverrides: split.map((s) => ({ ...s })) };
}
