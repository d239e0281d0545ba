// ServiceProfiles → DestinationProfile, as Linkerd's profile translator builds them: routes with
// their conditions (several fields of one match become `all`), response classes, metrics label
// `route`, retryable flag and timeout; the retry budget (default 20 % / 10 per second / 10 s);
// dst_overrides with the port added to authorities without one and weights in ten-thousandths;
// parent_ref (the Service and port), profile_ref (the ServiceProfile); opaque_protocol; and, for
// IP and pod-name lookups, the endpoint.
import type { destination, httpTypes } from '@tsmesh/core';
import type { RequestMatch, ResponseMatch, ServiceProfileSpec } from '../domain/index.js';

const REGISTERED_METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'CONNECT', 'HEAD', 'TRACE'];

export interface ProfileInput {
  /** `svc.ns.svc.<domain>`; '' for endpoint profiles. */
  readonly fullyQualifiedName: string;
  readonly port: number;
  readonly service: { readonly name: string; readonly namespace: string } | undefined;
  readonly profile:
    { readonly name: string; readonly namespace: string; readonly spec: ServiceProfileSpec } | undefined;
  readonly opaqueProtocol: boolean;
  readonly endpoint: destination.WeightedAddr.$Properties | undefined;
}

type Duration = { seconds: number; nanos: number };

function toDuration(ms: number): Duration {
  return { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1_000_000 };
}

export const DEFAULT_RETRY_BUDGET: destination.RetryBudget.$Properties = Object.freeze({
  retryRatio: 0.2,
  minRetriesPerSecond: 10,
  ttl: { seconds: 10, nanos: 0 },
});

function toMethod(method: string): httpTypes.HttpMethod.$Properties {
  const index = REGISTERED_METHODS.indexOf(method);
  return index >= 0 ? { registered: index } : { unregistered: method };
}

export function toRequestMatch(m: RequestMatch): destination.RequestMatch.$Properties {
  if ('all' in m) return { all: { matches: m.all.map(toRequestMatch) } };
  if ('any' in m) return { any: { matches: m.any.map(toRequestMatch) } };
  if ('not' in m) return { not: toRequestMatch(m.not) };
  if ('pathRegex' in m) return { path: { regex: m.pathRegex } };
  return { method: toMethod(m.method) };
}

export function toResponseMatch(m: ResponseMatch): destination.ResponseMatch.$Properties {
  if ('all' in m) return { all: { matches: m.all.map(toResponseMatch) } };
  if ('any' in m) return { any: { matches: m.any.map(toResponseMatch) } };
  if ('not' in m) return { not: toResponseMatch(m.not) };
  return { status: { min: m.status.min, max: m.status.max } };
}

function hasPort(authority: string): boolean {
  return authority.startsWith('[') ? /\]:\d+$/.test(authority) : /^[^:]+:\d+$/.test(authority);
}

export function toDestinationProfile(input: ProfileInput): destination.DestinationProfile.$Properties {
  const out: destination.DestinationProfile.$Properties = {
    routes: [],
    retryBudget: DEFAULT_RETRY_BUDGET,
    dstOverrides: [],
    opaqueProtocol: input.opaqueProtocol,
    fullyQualifiedName: input.fullyQualifiedName,
  };
  if (input.endpoint) out.endpoint = input.endpoint;
  if (input.service) {
    out.parentRef = {
      resource: {
        group: 'core',
        kind: 'Service',
        name: input.service.name,
        namespace: input.service.namespace,
        port: input.port,
      },
    };
  }
  const profile = input.profile;
  if (!profile) return out;
  out.profileRef = {
    resource: {
      group: 'linkerd.io',
      kind: 'ServiceProfile',
      name: profile.name,
      namespace: profile.namespace,
    },
  };
  out.routes = profile.spec.routes.map((route) => {
    const r: destination.Route.$Properties = {
      condition: toRequestMatch(route.condition),
      responseClasses: route.responseClasses.map((rc) => ({
        condition: toResponseMatch(rc.condition),
        isFailure: rc.isFailure,
      })),
      metricsLabels: { route: route.name },
      isRetryable: route.isRetryable,
    };
    if (route.timeoutMs) r.timeout = toDuration(route.timeoutMs);
    return r;
  });
  const budget = profile.spec.retryBudget;
  if (budget) {
    out.retryBudget = {
      retryRatio: budget.retryRatio,
      minRetriesPerSecond: budget.minRetriesPerSecond,
      ttl: toDuration(budget.ttlMs),
    };
  }
  out.dstOverrides = profile.spec.dstOverrides.map((d) => ({
    authority: hasPort(d.authority) ? d.authority : `${d.authority}:${input.port}`,
    weight: d.weight,
  }));
  return out;
}
