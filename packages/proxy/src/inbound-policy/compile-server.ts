// Compiles an `io.linkerd.proxy.inbound.Server` (what InboundServerPolicies.WatchPort sends) into
// the form the request path evaluates cheaply: networks parsed into masks, identities into a set
// and suffixes, route matches into @tsmesh/core's precedence-sorted RouteTable. Compiling happens
// once per update; a malformed message throws a MeshError naming the field, and the watch keeps
// the previous policy.
import {
  compileGrpcMatch,
  compileIdentities,
  compileHttpMatch,
  MeshError,
  MeshErrorCode,
  parseIpNetwork,
  RouteTable,
  type ClientAuthorization,
  type CompiledAuthentication,
  type CompiledMatch,
  type HttpRouteMatch,
  type inbound,
  type meta,
  type NetworkMatch,
  type RequestRedirect,
  type StringMatch,
} from '@tsmesh/core/data-plane';
import { compileHeaderEdits, type HeaderEdits, type HeaderModifierMessage } from '../http/header-edits.js';
import { formatProtoIp } from './proto-ip.js';

/** group/kind/name of a policy resource, as Linkerd's srv_*, route_*, authz_* labels carry it. */
export interface PolicyMeta {
  readonly group: string;
  readonly kind: string;
  readonly name: string;
}

export type ServerProtocol = 'detect' | 'opaque' | 'tls' | 'http1' | 'http2' | 'grpc';

/** @tsmesh/core's authorization rule (networks + authentication) with its resource's labels. */
export interface CompiledAuthz extends ClientAuthorization {
  readonly meta: PolicyMeta;
}

/** A route's RequestHeaderModifier, checked when compiled (http/header-edits.ts). */
export type { HeaderEdits };

export interface FailureInjection {
  readonly status: number;
  readonly message: string;
  /** Probability in [0, 1]. */
  readonly ratio: number;
}

export interface CompiledRule {
  readonly headers: HeaderEdits | undefined;
  readonly failure: FailureInjection | undefined;
  /** An HTTPRoute RequestRedirect filter, with the rule's matches (for ReplacePrefixMatch). */
  readonly redirect: RequestRedirect | undefined;
  readonly matches: readonly HttpRouteMatch[];
}

export interface CompiledRoute {
  readonly meta: PolicyMeta;
  readonly authorizations: readonly CompiledAuthz[];
  readonly rules: readonly CompiledRule[];
}

export interface CompiledRateLimit {
  readonly meta: PolicyMeta | undefined;
  readonly totalRps: number | undefined;
  readonly identityRps: number | undefined;
  readonly overrides: readonly { readonly rps: number; readonly identities: ReadonlySet<string> }[];
}

export interface CompiledServer {
  readonly meta: PolicyMeta;
  readonly protocol: ServerProtocol;
  /** Connection-level authorizations (TCP and opaque traffic). */
  readonly authorizations: readonly CompiledAuthz[];
  /** HTTP or gRPC routes; a server without routes gets one default route over `authorizations`. */
  readonly routes: RouteTable<CompiledRoute>;
  readonly routeCount: number;
  readonly rateLimit: CompiledRateLimit | undefined;
  /** From ProxyProtocol.Detect.timeout, when set. */
  readonly detectTimeoutMs: number | undefined;
}

function invalid(what: string, where: string): MeshError {
  return new MeshError(MeshErrorCode.InvalidArgument, `${what} (at ${where})`, {
    where: `io.linkerd.proxy.inbound.Server ${where}`,
    hint: 'the policy controller sent a Server this proxy cannot use; the previous policy stays in force',
  });
}

export function metaOf(
  m: meta.Metadata.$Properties | null | undefined,
  labels?: Readonly<Record<string, string>> | null,
): PolicyMeta {
  if (m?.resource) {
    return { group: m.resource.group ?? '', kind: m.resource.kind ?? '', name: m.resource.name ?? '' };
  }
  if (m?.default) return { group: '', kind: 'default', name: m.default };
  if (labels?.name) return { group: labels.group ?? '', kind: labels.kind ?? 'default', name: labels.name };
  return { group: '', kind: 'default', name: 'unknown' };
}

const REF_KINDS = new Set(['AuthorizationPolicy', 'ServerAuthorization']);

