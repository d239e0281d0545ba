// Authorization decisions per server and authorization, as `linkerd viz authz` lists them: the
// inbound proxies' `inbound_http_authz_allow_total` (by srv_*, authz_*, route_name) and
// `inbound_http_authz_deny_total` (by srv_*, route_name: a denial names no authorization), as
// rates over the window.
import { MetricLabel, ProxyMetric } from '@tsmesh/core';
import { groupKey, type Matchers, type WindowVectors } from '../metrics-api/window-vectors.js';

export interface AuthzRow {
  readonly namespace: string;
  readonly deployment: string;
  /** `kind:name` of the Server (or the default policy), e.g. `server:web-http`, `default:all-unauthenticated`. */
  readonly server: string;
  readonly route: string;
  /** `kind:name` of the authorization that allowed; '' on the row of denials. */
  readonly authorization: string;
  readonly allowedPerSec: number;
  readonly deniedPerSec: number;
}

const kindName = (labels: Readonly<Record<string, string>>, kind: string, name: string) =>
  labels[name] ? `${(labels[kind] ?? '').toLowerCase()}:${labels[name]}` : '';

export async function authzSummary(
  vectors: WindowVectors,
  q: { namespace?: string; deployment?: string },
): Promise<AuthzRow[]> {
  // These families are inbound-only and carry no direction label.
  const m: Record<string, string> = {};
  if (q.namespace) m.namespace = q.namespace;
  if (q.deployment) m.deployment = q.deployment;
  const server = [MetricLabel.SrvKind, MetricLabel.SrvName, MetricLabel.RouteName];
  const by = ['namespace', 'deployment', ...server];
  const [allowed, denied] = await Promise.all([
    vectors.increase(ProxyMetric.InboundHttpAuthzAllowTotal, m as Matchers, [
      ...by,
      MetricLabel.AuthzKind,
      MetricLabel.AuthzName,
    ]),
    vectors.increase(ProxyMetric.InboundHttpAuthzDenyTotal, m as Matchers, by),
  ]);
  const w = vectors.windowSeconds;
  const rows = new Map<string, AuthzRow>();
  const add = (labels: Readonly<Record<string, string>>, allowedN: number, deniedN: number) => {
    const authorization = kindName(labels, MetricLabel.AuthzKind, MetricLabel.AuthzName);
    const key = groupKey({ ...labels, authorization }, [...by, 'authorization']);
    const prev = rows.get(key);
    rows.set(key, {
      namespace: labels.namespace ?? '',
      deployment: labels.deployment ?? '',
      server: kindName(labels, MetricLabel.SrvKind, MetricLabel.SrvName),
      route: labels[MetricLabel.RouteName] ?? '',
      authorization,
      allowedPerSec: (prev?.allowedPerSec ?? 0) + allowedN / w,
      deniedPerSec: (prev?.deniedPerSec ?? 0) + deniedN / w,
    });
  };
  for (const s of allowed) add(s.labels, s.value, 0);
  for (const s of denied) add(s.labels, 0, s.value);
  return [...rows.values()].sort((a, b) =>
    [a.namespace, a.deployment, a.server, a.route, a.authorization]
      .join('\0')
      .localeCompare([b.namespace, b.deployment, b.server, b.route, b.authorization].join('\0')),
  );
}
