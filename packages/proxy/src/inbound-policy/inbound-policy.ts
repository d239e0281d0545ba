// Inbound policy for the whole proxy: one latest-value watch per inbound port against the policy
// controller (InboundServerPolicies.WatchPort), the default policy until it answers (and for good
// when no controller is configured), and the enforcement calls the inbound server makes — one per
// connection (TCP/opaque) or per request (HTTP/gRPC). Each decision is counted with Linkerd's authz
// metrics; each refusal becomes a ProxyError with a stable code and is recorded for /errors.
import {
  redirectFor,
  type DefaultInboundPolicy,
  type HttpRequestInfo,
  type InboundServerPoliciesClient,
  type RedirectResponse,
} from '@tsmesh/core/data-plane';
import type { Registry } from 'prom-client';
import { ProxyError, ProxyErrorCode } from '../errors/index.js';
import type { BackoffOptions } from '../identity/index.js';
import type { RecentErrors } from '../recent-errors/index.js';
import { authorizeConnection, authorizeRequest, formatMeta, type ClientInfo } from './authorize.js';
import type { CompiledRoute, CompiledServer, HeaderEdits } from './compile-server.js';
import { defaultServer } from './default-server.js';
import {
  createPolicyMetrics,
  routeLabels,
  type ConnectionLabels,
  type PolicyMetrics,
} from './policy-metrics.js';
import { watchPortPolicy } from './policy-watch.js';
import { createRateLimiter, type RateLimiter } from './rate-limiter.js';

export interface InboundPolicyOptions {
  readonly defaultPolicy: DefaultInboundPolicy;
  readonly clusterNetworks: readonly string[];
  readonly registry: Registry;
  readonly recentErrors?: RecentErrors;
  /** The policy controller; without it every port keeps the default policy. */
  readonly controlPlane?: { readonly client: InboundServerPoliciesClient; readonly workload: string };
  /** Ports whose default policy requires a client identity (LINKERD2_PROXY_INBOUND_PORTS_REQUIRE_IDENTITY). */
  readonly requireIdentityPorts?: { has(port: number): boolean };
  /**
   * A port nobody used for this long stops being watched (LINKERD2_PROXY_INBOUND_DISCOVERY_IDLE_TIMEOUT,
   * linkerd2-proxy's default 90 s), so connections to arbitrary ports cannot pile up watches.
   * Ports in `ports` are kept.
   */
  readonly idleTimeoutMs?: number;
  /** Ports watched from the start (LINKERD2_PROXY_INBOUND_PORTS); others on first use. */
  readonly ports?: Iterable<number>;
  readonly backoff?: BackoffOptions;
  /** A watch failure or a policy that does not compile (the last good policy stays). */
  onError?(port: number, err: unknown): void;
}

export interface PortPolicy {
  readonly port: number;
  /** The policy in force: the controller's latest, or the default before its first answer. */
  readonly server: CompiledServer;
  /** True once the controller answered for this port. */
  readonly synced: boolean;
  /**
   * Resolves when synced, or once the port's first wait (timeoutMs, counted from the first call)
   * has run out; then the default policy applies until the controller answers.
   */
  whenSynced(timeoutMs: number): Promise<void>;
}

export type RequestVerdict =
  | {
      readonly ok: true;
      /** srv_* and route_* labels for the request metrics. */
      readonly labels: Readonly<Record<string, string>>;
      /** The matched rule's RequestHeaderModifier. */
      readonly headers: HeaderEdits | undefined;
      /** The matched rule's RequestRedirect, resolved for this request: answer it, do not forward. */
      readonly redirect?: RedirectResponse;
    }
  | { readonly ok: false; readonly labels: Readonly<Record<string, string>>; readonly error: ProxyError };

export interface RequestFacts extends HttpRequestInfo {
  readonly scheme?: 'http' | 'https';
  /** `ip:port` the request was for, for the error log. */
  readonly target: string;
}