/** The meta plus @tsmesh/core's AuthorizationRef for it. */
export function withRef(meta: PolicyMeta): Pick<CompiledAuthz, 'meta' | 'ref'> {
  const kind = REF_KINDS.has(meta.kind) ? (meta.kind as 'AuthorizationPolicy') : 'default';
  return { meta, ref: { kind, name: meta.name } };
}

function compileNetworks(networks: readonly inbound.Network.$Properties[], where: string): NetworkMatch[] {
  const cidr = (n: { ip?: unknown; prefixLen?: number | null } | null | undefined, at: string) => {
    const ip = formatProtoIp(n?.ip as Parameters<typeof formatProtoIp>[0]);
    if (ip === undefined) throw invalid('network without an address', at);
    try {
      return parseIpNetwork(`${ip}/${n?.prefixLen ?? 0}`, at);
    } catch (err) {
      throw invalid(`bad network ${ip}/${n?.prefixLen ?? 0}: ${(err as Error).message}`, at);
    }
  };
  return networks.map((n, i) => ({
    net: cidr(n.net, `${where}.networks[${i}].net`),
    except: (n.except ?? []).map((e, j) => cidr(e, `${where}.networks[${i}].except[${j}]`)),
  }));
}

function compileAuthn(
  a: inbound.Authn.$Properties | null | undefined,
  where: string,
): CompiledAuthentication {
  if (!a) throw invalid('authorization without authentication', where);
  if (a.unauthenticated) return { kind: 'unauthenticated' };
  const tls = a.meshTLS;
  if (!tls) throw invalid('authentication is neither unauthenticated nor meshTLS', where);
  if (tls.identities) {
    return compileIdentities([
      ...(tls.identities.identities ?? []).map((i) => ({ kind: 'exact' as const, name: i.name ?? '' })),
      // IdentitySuffix parts are labels: [] is any identity, [a, b] is `*.a.b`.
      ...(tls.identities.suffixes ?? []).map((x) => ({
        kind: 'suffix' as const,
        suffix: (x.parts ?? []).length === 0 ? '' : `.${(x.parts ?? []).join('.')}`,
      })),
    ]);
  }
  return { kind: 'tls-unauthenticated' };
}

function compileAuthzs(
  list: readonly inbound.Authz.$Properties[] | null | undefined,
  where: string,
): CompiledAuthz[] {
  return (list ?? []).map((a, i) => ({
    ...withRef(metaOf(a.metadata, a.labels)),
    networks: compileNetworks(a.networks ?? [], `${where}[${i}]`),
    authentication: compileAuthn(a.authentication, `${where}[${i}].authentication`),
  }));
}

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'CONNECT', 'HEAD', 'TRACE'];
const utf8 = (b: Uint8Array | null | undefined) => (b ? Buffer.from(b).toString('utf8') : '');

function methodOf(m: { registered?: number | null; unregistered?: string | null } | null | undefined) {
  if (!m) return undefined;
  if (m.unregistered) return m.unregistered.toUpperCase();
  return METHODS[m.registered ?? 0];
}

type ProtoHeaderMatch = { name?: string | null; exact?: Uint8Array | null; regex?: string | null };

function headerMatches(list: readonly ProtoHeaderMatch[] | null | undefined): StringMatch[] {
  return (list ?? []).map((h) =>
    h.regex !== undefined && h.regex !== null
      ? { type: 'RegularExpression', name: h.name ?? '', value: h.regex }
      : { type: 'Exact', name: h.name ?? '', value: utf8(h.exact) },
  );
}

function httpMatch(m: NonNullable<inbound.HttpRoute.Rule.$Properties['matches']>[number]): HttpRouteMatch {
  const p = m.path;
  const path: HttpRouteMatch['path'] =
    p?.exact !== undefined && p?.exact !== null
      ? { type: 'Exact', value: p.exact }
      : p?.regex !== undefined && p?.regex !== null
        ? { type: 'RegularExpression', value: p.regex }
        : { type: 'PathPrefix', value: p?.prefix || '/' };
  return {
    path,
    headers: headerMatches(m.headers),
    queryParams: (m.queryParams ?? []).map((q) =>
      q.regex !== undefined && q.regex !== null
        ? { type: 'RegularExpression', name: q.name ?? '', value: q.regex }
        : { type: 'Exact', name: q.name ?? '', value: q.exact ?? '' },
    ),
    method: methodOf(m.method),
  } as HttpRouteMatch;
}

