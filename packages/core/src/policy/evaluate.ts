// The one question the engine answers: may this connection or request from this client reach this
// server, and why? It mirrors the inbound proxy: find the port's server policy; for a connection,
// check the server's authorizations; for an HTTP or gRPC request, find the route by precedence
// (none: 404-like `route-not-found`), then check the route's authorizations followed by the
// server's (none admits the client: 403-like `unauthorized`). The `audit` default authorization
// admits anyone but marks the decision `audit`.
import {
  authorizes,
  prepareClient,
  type AuthorizationRef,
  type ClientAuthorization,
  type ClientInfo,
  type PreparedClient,
} from './client-authorization.js';
import type { HttpRouteFilter, ProxyProtocol } from './model.js';
import type {
  CompiledPort,
  CompiledRateLimit,
  PolicyIndex,
  RouteRef,
  ServerRef,
  WorkloadTarget,
} from './policy-index.js';
import { redirectFor, type RedirectResponse } from './request-filters.js';
import { PreparedRequest, type HttpRequestInfo } from './route-match.js';

export type PolicyDecisionKind = 'allow' | 'deny' | 'audit';

export type PolicyDecisionReason =
  /** An authorization admitted the client. */
  | 'authorized'
  /** No authorization but the `audit` one admitted the client. */
  | 'audited'
  /** The request matched no route of the server (the proxy answers 404). */
  | 'route-not-found'
  /** No authorization admits the client (the proxy answers 403, or refuses the connection). */
  | 'unauthorized';

export interface EvaluateInput {
  readonly client: ClientInfo;
  readonly target: WorkloadTarget;
  /** Absent: decide for the connection (what an opaque or TLS port, or the TCP accept, sees). */
  readonly request?: HttpRequestInfo & { readonly scheme?: 'http' | 'https' };
}

export interface RateLimitDecision {
  readonly policy: string;
  readonly totalRequestsPerSecond: number | undefined;
  /** The per-client limit that applies to this client: an override naming it, else the identity limit. */
  readonly clientRequestsPerSecond: number | undefined;
  readonly clientLimitSource: 'override' | 'identity' | undefined;
}

export interface PolicyDecision {
  readonly decision: PolicyDecisionKind;
  readonly reason: PolicyDecisionReason;
  /** For a request: 403 or 404 when denied, the redirect status when a redirect filter applies. */
  readonly httpStatus: number | undefined;
  readonly server: ServerRef;
  readonly protocol: ProxyProtocol;
  /** The route that matched (requests only). */
  readonly route: (RouteRef & { readonly ruleIndex: number; readonly matchIndex: number }) | undefined;
  /** The rule that admitted the client. */
  readonly authorization: AuthorizationRef | undefined;
  /** The matched rule's filters, applied by the proxy in order after authorization. */
  readonly filters: readonly HttpRouteFilter[];
  readonly redirect: RedirectResponse | undefined;
  readonly rateLimit: RateLimitDecision | undefined;
  /** One sentence for humans (formatted when read; included by `JSON.stringify`). */
  readonly explanation: string;
}

const NO_FILTERS: readonly HttpRouteFilter[] = Object.freeze([]);

function describeServer(server: ServerRef): string {
  return server.kind === 'Server'
    ? `Server ${server.namespace}/${server.name}`
    : `default policy ${server.name}`;
}

function describeAuthz(ref: AuthorizationRef): string {
  return ref.kind === 'default' ? `default:${ref.name}` : `${ref.kind} ${ref.name}`;
}

function describeClient(client: ClientInfo): string {
  return client.identity ? `${client.identity} (${client.ip})` : `unauthenticated ${client.ip}`;
}

function firstAuthorizing(
  list: readonly ClientAuthorization[],
  client: PreparedClient,
): ClientAuthorization | undefined {
  for (let i = 0; i < list.length; i++) {
    const a = list[i] as ClientAuthorization;
    if (authorizes(a, client)) return a;
  }
  return undefined;
}

function rateLimitFor(
  limit: CompiledRateLimit | undefined,
  client: PreparedClient,
): RateLimitDecision | undefined {
  if (!limit) return undefined;
  const id = client.identity;
  const override = id === undefined ? undefined : limit.overrides.find((o) => o.identities.has(id));
  return {
    policy: limit.name,
    totalRequestsPerSecond: limit.totalRequestsPerSecond,
    clientRequestsPerSecond: override?.requestsPerSecond ?? limit.identityRequestsPerSecond,
    clientLimitSource: override
      ? 'override'
      : limit.identityRequestsPerSecond !== undefined
        ? 'identity'
        : undefined,
  };
}

type DecisionFields = Omit<PolicyDecision, 'explanation'>;

interface ExplainContext {
  readonly client: ClientInfo;
  readonly port: CompiledPort;
  /** `METHOD /path` for requests. */
  readonly method: string | undefined;
  readonly path: string | undefined;
}