export interface InboundPolicy {
  port(port: number): PortPolicy;
  /**
   * Connection-level authorization (TCP and opaque traffic): false means close the connection.
   * With `terminate`, an admitted connection stays watched: when a policy update no longer
   * authorizes it, `terminate` is called (inbound_tcp_authz_terminate_total); the returned
   * function stops watching (call it when the connection closes).
   */
  checkConnection(port: number, client: ClientInfo, conn: ConnectionLabels): boolean;
  watchConnection(
    port: number,
    client: ClientInfo,
    conn: ConnectionLabels,
    terminate: () => void,
  ): () => void;
  /** Request-level authorization, rate limits and route filters for HTTP and gRPC. */
  checkRequest(
    port: number,
    request: RequestFacts,
    client: ClientInfo,
    conn: ConnectionLabels,
  ): RequestVerdict;
  readonly metrics: PolicyMetrics;
  close(): void;
}

interface WatchedConnection {
  readonly client: ClientInfo;
  readonly conn: ConnectionLabels;
  readonly terminate: () => void;
}

interface PortState extends PortPolicy {
  limiter: RateLimiter | undefined;
  /** performance.now() of the last use; idle ports' watches are closed. */
  lastUsed: number;
  readonly stop: AbortController;
  readonly open: Set<WatchedConnection>;
}

/** The request as the recent-errors list names it (made only for a refusal). */
const what = (request: RequestFacts) => `${request.method ?? 'GET'} ${request.path}`;

