// The logical level: one target the app addressed (a Service name and port in explicit mode, an
// original destination IP:port in transparent mode). It follows the target's OutboundPolicy and
// ServiceProfile, compiles them into a routing plan, matches each request to a route and serves it
// there (route-request.ts: injected failures and header edits, a weighted backend per attempt,
// per-route timeouts, retries within the budget, route and backend metrics). It owns the
// balancers of the plan's backends and the metric label objects of its routes.
import { PreparedRequest } from '@tsmesh/core/data-plane';
import type { ProxyMetrics, TargetLabels } from '../../metrics/index.js';
import { outboundEndpointLabels } from '../endpoint-labels.js';
import type {
  Discovery,
  DiscoveryTarget,
  Endpoint,
  LatestWatch,
  PolicyValue,
  ProfileValue,
} from '../../discovery/index.js';
import { fromWeightedAddr, formatHostPort } from '../../discovery/index.js';
import { ProxyError, ProxyErrorCode, toProxyError } from '../../errors/index.js';
import {
  balancerBackend,
  compilePolicy,
  compileProfile,
  DEFAULT_QUEUE,
  defaultPlan,
  profileHasRouting,
  type BackendSpec,
  type OutboundRoute,
  type ParentLabels,
  type RoutingPlan,
  type WeightedBackend,
} from '../../route/index.js';
import type { TapHandle, TapHub } from '../../tap/index.js';
import type { MeshTls } from '../../tls/index.js';
import { createBalancer, type Balancer, type EndpointLease } from '../concrete/index.js';
import type { EndpointClient, Headers } from '../endpoint/index.js';
import type { MeshMetrics, RouteBackendKey, RouteKey } from '../mesh-metrics.js';
import { abortHookOf } from '../abort-hook.js';
import type { Exchange } from './exchange.js';
import { pickWeighted, RouteRequest, type RequestOwner, type RouteContext } from './route-request.js';

export interface LogicalTargetOptions {
  readonly target: DiscoveryTarget;
  /** `host:port` the target was addressed by. */
  readonly authority: string;
  readonly discovery: Discovery | undefined;
  readonly meshTls: MeshTls | undefined;
  readonly connectTimeoutMs: number;
  readonly metrics: MeshMetrics;
  /** How long a first request waits for the control plane's first answers. */
  readonly discoveryTimeoutMs: number;
  readonly profileTimeoutMs: number;
  /**
   * Queue of backends the control plane gives no settings for (default and profile plans):
   * LINKERD2_PROXY_OUTBOUND_HTTP_QUEUE_CAPACITY and _HTTP_FAILFAST_TIMEOUT.
   */
  readonly queue?: { readonly capacity: number; readonly failfastMs: number };
  readonly random?: () => number;
  /** Every error the proxy answered a request with (recent-errors listing, logs). */
  onError?(err: ProxyError): void;
  /**
   * A policy or profile from the control plane this proxy cannot use (a header edit no hop could
   * carry, say): the plan in force stays, the default one when there was none.
   */
  onPlanError?(err: Error): void;
  /** Linkerd's per-endpoint request_total/response_total families. */
  readonly proxyMetrics?: ProxyMetrics;
  /** Live tap: each attempt is offered once its endpoint is chosen (proxy_direction OUTBOUND). */
  readonly tap?: TapHub;
  /**
   * How often a busy target re-reads its watches from discovery (refreshing their idle clocks),
   * at most; 0 (default) on every request. Far below discovery's idle timeout, a watch in use is
   * never evicted; the lookups (a key string, a closure and a clock read each, three per request)
   * showed in the mesh outbound's profile.
   */
  readonly discoveryTouchMs?: number;
  /** The HTTP/1 engine of the endpoint side (TSMESH_PROXY_HTTP1_ENGINE; default raw). */
  readonly http1Engine?: 'raw' | 'node';
  /** The HTTP/2 engine of the endpoint side (TSMESH_PROXY_HTTP2_ENGINE; default raw). */
  readonly http2Engine?: 'raw' | 'node';
}