function explain(d: DecisionFields, ctx: ExplainContext): string {
  const subject =
    ctx.method === undefined || (d.route === undefined && d.reason !== 'route-not-found')
      ? `connection from ${describeClient(ctx.client)}`
      : `${ctx.method} ${ctx.path} from ${describeClient(ctx.client)}`;
  const route = d.route
    ? d.route.kind === 'default'
      ? ` (route default:${d.route.name})`
      : ` (${d.route.kind} ${d.route.name})`
    : '';
  const to = `${subject} to ${describeServer(d.server)} port ${ctx.port.port}${route}`;
  if (d.authorization) {
    return `${to} ${d.decision === 'audit' ? 'audited (allowed) by' : 'allowed by'} ${describeAuthz(d.authorization)}`;
  }
  return `${to} denied: ${d.reason === 'route-not-found' ? 'no route matches' : 'no authorization admits the client'}`;
}

/**
 * A decision whose explanation is formatted only when read (a prototype getter), so that
 * evaluations on a hot path allocate one fixed-shape object and no strings.
 */
class Decision implements PolicyDecision {
  readonly decision: PolicyDecisionKind;
  readonly reason: PolicyDecisionReason;
  readonly httpStatus: number | undefined;
  readonly server: ServerRef;
  readonly protocol: ProxyProtocol;
  readonly route: PolicyDecision['route'];
  readonly authorization: AuthorizationRef | undefined;
  readonly filters: readonly HttpRouteFilter[];
  readonly redirect: RedirectResponse | undefined;
  readonly rateLimit: RateLimitDecision | undefined;
  readonly #context: ExplainContext;

  constructor(d: DecisionFields, context: ExplainContext) {
    this.decision = d.decision;
    this.reason = d.reason;
    this.httpStatus = d.httpStatus;
    this.server = d.server;
    this.protocol = d.protocol;
    this.route = d.route;
    this.authorization = d.authorization;
    this.filters = d.filters;
    this.redirect = d.redirect;
    this.rateLimit = d.rateLimit;
    this.#context = context;
  }

  get explanation(): string {
    return explain(this, this.#context);
  }

  toJSON(): PolicyDecision {
    return { ...this, explanation: this.explanation };
  }
}

function finish(d: DecisionFields, ctx: ExplainContext): PolicyDecision {
  return new Decision(d, ctx);
}

/** Decides for a compiled port (see `PolicyIndex.lookup`); `evaluate` looks the port up first. */
export function evaluatePort(port: CompiledPort, input: Omit<EvaluateInput, 'target'>): PolicyDecision {
  const client = prepareClient(input.client);
  const request = input.request;
  const opaque = port.protocol === 'opaque' || port.protocol === 'TLS';

  if (!request || opaque) {
    const authz = firstAuthorizing(port.authorizations, client);
    const audited = authz?.ref.kind === 'default' && authz.ref.name === 'audit';
    return finish(
      {
        decision: authz ? (audited ? 'audit' : 'allow') : 'deny',
        reason: authz ? (audited ? 'audited' : 'authorized') : 'unauthorized',
        httpStatus: undefined,
        server: port.server,
        protocol: port.protocol,
        route: undefined,
        authorization: authz?.ref,
        filters: NO_FILTERS,
        redirect: undefined,
        rateLimit: undefined,
      },
      { client: input.client, port, method: undefined, path: undefined },
    );
  }

  const prepared = new PreparedRequest(request);
  const ctx = { client: input.client, port, method: prepared.method, path: prepared.path };
  const table = port.protocol === 'gRPC' ? port.grpcRoutes : port.httpRoutes;
  const hit = table.find(prepared);
  if (!hit) {
    return finish(
      {
        decision: 'deny',
        reason: 'route-not-found',
        httpStatus: 404,
        server: port.server,
        protocol: port.protocol,
        route: undefined,
        authorization: undefined,
        filters: NO_FILTERS,
        redirect: undefined,
        rateLimit: undefined,
      },
      ctx,
    );
  }
  const ref = hit.route.ref;
  const route = {
    kind: ref.kind,
    group: ref.group,
    name: ref.name,
    ruleIndex: hit.ruleIndex,
    matchIndex: hit.matchIndex,
  };
  const authz = firstAuthorizing(hit.route.authorizations, client);
  if (!authz) {
    return finish(
      {
        decision: 'deny',
        reason: 'unauthorized',
        httpStatus: 403,
        server: port.server,
        protocol: port.protocol,
        route,
        authorization: undefined,
        filters: NO_FILTERS,
        redirect: undefined,
        rateLimit: undefined,
      },
      ctx,
    );
  }
  const audited = authz.ref.kind === 'default' && authz.ref.name === 'audit';
  const rule = hit.route.rules[hit.ruleIndex];
  const filters = rule?.filters ?? NO_FILTERS;
  let redirect: RedirectResponse | undefined;
  for (const f of filters) {
    if (f.type === 'RequestRedirect') {
      redirect = redirectFor(
        f.redirect,
        { scheme: request.scheme, host: request.host, path: request.path },
        rule?.matches[hit.matchIndex],
      );
      break;
    }
  }
  return finish(
    {
      decision: audited ? 'audit' : 'allow',
      reason: audited ? 'audited' : 'authorized',
      httpStatus: redirect?.statusCode,
      server: port.server,
      protocol: port.protocol,
      route,
      authorization: authz.ref,
      filters,
      redirect,
      rateLimit: rateLimitFor(port.rateLimit, client),
    },
    ctx,
  );
}

/** May this connection or request from this client reach this server, and why? */
export function evaluate(input: EvaluateInput, index: PolicyIndex): PolicyDecision {
  return evaluatePort(index.lookup(input.target), input);
}