export function createInboundPolicy(options: InboundPolicyOptions): InboundPolicy {
  // srv_*/route_* label objects, made once per (route or server, port): requests reuse them.
  const labelCache = new WeakMap<object, Map<number, Readonly<Record<string, string>>>>();
  const labelsFor = (p: number, server: CompiledServer, route: CompiledRoute | undefined) => {
    const key = route ?? server;
    let byPort = labelCache.get(key);
    if (!byPort) labelCache.set(key, (byPort = new Map()));
    let labels = byPort.get(p);
    if (!labels) byPort.set(p, (labels = Object.freeze(routeLabels(p, server, route))));
    return labels;
  };
  const fallback = defaultServer(options.defaultPolicy, options.clusterNetworks);
  let fallbackWithIdentity: CompiledServer | undefined;
  const fallbackFor = (p: number) =>
    options.requireIdentityPorts?.has(p)
      ? (fallbackWithIdentity ??= defaultServer(options.defaultPolicy, options.clusterNetworks, true))
      : fallback;
  const metrics = createPolicyMetrics(options.registry);
  const ports = new Map<number, PortState>();

  const port = (p: number): PortState => {
    let state = ports.get(p);
    if (state) {
      state.lastUsed = performance.now();
      return state;
    }
    const stop = new AbortController();
    const waiters = new Set<() => void>();
    let firstWait: Promise<void> | undefined;
    const s: PortState = {
      port: p,
      server: fallbackFor(p),
      synced: false,
      limiter: undefined,
      open: new Set(),
      lastUsed: performance.now(),
      stop,
      whenSynced(timeoutMs) {
        if (s.synced || !options.controlPlane) return Promise.resolve();
        // One wait per port: connections arriving while the controller is silent share it, and
        // once it has run out the default policy applies at once (the answer still lands later).
        firstWait ??= new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(timer);
            waiters.delete(done);
            resolve();
          };
          const timer = setTimeout(done, timeoutMs);
          waiters.add(done);
        });
        return firstWait;
      },
    };
    state = s;
    ports.set(p, s);
    const cp = options.controlPlane;
    if (cp) {
      watchPortPolicy({
        client: cp.client,
        workload: cp.workload,
        port: p,
        signal: stop.signal,
        backoff: options.backoff,
        onUpdate(server) {
          s.limiter = server.rateLimit ? createRateLimiter(server.rateLimit) : undefined;
          (s as { server: CompiledServer }).server = server;
          (s as { synced: boolean }).synced = true;
          for (const w of [...waiters]) w();
          revokeUnauthorized(s);
        },
        onError: (err) => options.onError?.(p, err),
      });
    }
    return s;
  };
  const pinned = new Set(options.ports ?? []);
  for (const p of pinned) port(p);
  const idleMs = options.idleTimeoutMs ?? 90_000;
  const sweep = setInterval(
    () => {
      const now = performance.now();
      for (const [p, s] of ports) {
        if (pinned.has(p) || s.open.size > 0 || now - s.lastUsed < idleMs) continue;
        s.stop.abort();
        ports.delete(p);
      }
    },
    Math.max(1000, Math.min(idleMs, 30_000)),
  );
  sweep.unref();

  // linkerd2-proxy closes open connections a new policy no longer authorizes.
  const revokeUnauthorized = (s: PortState) => {
    for (const c of [...s.open]) {
      const decision = authorizeConnection(s.server, c.client);
      if (decision.allowed) continue;
      s.open.delete(c);
      metrics.tcpTerminate(c.conn, s.port, s.server);
      const error = new ProxyError(
        ProxyErrorCode.Forbidden,
        `connection terminated by a policy change: ${decision.reason}`,
      );
      record(error, 'tcp', c.conn.target_addr, c.client, formatMeta(s.server.meta));
      c.terminate();
    }
  };

  const record = (
    error: ProxyError,
    request: string,
    target: string,
    client: ClientInfo,
    rule: string | undefined,
  ) =>
    options.recentErrors?.record({
      code: error.code,
      direction: 'inbound',
      message: error.message,
      request,
      target,
      client: client.ip,
      clientId: client.id,
      rule,
    });

  return {
    port,
    metrics,
    checkConnection(p, client, conn) {
      const server = port(p).server;
      const decision = authorizeConnection(server, client);
      if (decision.allowed) {
        metrics.tcpAllow(conn, p, server, decision.authz);
        return true;
      }
      metrics.tcpDeny(conn, p, server);
      const error = new ProxyError(ProxyErrorCode.Forbidden, `unauthorized connection: ${decision.reason}`);
      record(error, 'tcp', conn.target_addr, client, formatMeta(server.meta));
      return false;
    },
    watchConnection(p, client, conn, terminate) {
      const s = port(p);
      const entry: WatchedConnection = { client, conn, terminate };
      s.open.add(entry);
      return () => s.open.delete(entry);
    },
    checkRequest(p, request, client, conn) {
      const state = port(p);
      const server = state.server;
      const decision = authorizeRequest(server, request, client);
      if (decision.kind === 'route-not-found') {
        metrics.routeNotFound(conn, p, server);
        const error = new ProxyError(ProxyErrorCode.RouteNotFound, decision.reason);
        record(error, what(request), request.target, client, formatMeta(server.meta));
        return { ok: false, labels: labelsFor(p, server, undefined), error };
      }
      const labels = labelsFor(p, server, decision.route);
      if (decision.kind === 'deny') {
        metrics.httpDeny(conn, p, server, decision.route);
        const error = new ProxyError(ProxyErrorCode.Forbidden, `unauthorized request: ${decision.reason}`);
        record(error, what(request), request.target, client, formatMeta(decision.route.meta));
        return { ok: false, labels, error };
      }
      metrics.httpAllow(conn, p, server, decision.route, decision.authz);
      const scope = state.limiter?.check(client.id);
      if (scope !== undefined) {
        metrics.rateLimited(conn, p, server, scope);
        const rl = server.rateLimit?.meta;
        const rule = rl ? formatMeta(rl) : `server ${formatMeta(server.meta)}`;
        const error = new ProxyError(
          ProxyErrorCode.RateLimited,
          `too many requests: the ${scope} limit of ${rule} is exhausted`,
        );
        record(error, what(request), request.target, client, rule);
        return { ok: false, labels, error };
      }
      const failure = decision.rule.failure;
      if (failure && (failure.ratio >= 1 || Math.random() < failure.ratio)) {
        const error = new ProxyError(
          ProxyErrorCode.InjectedFailure,
          failure.message || `failure injected by route ${formatMeta(decision.route.meta)}`,
          { httpStatus: failure.status },
        );
        record(error, what(request), request.target, client, formatMeta(decision.route.meta));
        return { ok: false, labels, error };
      }
      const redirect = decision.rule.redirect;
      if (redirect) {
        return {
          ok: true,
          labels,
          headers: undefined,
          redirect: redirectFor(
            redirect,
            { host: request.host, path: request.path, scheme: request.scheme },
            decision.rule.matches[decision.matchIndex],
          ),
        };
      }
      return { ok: true, labels, headers: decision.rule.headers };
    },
    close() {
      clearInterval(sweep);
      for (const s of ports.values()) s.stop.abort();
      ports.clear();
    },
  };
}