function hostnames(
  hosts:
    | readonly { exact?: string | null; suffix?: { reverseLabels?: string[] | null } | null }[]
    | null
    | undefined,
) {
  return (hosts ?? []).map((h) =>
    h.exact ? h.exact.toLowerCase() : `*.${[...(h.suffix?.reverseLabels ?? [])].reverse().join('.')}`,
  );
}

type ProtoFilter = {
  failureInjector?: {
    status?: number | null;
    code?: number | null;
    message?: string | null;
    ratio?: { numerator?: number | null; denominator?: number | null } | null;
  } | null;
  requestHeaderModifier?: HeaderModifierMessage | null;
  redirect?: {
    scheme?: { registered?: number | null; unregistered?: string | null } | null;
    host?: string | null;
    path?: { full?: string | null; prefix?: string | null } | null;
    port?: number | null;
    status?: number | null;
  } | null;
};

function compileRedirect(r: NonNullable<ProtoFilter['redirect']>): RequestRedirect {
  const scheme = r.scheme
    ? r.scheme.unregistered
      ? (r.scheme.unregistered.toLowerCase() as 'http' | 'https')
      : r.scheme.registered === 1
        ? 'https'
        : 'http'
    : undefined;
  return {
    scheme,
    hostname: r.host || undefined,
    path: r.path?.full
      ? { type: 'ReplaceFullPath', value: r.path.full }
      : r.path?.prefix
        ? { type: 'ReplacePrefixMatch', value: r.path.prefix }
        : undefined,
    port: r.port || undefined,
    statusCode: r.status === 301 ? 301 : 302,
  };
}

function compileRule(
  filters: readonly ProtoFilter[] | null | undefined,
  grpc: boolean,
  matches: readonly HttpRouteMatch[],
  where: string,
): CompiledRule {
  let headers: HeaderEdits | undefined;
  let failure: FailureInjection | undefined;
  let redirect: RequestRedirect | undefined;
  for (const f of filters ?? []) {
    if (f.requestHeaderModifier) {
      try {
        headers = compileHeaderEdits(f.requestHeaderModifier, 'requestHeaderModifier');
      } catch (err) {
        throw invalid((err as Error).message, where);
      }
    } else if (f.redirect && !grpc) {
      redirect = compileRedirect(f.redirect);
    } else if (f.failureInjector) {
      const fi = f.failureInjector;
      const den = fi.ratio?.denominator ?? 0;
      failure = {
        // gRPC failure injectors carry a gRPC code; HTTP ones a status.
        status: grpc ? (fi.code ?? 2) : fi.status || 500,
        message: fi.message ?? '',
        ratio: fi.ratio ? (den > 0 ? (fi.ratio.numerator ?? 0) / den : 0) : 1,
      };
    }
  }
  return { headers, failure, redirect, matches };
}

const MATCH_ALL: HttpRouteMatch = {
  path: { type: 'PathPrefix', value: '/' },
  headers: [],
  queryParams: [],
  method: undefined,
};

/**
 * Without routes from the control plane (e.g. the proxy's own default policy): one route that
 * matches everything, as linkerd2-proxy does; requests on it are admitted by the server's
 * authorizations.
 */
export function defaultRouteTable(authorizations: readonly CompiledAuthz[]): RouteTable<CompiledRoute> {
  const route: CompiledRoute = {
    meta: { group: '', kind: 'default', name: 'default' },
    authorizations,
    rules: [{ headers: undefined, failure: undefined, redirect: undefined, matches: [] }],
  };
  return new RouteTable([{ route, hostnames: [], rules: [[compileHttpMatch(MATCH_ALL)]] }]);
}

type ProtoRoute = inbound.HttpRoute.$Properties | inbound.GrpcRoute.$Properties;

