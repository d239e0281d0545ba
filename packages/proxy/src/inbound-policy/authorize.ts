// Authorization decisions over a compiled Server: per connection for TCP and opaque traffic, per
// request for HTTP and gRPC (route match, then the route's authorizations, then the route rule's
// filters). Every refusal carries a sentence naming the rule, for l5d-proxy-error and /errors.
import {
  authorizes,
  prepareClient,
  PreparedRequest,
  type HttpRequestInfo,
  type PreparedClient,
} from '@tsmesh/core/data-plane';
import type {
  CompiledAuthz,
  CompiledRoute,
  CompiledRule,
  CompiledServer,
  PolicyMeta,
} from './compile-server.js';

export interface ClientInfo {
  /** The client's IP address as text (no IPv4-mapped prefix). */
  readonly ip: string;
  /** True when the connection is mesh TLS terminated by this proxy. */
  readonly tls: boolean;
  /** The verified client identity, when the client presented a certificate. */
  readonly id: string | undefined;
}

export type ConnectionDecision =
  | { readonly allowed: true; readonly authz: CompiledAuthz }
  | { readonly allowed: false; readonly reason: string };

export type RequestDecision =
  | {
      readonly kind: 'allow';
      readonly route: CompiledRoute;
      readonly rule: CompiledRule;
      readonly authz: CompiledAuthz;
      /** Which match of the rule matched (for a redirect's ReplacePrefixMatch). */
      readonly matchIndex: number;
    }
  | { readonly kind: 'deny'; readonly route: CompiledRoute; readonly reason: string }
  | { readonly kind: 'route-not-found'; readonly reason: string };

const NO_FILTERS: CompiledRule = { headers: undefined, failure: undefined, redirect: undefined, matches: [] };

export const formatMeta = (m: PolicyMeta): string =>
  m.kind === 'default' ? `default:${m.name}` : `${m.kind.toLowerCase()}/${m.name}`;

const prepared = new WeakMap<ClientInfo, PreparedClient | null>();

/** Whether `authz` admits the client (@tsmesh/core's rule: networks and authentication). */
export function permits(authz: CompiledAuthz, client: ClientInfo): boolean {
  let p = prepared.get(client);
  if (p === undefined) {
    try {
      p = prepareClient({ ip: client.ip, identity: client.id, tls: client.tls });
    } catch {
      p = null; // not an IP address: no network admits it
    }
    prepared.set(client, p);
  }
  return p !== null && authorizes(authz, p);
}

const describeClient = (c: ClientInfo) =>
  `client ${c.ip} (${c.id !== undefined ? `identity ${c.id}` : c.tls ? 'TLS without identity' : 'no mesh TLS'})`;

export function authorizeConnection(server: CompiledServer, client: ClientInfo): ConnectionDecision {
  for (const authz of server.authorizations) if (permits(authz, client)) return { allowed: true, authz };
  return {
    allowed: false,
    reason:
      server.authorizations.length === 0
        ? `server ${formatMeta(server.meta)} has no authorization: ${describeClient(client)} refused`
        : `no authorization of server ${formatMeta(server.meta)} (${server.authorizations
            .map((a) => formatMeta(a.meta))
            .join(', ')}) permits ${describeClient(client)}`,
  };
}

export function authorizeRequest(
  server: CompiledServer,
  request: HttpRequestInfo,
  client: ClientInfo,
): RequestDecision {
  const hit = server.routes.find(new PreparedRequest(request));
  if (!hit) {
    return {
      kind: 'route-not-found',
      reason: `no route of server ${formatMeta(server.meta)} matches ${request.method ?? 'GET'} ${request.path}`,
    };
  }
  const route = hit.route;
  // Linkerd's semantics: a request may be admitted by the route's own authorizations or by the
  // server's (the controller sends policies that target the Server only at the server level).
  const candidates =
    server.authorizations.length === 0
      ? route.authorizations
      : [...route.authorizations, ...server.authorizations];
  for (const authz of candidates) {
    if (permits(authz, client)) {
      return {
        kind: 'allow',
        route,
        authz,
        rule: route.rules[hit.ruleIndex] ?? NO_FILTERS,
        matchIndex: hit.matchIndex,
      };
    }
  }
  return {
    kind: 'deny',
    route,
    reason:
      candidates.length === 0
        ? `route ${formatMeta(route.meta)} of server ${formatMeta(server.meta)} has no authorization: ${describeClient(client)} refused`
        : `no authorization of route ${formatMeta(route.meta)} on server ${formatMeta(server.meta)} (${candidates
            .map((a) => formatMeta(a.meta))
            .join(', ')}) permits ${describeClient(client)}`,
  };
}
