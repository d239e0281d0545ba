// Linkerd's inbound authorization families (linkerd2-proxy app/inbound policy metrics):
// inbound_{http,tcp}_authz_{allow,deny}_total, inbound_http_route_not_found_total and
// inbound_http_local_ratelimit_total, labelled with the target address, the Server (srv_*), the
// route (route_*), the authorization (authz_*) or rate-limit policy (ratelimit_*), and TLS.
import { MetricLabel, ProxyMetric } from '@tsmesh/core/data-plane';
import { Counter, type Registry } from 'prom-client';
import { BatchedCounter, labelSetKey, type PendingCount } from '../metrics/index.js';
import type { CompiledAuthz, CompiledRoute, CompiledServer, PolicyMeta } from './compile-server.js';
import type { RateLimitScope } from './rate-limiter.js';

/** The connection's side of every label set: target_addr and the TLS labels. */
export interface ConnectionLabels {
  readonly target_addr: string;
  readonly tls?: string;
  readonly client_id?: string;
  readonly no_tls_reason?: string;
}

const SERVER = [
  MetricLabel.TargetAddr,
  MetricLabel.SrvGroup,
  MetricLabel.SrvKind,
  MetricLabel.SrvName,
  MetricLabel.SrvPort,
  MetricLabel.Tls,
  MetricLabel.ClientId,
  MetricLabel.NoTlsReason,
] as const;
const ROUTE = [...SERVER, MetricLabel.RouteGroup, MetricLabel.RouteKind, MetricLabel.RouteName] as const;
const AUTHZ = [MetricLabel.AuthzGroup, MetricLabel.AuthzKind, MetricLabel.AuthzName] as const;
const RATELIMIT = ['ratelimit_group', 'ratelimit_kind', 'ratelimit_name', 'ratelimit_scope'] as const;

export interface PolicyMetrics {
  tcpAllow(conn: ConnectionLabels, port: number, server: CompiledServer, authz: CompiledAuthz): void;
  tcpDeny(conn: ConnectionLabels, port: number, server: CompiledServer): void;
  /** An open connection closed because a policy update no longer authorizes it. */
  tcpTerminate(conn: ConnectionLabels, port: number, server: CompiledServer): void;
  httpAllow(
    conn: ConnectionLabels,
    port: number,
    server: CompiledServer,
    route: CompiledRoute,
    authz: CompiledAuthz,
  ): void;
  httpDeny(conn: ConnectionLabels, port: number, server: CompiledServer, route: CompiledRoute): void;
  routeNotFound(conn: ConnectionLabels, port: number, server: CompiledServer): void;
  rateLimited(conn: ConnectionLabels, port: number, server: CompiledServer, scope: RateLimitScope): void;
}

/** srv_* and route_* labels for a request (also put on the inbound request metrics). */
export function routeLabels(port: number, server: CompiledServer, route: CompiledRoute | undefined) {
  return {
    srv_group: server.meta.group,
    srv_kind: server.meta.kind,
    srv_name: server.meta.name,
    srv_port: String(port),
    ...(route ? prefixed('route', route.meta) : {}),
  };
}

function prefixed(p: 'route' | 'authz' | 'ratelimit', m: PolicyMeta): Record<string, string> {
  return { [`${p}_group`]: m.group, [`${p}_kind`]: m.kind, [`${p}_name`]: m.name };
}

function base(conn: ConnectionLabels, port: number, server: CompiledServer): Record<string, string> {
  const out: Record<string, string> = {
    target_addr: conn.target_addr,
    srv_group: server.meta.group,
    srv_kind: server.meta.kind,
    srv_name: server.meta.name,
    srv_port: String(port),
  };
  if (conn.tls !== undefined) out.tls = conn.tls;
  if (conn.client_id !== undefined) out.client_id = conn.client_id;
  if (conn.no_tls_reason !== undefined) out.no_tls_reason = conn.no_tls_reason;
  return out;
}