export interface LogicalTarget {
  readonly authority: string;
  /** The plan in force (undefined before the first request resolved it). */
  plan(): RoutingPlan | undefined;
  /** Serves one request; `owner` is told when it is over (answered, failed, or its client gone). */
  handle(ex: Exchange, owner?: RequestOwner): void;
  /**
   * An endpoint for a request that becomes a tunnel (HTTP/1 Upgrade, e.g. WebSocket): routed like
   * any request, then the caller owns the connection. Throws ProxyError when none is available.
   */
  leaseForUpgrade(
    method: string,
    path: string,
    headers: Headers,
    signal: AbortSignal,
  ): Promise<EndpointLease>;
  /**
   * An endpoint for an opaque TCP connection: the policy's opaque route backends, or the addressed
   * endpoint itself with discovery's hints (ServiceProfile `endpoint`: identity, opaque transport).
   */
  leaseForOpaque(signal: AbortSignal): Promise<EndpointLease>;
  /** Balancers by backend key (tests, admin). */
  balancers(): ReadonlyMap<string, Balancer>;
  close(): Promise<void>;
}

const splitAuthority = (authority: string): { name: string; port: number | undefined } => {
  const i = authority.lastIndexOf(':');
  if (i < 0 || authority.endsWith(']')) return { name: authority, port: undefined };
  return { name: authority.slice(0, i), port: Number(authority.slice(i + 1)) };
};

/** `get`, called again only when `ms` have passed since it last was (0: every time). */
function every<T>(ms: number, get: () => T): () => T {
  if (ms <= 0) return get;
  let at = -Infinity;
  let value: T;
  return () => {
    const now = performance.now();
    if (now - at >= ms) {
      value = get();
      at = now;
    }
    return value;
  };
}