function compileRoutes(
  routes: readonly ProtoRoute[] | null | undefined,
  grpc: boolean,
  where: string,
): { table: RouteTable<CompiledRoute>; count: number } {
  const list = routes ?? [];
  if (list.length === 0) return { table: defaultRouteTable([]), count: 1 };
  const inputs = list.map((r, i) => {
    const route: CompiledRoute = {
      meta: metaOf(r.metadata),
      authorizations: compileAuthzs(r.authorizations, `${where}[${i}].authorizations`),
      rules: (r.rules ?? []).map((rule, j) => {
        const hm = grpc
          ? []
          : ((rule.matches ?? []) as NonNullable<inbound.HttpRoute.Rule.$Properties['matches']>);
        return compileRule(
          rule.filters as ProtoFilter[] | null | undefined,
          grpc,
          hm.length === 0 ? [MATCH_ALL] : hm.map(httpMatch),
          `${where}[${i}].rules[${j}]`,
        );
      }),
    };
    const rules = (r.rules ?? []).map((rule, j): CompiledMatch[] => {
      const matches = rule.matches ?? [];
      try {
        if (grpc) {
          const gm = matches as NonNullable<inbound.GrpcRoute.Rule.$Properties['matches']>;
          if (gm.length === 0) return [compileGrpcMatch({ method: undefined, headers: [] })];
          return gm.map((m) =>
            compileGrpcMatch({
              method:
                m.rpc && (m.rpc.service || m.rpc.method)
                  ? { type: 'Exact', service: m.rpc.service || undefined, method: m.rpc.method || undefined }
                  : undefined,
              headers: headerMatches(m.headers),
            }),
          );
        }
        const hm = matches as NonNullable<inbound.HttpRoute.Rule.$Properties['matches']>;
        if (hm.length === 0) {
          return [compileHttpMatch(MATCH_ALL)];
        }
        return hm.map((m) => compileHttpMatch(httpMatch(m)));
      } catch (err) {
        throw invalid(`bad match: ${(err as Error).message}`, `${where}[${i}].rules[${j}]`);
      }
    });
    return { route, hostnames: hostnames(r.hosts), rules };
  });
  return { table: new RouteTable(inputs), count: inputs.length };
}

function compileRateLimit(
  rl: inbound.HttpLocalRateLimit.$Properties | null | undefined,
): CompiledRateLimit | undefined {
  if (!rl) return undefined;
  const rps = (l: { requestsPerSecond?: number | null } | null | undefined) =>
    l?.requestsPerSecond ? l.requestsPerSecond : undefined;
  const limit: CompiledRateLimit = {
    meta: rl.metadata ? metaOf(rl.metadata) : undefined,
    totalRps: rps(rl.total),
    identityRps: rps(rl.identity),
    overrides: (rl.overrides ?? [])
      .filter((o) => rps(o.limit) !== undefined)
      .map((o) => ({
        rps: rps(o.limit) as number,
        identities: new Set((o.clients?.identities ?? []).map((i) => i.name ?? '')),
      })),
  };
  return limit.totalRps === undefined && limit.identityRps === undefined && limit.overrides.length === 0
    ? undefined
    : limit;
}

const durationMs = (d: { seconds?: unknown; nanos?: number | null } | null | undefined) =>
  d ? Number(d.seconds ?? 0) * 1000 + Math.round((d.nanos ?? 0) / 1e6) : undefined;

/** Compiles a Server message. Throws MeshError (invalid-argument) naming the bad field. */
export function compileServer(server: inbound.Server.$Properties): CompiledServer {
  const authorizations = compileAuthzs(server.authorizations, 'authorizations');
  const p = server.protocol;
  const meta = metaOf(undefined, server.labels);
  let protocol: ServerProtocol = 'detect';
  let routes: readonly ProtoRoute[] | null | undefined;
  let rateLimit: inbound.HttpLocalRateLimit.$Properties | null | undefined;
  let detectTimeoutMs: number | undefined;
  if (p?.opaque) protocol = 'opaque';
  else if (p?.tls) protocol = 'tls';
  else if (p?.http1) {
    protocol = 'http1';
    routes = p.http1.routes;
    rateLimit = p.http1.localRateLimit;
  } else if (p?.http2) {
    protocol = 'http2';
    routes = p.http2.routes;
    rateLimit = p.http2.localRateLimit;
  } else if (p?.grpc) {
    protocol = 'grpc';
    routes = p.grpc.routes;
  } else if (p?.detect) {
    routes = p.detect.httpRoutes;
    rateLimit = p.detect.httpLocalRateLimit;
    detectTimeoutMs = durationMs(p.detect.timeout);
  }
  const grpc = protocol === 'grpc';
  const { table, count } = compileRoutes(routes, grpc, grpc ? 'grpc.routes' : 'routes');
  return {
    meta,
    protocol,
    authorizations,
    routes: table,
    routeCount: count,
    rateLimit: compileRateLimit(rateLimit),
    detectTimeoutMs,
  };
}