export function createPolicyMetrics(registry: Registry): PolicyMetrics {
  const registers = [registry];
  // Every allowed request is counted here: through a child resolved once per label set and
  // flushed into prom-client when the registry collects (metrics/hot-path.ts), not an inc() that
  // validates and hashes the label object per request.
  const allowed = new BatchedCounter();
  allowed.attach(
    new Counter({
      name: ProxyMetric.InboundHttpAuthzAllowTotal,
      help: 'The total number of inbound HTTP requests that were authorized',
      labelNames: [...ROUTE, ...AUTHZ],
      registers,
      collect: () => allowed.flush(),
    }),
  );
  /** One child per distinct label set (connections from the same client share it). */
  const allowedByValues = new Map<string, PendingCount>();
  const httpDeny = new Counter({
    name: ProxyMetric.InboundHttpAuthzDenyTotal,
    help: 'The total number of inbound HTTP requests that were denied',
    labelNames: ROUTE,
    registers,
  });
  const notFound = new Counter({
    name: ProxyMetric.InboundHttpRouteNotFoundTotal,
    help: 'The total number of inbound HTTP requests that could not be associated with a route',
    labelNames: SERVER,
    registers,
  });
  const rateLimited = new Counter({
    name: ProxyMetric.InboundHttpLocalRatelimitTotal,
    help: 'The total number of inbound HTTP requests that were rate-limited',
    labelNames: [...SERVER, ...RATELIMIT],
    registers,
  });
  const tcpAllow = new Counter({
    name: ProxyMetric.InboundTcpAuthzAllowTotal,
    help: 'The total number of inbound TCP connections that were authorized',
    labelNames: [...SERVER, ...AUTHZ],
    registers,
  });
  const tcpDeny = new Counter({
    name: ProxyMetric.InboundTcpAuthzDenyTotal,
    help: 'The total number of inbound TCP connections that were denied',
    labelNames: SERVER,
    registers,
  });
  const tcpTerminate = new Counter({
    name: ProxyMetric.InboundTcpAuthzTerminateTotal,
    help: 'The total number of inbound TCP connections that were terminated due to an authorization change',
    labelNames: SERVER,
    registers,
  });
  const allowChildren = new WeakMap<
    ConnectionLabels,
    WeakMap<CompiledRoute, WeakMap<CompiledAuthz, PendingCount>>
  >();
  return {
    tcpTerminate(conn, port, server) {
      tcpTerminate.inc(base(conn, port, server));
    },
    tcpAllow(conn, port, server, authz) {
      tcpAllow.inc({ ...base(conn, port, server), ...prefixed('authz', authz.meta) });
    },
    tcpDeny(conn, port, server) {
      tcpDeny.inc(base(conn, port, server));
    },
    httpAllow(conn, port, server, route, authz) {
      // Every allowed request lands here: the labelled child is resolved once per connection,
      // route and authorization (all three objects live as long as the policy), not per request.
      let byRoute = allowChildren.get(conn);
      if (!byRoute) allowChildren.set(conn, (byRoute = new WeakMap()));
      let byAuthz = byRoute.get(route);
      if (!byAuthz) byRoute.set(route, (byAuthz = new WeakMap()));
      let child = byAuthz.get(authz);
      if (!child) {
        const labels = {
          ...base(conn, port, server),
          ...prefixed('route', route.meta),
          ...prefixed('authz', authz.meta),
        };
        const key = labelSetKey(labels);
        child = allowedByValues.get(key);
        if (!child) allowedByValues.set(key, (child = allowed.child(labels)));
        byAuthz.set(authz, child);
      }
      child.pending += 1;
    },
    httpDeny(conn, port, server, route) {
      httpDeny.inc({ ...base(conn, port, server), ...prefixed('route', route.meta) });
    },
    routeNotFound(conn, port, server) {
      notFound.inc(base(conn, port, server));
    },
    rateLimited(conn, port, server, scope) {
      const meta = server.rateLimit?.meta;
      rateLimited.inc({
        ...base(conn, port, server),
        ...(meta ? prefixed('ratelimit', meta) : {}),
        ratelimit_scope: scope,
      });
    },
  };
}
