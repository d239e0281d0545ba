// A compiled workload port (core engine) → io.linkerd.proxy.inbound.Server, as Linkerd's
// policy-controller writes it: protocol (Detect 10s with HTTP routes and the local rate limit,
// HTTP/1, HTTP/2, gRPC, opaque, TLS), server-level authorizations, per-route authorizations (only
// the policies that target the route; the synthesized `default` route has none, `probe` has the
// probe authorization), and the server labels.
import type {
  ClientAuthorization,
  CompiledPort,
  CompiledRateLimit,
  CompiledRoute,
  inbound,
  NetworkMatch,
} from '@tsmesh/core';
import {
  defaultMeta,
  defined,
  durationMsg,
  grpcFilterMsg,
  grpcMatchMsg,
  hostMatchMsg,
  httpFilterMsg,
  httpMatchMsg,
  networkMsg,
  resourceMeta,
  type Msg,
} from './proto-convert.js';

export const INBOUND_DETECT_TIMEOUT_MS = 10_000;

function authzLabels(a: ClientAuthorization): Record<string, string> {
  switch (a.ref.kind) {
    case 'default':
      return { group: '', kind: 'default', name: a.ref.name };
    case 'ServerAuthorization':
      return { group: 'policy.linkerd.io', kind: 'serverauthorization', name: a.ref.name };
    case 'AuthorizationPolicy':
      return { group: 'policy.linkerd.io', kind: 'authorizationpolicy', name: a.ref.name };
  }
}

export function authzMsg(a: ClientAuthorization, clusterNetworks: readonly NetworkMatch[]): Msg {
  const labels = authzLabels(a);
  const metadata =
    a.ref.kind === 'default'
      ? defaultMeta(a.ref.name)
      : resourceMeta({ group: labels.group as string, kind: labels.kind as string, name: a.ref.name });
  const networks = (a.networks.length > 0 ? a.networks : clusterNetworks).map(networkMsg);
  let authentication: Msg;
  const authn = a.authentication;
  if (authn.kind === 'unauthenticated') authentication = { unauthenticated: {} };
  else if (authn.kind === 'tls-unauthenticated') authentication = { meshTLS: { unauthenticated: {} } };
  else {
    authentication = {
      meshTLS: {
        identities: {
          identities: [...authn.exact].map((name) => ({ name })),
          suffixes: authn.suffixes.map((s) => ({
            parts: s.kind === 'suffix' && s.suffix !== '' ? s.suffix.slice(1).split('.') : [],
          })),
        },
      },
    };
  }
  return { networks, authentication, labels, metadata };
}

/** The authorizations that belong to the route itself (core appends the server's after them). */
function routeOnlyAuthorizations(route: CompiledRoute, port: CompiledPort): readonly ClientAuthorization[] {
  const n = route.authorizations.length - port.authorizations.length;
  return n > 0 ? route.authorizations.slice(0, n) : [];
}

function routeMeta(route: CompiledRoute): Msg {
  if (route.ref.kind === 'default') return defaultMeta(route.ref.name);
  return resourceMeta({ group: route.ref.group, kind: route.ref.kind, name: route.ref.name });
}

function httpRouteMsg(route: CompiledRoute, port: CompiledPort, nets: readonly NetworkMatch[]): Msg {
  return {
    metadata: routeMeta(route),
    hosts: (route.hostnames ?? []).map(hostMatchMsg),
    authorizations: routeOnlyAuthorizations(route, port).map((a) => authzMsg(a, nets)),
    rules: route.rules.map((rule) => ({
      matches: rule.matches.map(httpMatchMsg),
      filters: rule.filters.map((f) => httpFilterMsg(f, 'inbound')).filter(defined),
    })),
  };
}

function grpcRouteMsg(route: CompiledRoute, port: CompiledPort, nets: readonly NetworkMatch[]): Msg {
  return {
    metadata: routeMeta(route),
    hosts: (route.hostnames ?? []).map(hostMatchMsg),
    authorizations: routeOnlyAuthorizations(route, port).map((a) => authzMsg(a, nets)),
    rules: route.rules.map((rule) => ({
      matches: (rule.grpcMatches ?? []).map(grpcMatchMsg),
      filters: rule.filters.map(grpcFilterMsg).filter(defined),
    })),
  };
}

export function rateLimitMsg(rl: CompiledRateLimit): Msg {
  const out: Msg = {
    metadata: resourceMeta({ group: 'policy.linkerd.io', kind: 'HTTPLocalRateLimitPolicy', name: rl.name }),
    overrides: rl.overrides.map((o) => ({
      limit: { requestsPerSecond: o.requestsPerSecond },
      clients: { identities: [...o.identities].map((name) => ({ name })) },
    })),
  };
  if (rl.totalRequestsPerSecond !== undefined) out.total = { requestsPerSecond: rl.totalRequestsPerSecond };
  if (rl.identityRequestsPerSecond !== undefined)
    out.identity = { requestsPerSecond: rl.identityRequestsPerSecond };
  return out;
}

export function serverLabels(port: CompiledPort): Record<string, string> {
  return port.server.kind === 'default'
    ? { group: '', kind: 'default', name: port.server.name }
    : { group: 'policy.linkerd.io', kind: 'server', name: port.server.name };
}

export function toInboundServer(
  port: CompiledPort,
  clusterNetworks: readonly NetworkMatch[],
): inbound.Server.$Properties {
  const httpRoutes = () => (port.httpRouteList ?? []).map((r) => httpRouteMsg(r, port, clusterNetworks));
  const rateLimit = port.rateLimit ? rateLimitMsg(port.rateLimit) : undefined;
  let protocol: Msg;
  switch (port.protocol) {
    case 'unknown':
      protocol = {
        detect: {
          timeout: durationMsg(INBOUND_DETECT_TIMEOUT_MS),
          httpRoutes: httpRoutes(),
          ...(rateLimit ? { httpLocalRateLimit: rateLimit } : {}),
        },
      };
      break;
    case 'HTTP/1':
      protocol = { http1: { routes: httpRoutes(), ...(rateLimit ? { localRateLimit: rateLimit } : {}) } };
      break;
    case 'HTTP/2':
      protocol = { http2: { routes: httpRoutes(), ...(rateLimit ? { localRateLimit: rateLimit } : {}) } };
      break;
    case 'gRPC':
      protocol = {
        grpc: { routes: (port.grpcRouteList ?? []).map((r) => grpcRouteMsg(r, port, clusterNetworks)) },
      };
      break;
    case 'opaque':
      protocol = { opaque: {} };
      break;
    case 'TLS':
      protocol = { tls: {} };
      break;
  }
  return {
    protocol,
    authorizations: port.authorizations.map((a) => authzMsg(a, clusterNetworks)),
    labels: serverLabels(port),
  } as inbound.Server.$Properties;
}