export function createLogicalTarget(options: LogicalTargetOptions): LogicalTarget {
  const { discovery, metrics, target } = options;
  const random = options.random ?? Math.random;
  const queue = options.queue ?? DEFAULT_QUEUE;
  const { name, port } = splitAuthority(options.authority);
  const balancers = new Map<string, Balancer>();
  let plan: RoutingPlan | undefined;
  let policyWatch: LatestWatch<PolicyValue> | undefined;
  let profileWatch: LatestWatch<ProfileValue> | undefined;
  const unsubs: (() => void)[] = [];
  let resolving: Promise<RoutingPlan> | undefined;
  let closed = false;

  /** Without a policy: the Service named by a `name.ns.svc.<zone>` authority, or the address itself. */
  const fallbackParent = (): ParentLabels => {
    const svc = /^([a-z0-9-]+)\.([a-z0-9-]+)\.svc\./i.exec(name);
    return {
      parent_group: svc ? 'core' : '',
      parent_kind: svc ? 'Service' : 'default',
      parent_namespace: svc?.[2] ?? '',
      parent_name: svc?.[1] ?? name,
      parent_port: port === undefined ? '' : String(port),
      parent_section_name: '',
    };
  };

  const addressed: Endpoint = {
    key: options.authority,
    addr: { host: name, port: port ?? 80 },
    weight: 1,
    identity: undefined,
    serverName: undefined,
    protocolHint: 'unknown',
    opaqueTransportPort: undefined,
    authorityOverride: undefined,
    labels: {},
  };

  /** A backend straight to the addressed host:port (no discovery), with the profile's endpoint hint. */
  const forwardBackend = (profile: ProfileValue | undefined): WeightedBackend => {
    const hinted: Endpoint | undefined = profile?.endpoint ? fromWeightedAddr(profile.endpoint) : undefined;
    const endpoint: Endpoint = hinted ?? addressed;
    return {
      weight: 1,
      backend: {
        key: `forward@${endpoint.key}`,
        labels: {
          backend_group: '',
          backend_kind: 'default',
          backend_namespace: '',
          backend_name: formatHostPort(endpoint.addr),
          backend_port: String(endpoint.addr.port),
          backend_section_name: '',
        },
        dispatch: { kind: 'forward', endpoint },
        queue,
      },
    };
  };

  const compute = (): RoutingPlan => {
    const policy = policyWatch?.current();
    const profile = profileWatch?.current();
    try {
      if (profileHasRouting(profile))
        return compileProfile(
          profile as NonNullable<ProfileValue>,
          options.authority,
          fallbackParent(),
          queue,
        );
      if (policy) return compilePolicy(policy, name, port);
    } catch (err) {
      // A malformed control-plane answer: the last good plan stays, else the default one below.
      options.onPlanError?.(err instanceof Error ? err : new Error(String(err)));
      if (plan) return plan;
    }
    if (target.kind === 'name' && discovery?.hasDestination)
      return defaultPlan(fallbackParent(), [
        { weight: 1, backend: balancerBackend(options.authority, name, String(port ?? ''), queue) },
      ]);
    return defaultPlan(fallbackParent(), [forwardBackend(profile)]);
  };

  const refresh = () => {
    if (closed || resolving) return;
    plan = compute();
    pruneBalancers();
  };

  const pruneBalancers = () => {
    if (!plan) return;
    const keep = new Set<string>();
    for (const r of plan.table.routes())
      for (const rule of r.rules) for (const b of rule.backends) keep.add(b.backend.key);
    for (const b of plan.opaqueBackends) keep.add(b.backend.key);
    for (const [key, b] of balancers) {
      if (!keep.has(key)) {
        balancers.delete(key);
        void b.close();
      }
    }
  };

  /** Re-reads the watches from discovery (refreshing their idle clocks, replacing evicted ones). */
  const touchMs = options.discoveryTouchMs ?? 0;
  const touch = every(touchMs, () => {
    if (!discovery) return;
    const pw = discovery.hasPolicy ? discovery.policy(target) : undefined;
    const fw = discovery.hasDestination ? discovery.profile(options.authority) : undefined;
    if (pw !== policyWatch || fw !== profileWatch) {
      for (const u of unsubs.splice(0)) u();
      policyWatch = pw;
      profileWatch = fw;
      if (pw) unsubs.push(pw.subscribe(refresh));
      if (fw) unsubs.push(fw.subscribe(refresh));
    }
  });

  const resolvePlan = async (): Promise<RoutingPlan> => {
    touch();
    if (plan) return plan;
    resolving ??= (async () => {
      await Promise.all([
        policyWatch?.first(options.discoveryTimeoutMs),
        profileWatch?.first(options.profileTimeoutMs),
      ]);
      return compute();
    })();
    const p = await resolving;
    resolving = undefined;
    plan ??= p;
    return plan;
  };

  const balancerFor = (backend: BackendSpec, p: RoutingPlan): Balancer => {
    let b = balancers.get(backend.key);
    if (!b) {
      const d = backend.dispatch;
      b = createBalancer({
        backend,
        parent: p.parent,
        endpoints:
          d.kind === 'balancer' && discovery?.hasDestination
            ? every(touchMs, () => discovery.endpoints(d.path))
            : undefined,
        meshTls: options.meshTls,
        connectTimeoutMs: options.connectTimeoutMs,
        http1Engine: options.http1Engine ?? 'raw',
        http2Engine: options.http2Engine ?? 'raw',
        failureAccrual: p.failureAccrual,
        metrics,
        random,
        fallback: addressed,
      });
      balancers.set(backend.key, b);
    }
    return b;
  };

  // Metric label objects, one per route and route-backend of a plan (the metrics layer resolves
  // its children once per object).
  const routeKeys = new WeakMap<OutboundRoute, RouteKey>();
  const backendKeys = new WeakMap<OutboundRoute, Map<BackendSpec, RouteBackendKey>>();
  const routeKeyOf = (p: RoutingPlan, route: OutboundRoute): RouteKey => {
    let k = routeKeys.get(route);
    if (!k) routeKeys.set(route, (k = { ...p.parent, ...route.labels, hostname: name }));
    return k;
  };
  const backendKeyOf = (p: RoutingPlan, route: OutboundRoute, backend: BackendSpec): RouteBackendKey => {
    let m = backendKeys.get(route);
    if (!m) backendKeys.set(route, (m = new Map()));
    let k = m.get(backend);
    if (!k) m.set(backend, (k = { ...p.parent, ...route.labels, ...backend.labels }));
    return k;
  };

  // Linkerd's per-endpoint request_total/response_total/response_latency_ms labels (dst_* from
  // discovery included), one object per endpoint client (the metrics layer caches by object). A
  // proxy error's `error` label is its stable code (as on the inbound side), the same code as in
  // l5d-proxy-error.
  const legacyLabels = new WeakMap<EndpointClient, TargetLabels>();
  const legacyLabelsOf = (client: EndpointClient): TargetLabels => {
    let l = legacyLabels.get(client);
    if (!l) {
      l = outboundEndpointLabels(options.authority, client.endpoint, client.tls);
      legacyLabels.set(client, l);
    }
    return l;
  };

  /**
   * Offers one attempt to the open taps: the app as source, the chosen endpoint as destination
   * with its discovery labels and TLS status, the route's name as route label.
   */
  const tapAttempt = (
    hub: TapHub,
    ex: Exchange,
    client: EndpointClient,
    route: OutboundRoute,
    headers: Headers,
  ): TapHandle | undefined => {
    const ep = client.endpoint;
    const labels = legacyLabelsOf(client);
    return hub.start({
      direction: 'outbound',
      source: ex.peer(),
      destination: { ip: ep.addr.host, port: ep.addr.port },
      // As Linkerd's tap: the endpoint's labels and its TLS, "true" with the server's identity.
      destinationLabels:
        labels.tls === 'true'
          ? { ...ep.labels, tls: 'true', server_id: labels.server_id ?? '' }
          : { ...ep.labels, tls: labels.no_tls_reason ?? '' },
      routeLabels: { route: route.labels.route_name },
      method: ex.method,
      scheme: 'http',
      authority: ex.authority,
      path: ex.path,
      headers,
    });
  };

  const context: RouteContext = {
    metrics,
    proxyMetrics: options.proxyMetrics,
    tap: options.tap,
    random,
    onError: (err) => options.onError?.(err),
    balancerFor,
    routeKeyOf,
    backendKeyOf,
    legacyLabelsOf,
    tapAttempt,
  };

  /** Matches the request to a rule of the plan and serves it. */
  const route = (ex: Exchange, p: RoutingPlan, owner: RequestOwner | undefined): void => {
    const prepared = new PreparedRequest({
      method: ex.method,
      path: ex.path,
      headers: ex.headers,
      host: name,
    });
    const hit = p.table.find(prepared);
    const rule = hit?.route.rules[hit.ruleIndex];
    if (!hit || !rule) {
      ex.fail(
        new ProxyError(
          ProxyErrorCode.RouteNotFound,
          hit
            ? `route ${hit.route.labels.route_name} has no rule ${hit.ruleIndex}`
            : `no route of ${options.authority} matches ${ex.method} ${ex.path}`,
        ),
      );
      owner?.requestEnded();
      return;
    }
    new RouteRequest(context, ex, p, hit.route, rule, owner).start();
  };

  return {
    authority: options.authority,
    plan: () => plan,
    balancers: () => balancers,
    handle(ex, owner) {
      // A resolved plan is used synchronously: no promise per request before serving it.
      if (plan) {
        touch();
        route(ex, plan, owner);
        return;
      }
      resolvePlan().then(
        (p) => route(ex, p, owner),
        (err: unknown) => {
          ex.fail(toProxyError(err));
          owner?.requestEnded();
        },
      );
    },
    async leaseForUpgrade(method, path, headers, signal) {
      const p = await resolvePlan();
      const hit = p.table.find(new PreparedRequest({ method, path, headers, host: name }));
      const rule = hit?.route.rules[hit.ruleIndex];
      if (!rule)
        throw new ProxyError(
          ProxyErrorCode.RouteNotFound,
          `no route of ${options.authority} matches ${method} ${path}`,
        );
      const backend = pickWeighted(rule.backends, random);
      if (!backend)
        throw new ProxyError(
          ProxyErrorCode.FailFast,
          `route ${hit?.route.labels.route_name} has no backends`,
        );
      return balancerFor(backend, p).acquire(abortHookOf(signal));
    },
    async leaseForOpaque(signal) {
      const p = await resolvePlan();
      const backends =
        p.opaqueBackends.length > 0 ? p.opaqueBackends : [forwardBackend(profileWatch?.current())];
      const backend = pickWeighted(backends, random);
      if (!backend)
        throw new ProxyError(ProxyErrorCode.FailFast, `${options.authority} has no opaque backends`);
      return balancerFor(backend, p).acquire(abortHookOf(signal));
    },
    async close() {
      closed = true;
      for (const u of unsubs.splice(0)) u();
      const all = [...balancers.values()];
      balancers.clear();
      await Promise.all(all.map((b) => b.close()));
    },
  };
}
