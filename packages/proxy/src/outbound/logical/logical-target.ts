// The logical level: one target the app addressed (a Service name and port in explicit mode, an
// original destination IP:port in transparent mode). It follows the target's OutboundPolicy and
// ServiceProfile, compiles them into a routing plan, and serves each request: route match,
// injected failures and header edits, a weighted backend per attempt, per-route request and
// response timeouts, retries (bodies buffered up to the route's limit; within the profile's retry
// budget or the route's max retries), route and backend metrics.
import { PreparedRequest } from '@tsmesh/core/data-plane';
import type { ProxyMetrics, TargetLabels } from '../../metrics/index.js';
import { outboundEndpointLabels } from '../endpoint-labels.js';
import { Readable } from 'node:stream';
import type {
  Discovery,
  DiscoveryTarget,
  Endpoint,
  LatestWatch,
  PolicyValue,
  ProfileValue,
} from '../../discovery/index.js';
import { fromWeightedAddr, formatHostPort } from '../../discovery/index.js';
import { ProxyError, ProxyErrorCode, PROXY_ERRORS, toProxyError } from '../../errors/index.js';
import {
  balancerBackend,
  compilePolicy,
  compileProfile,
  DEFAULT_QUEUE,
  defaultPlan,
  perRequestPolicy,
  profileHasRouting,
  type BackendSpec,
  type HeaderEdits,
  type OutboundRoute,
  type ParentLabels,
  type RetryPolicy,
  type RouteRule,
  type RoutingPlan,
  type WeightedBackend,
} from '../../route/index.js';
import { MAX_UNPROCESSED_RESENDS } from '../../http/index.js';
import type { TapHandle, TapHub } from '../../tap/index.js';
import type { MeshTls } from '../../tls/index.js';
import { createBalancer, isFailureResponse, type Balancer, type EndpointLease } from '../concrete/index.js';
import type { AttemptRequest, AttemptResponse, EndpointClient, Headers } from '../endpoint/index.js';
import type { MeshMetrics, RouteBackendKey, RouteKey } from '../mesh-metrics.js';
import { abortHookOf, ChildAbortHooks, type AbortHook } from '../abort-hook.js';
import type { Exchange } from './exchange.js';
import { RouteTimers } from './route-timers.js';

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
}

export interface LogicalTarget {
  readonly authority: string;
  /** The plan in force (undefined before the first request resolved it). */
  plan(): RoutingPlan | undefined;
  handle(ex: Exchange): Promise<void>;
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

function applyEdits(headers: Headers, edits: HeaderEdits | undefined): Headers {
  if (!edits) return headers;
  const out = { ...headers };
  for (const [k, v] of edits.add) {
    const cur = out[k];
    out[k] = cur === undefined ? v : Array.isArray(cur) ? [...cur, v] : [cur, v];
  }
  for (const [k, v] of edits.set) out[k] = v;
  for (const k of edits.remove) delete out[k];
  return out;
}

/** Reads a body up to `max` bytes; returns the buffer, or a stream replaying what was read plus the rest. */
async function bufferUpTo(body: Readable, max: number): Promise<Buffer | Readable> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    chunks.push(b);
    size += b.length;
    if (size > max) {
      async function* rest() {
        yield* chunks;
        for await (const c of body) yield c as Buffer;
      }
      return Readable.from(rest(), { objectMode: false });
    }
  }
  return Buffer.concat(chunks, size);
}

const DONE: Promise<void> = Promise.resolve();

const secondsSince = (started: number): number => (performance.now() - started) / 1000;

/** The route's timeouts for one exchange: they abort it. */
const routeTimers = (ex: Exchange, requestMs: number | undefined, idleMs: number | undefined) =>
  new RouteTimers({ requestMs, idleMs, expire: (reason) => ex.abort(reason) });

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

const pickWeighted = (
  backends: readonly WeightedBackend[],
  random: () => number,
): BackendSpec | undefined => {
  if (backends.length <= 1) return backends[0]?.backend;
  const total = backends.reduce((s, b) => s + b.weight, 0);
  let r = random() * total;
  for (const b of backends) {
    r -= b.weight;
    if (r < 0) return b.backend;
  }
  return backends[backends.length - 1]?.backend;
};

/** Waits `ms`, or less when `hook` aborts first. */
const sleep = (ms: number, hook: AbortHook) =>
  new Promise<void>((resolve) => {
    if (hook.aborted) {
      resolve();
      return;
    }
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      hook.removeListener(done);
      resolve();
    }
    hook.addListener(done);
  });

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

  const retryable = (
    policy: RetryPolicy,
    rule: RouteRule,
    status: number,
    grpcStatus: number | undefined,
  ) => {
    if (rule.isFailure) return rule.isFailure(status);
    for (const [lo, hi] of policy.httpStatuses) if (status >= lo && status <= hi) return true;
    return grpcStatus !== undefined && policy.grpcCodes.has(grpcStatus);
  };

  const serve = async (
    ex: Exchange,
    p: RoutingPlan,
    route: OutboundRoute,
    rule: RouteRule,
  ): Promise<void> => {
    const proto = route.kind === 'grpc' || ex.grpc ? 'grpc' : 'http';
    const routeKey = routeKeyOf(p, route);
    const started = performance.now();
    // No closures in here (a context and a function each per request): the helpers take what
    // they need.

    if (rule.failure && random() < rule.failure.ratio) {
      const err = new ProxyError(ProxyErrorCode.InjectedFailure, rule.failure.message || 'injected failure', {
        httpStatus: proto === 'grpc' ? 200 : rule.failure.status,
      });
      ex.fail(err);
      metrics.routeRequest(proto, routeKey, secondsSince(started), String(rule.failure.status), '');
      return;
    }

    // Routes that allow it take retry and timeout overrides from l5d-* request headers (taken off
    // the request); other routes cost nothing here.
    const perRequest = rule.allowL5dRequestHeaders
      ? perRequestPolicy(ex.headers, rule.retry, rule.timeouts)
      : undefined;
    const { requestMs, responseMs, idleMs } = perRequest?.timeouts ?? rule.timeouts;
    // The exchange's hook is the deadline: the client going away and the route's request and idle
    // timeouts all abort it. The timeouts share one timer, armed from the start; the idle one is
    // restarted by response data. (Request bytes do not restart it: a 'data' listener would switch
    // the request stream to flowing before its consumer attaches.)
    const exHook = ex.abortHook;
    let timers =
      requestMs !== undefined || idleMs !== undefined ? routeTimers(ex, requestMs, idleMs) : undefined;

    const retry = perRequest ? perRequest.retry : rule.retry;
    let body: Buffer | Readable | null = ex.body;
    if (retry && body) {
      const len = Number(ex.headers['content-length'] ?? NaN);
      if (!(len > retry.maxRequestBytes)) body = await bufferUpTo(body, retry.maxRequestBytes);
    }
    const replayable = body === null || Buffer.isBuffer(body);
    retry?.budget?.deposit();
    const headers = applyEdits(perRequest?.headers ?? ex.headers, rule.requestHeaders);

    let attempt = 0;
    let resends = 0;
    // The endpoint that refused the previous attempt unprocessed: the balancer avoids it once.
    let refusedBy: EndpointClient | undefined;
    try {
      for (;;) {
        // A resend of an unprocessed request is not another attempt of the route's retry policy.
        if (refusedBy === undefined) attempt++;
        const backend = pickWeighted(rule.backends, random);
        if (!backend)
          throw new ProxyError(ProxyErrorCode.FailFast, `route ${route.labels.route_name} has no backends`);
        const bKey = backendKeyOf(p, route, backend);
        const perTry = retry?.timeoutMs ?? responseMs;
        // A hook of its own only for an attempt with its own response timeout.
        const ownHook = perTry === undefined ? undefined : new ChildAbortHooks(exHook);
        if (ownHook) (timers ??= routeTimers(ex, requestMs, idleMs)).startAttempt(ownHook, perTry as number);
        const attemptHook: AbortHook = ownHook ?? exHook;
        const attemptStarted = performance.now();
        let legacy: TargetLabels | undefined;
        let tapped: TapHandle | undefined;
        let response: AttemptResponse | undefined;
        let error: ProxyError | undefined;
        let client: EndpointClient | undefined;
        try {
          const leased = balancerFor(backend, p).acquire(attemptHook, refusedBy);
          refusedBy = undefined;
          const lease = leased instanceof Promise ? await leased : leased;
          client = lease.client;
          metrics.backendRequest(proto, bKey);
          legacy = legacyLabelsOf(lease.client);
          if (options.tap?.active) tapped = tapAttempt(options.tap, ex, lease.client, route, headers);
          options.proxyMetrics?.request(legacy);
          const request: AttemptRequest = {
            method: ex.method,
            path: ex.path,
            authority: lease.client.endpoint.authorityOverride ?? ex.authority,
            headers,
            body,
            http2: ex.http2,
          };
          try {
            response = await lease.client.send(request, attemptHook);
          } catch (err) {
            // A client that went away is not the endpoint's failure: failure accrual must not eject
            // an endpoint because load generators or impatient clients hung up mid-request.
            lease.release(!ex.gone, undefined);
            throw err;
          }
          const latency = performance.now() - attemptStarted;
          const grpcStatus =
            response.headers['grpc-status'] === undefined
              ? undefined
              : Number(response.headers['grpc-status']);
          lease.release(isFailureResponse(response.status, grpcStatus), latency);
        } catch (err) {
          error = toProxyError(attemptHook.aborted && attemptHook.reason ? attemptHook.reason : err);
        } finally {
          if (ownHook) {
            timers?.endAttempt();
            ownHook.detach();
          }
        }
        const seconds = secondsSince(attemptStarted);
        const grpcStatus =
          response?.headers['grpc-status'] === undefined
            ? undefined
            : Number(response.headers['grpc-status']);
        // An endpoint that never processed the request gets it sent again (to another endpoint
        // when one is ready) whatever the route's policy, while the body can be replayed.
        const resend =
          error?.unprocessed === true && replayable && !exHook.aborted && resends < MAX_UNPROCESSED_RESENDS;
        // Retry decision: retryable route, replayable body, not the client's or the request timeout's doing.
        let wantsRetry =
          !resend &&
          retry !== undefined &&
          replayable &&
          !exHook.aborted &&
          (response
            ? retryable(retry, rule, response.status, grpcStatus)
            : error !== undefined && error.code !== ProxyErrorCode.LoadShed);
        if (wantsRetry && retry) {
          if (attempt > retry.maxRetries) {
            metrics.retry(proto, routeKey, 'limit_exceeded');
            wantsRetry = false;
          } else if (retry.budget && !retry.budget.tryWithdraw()) {
            metrics.retry(proto, routeKey, 'overflow');
            wantsRetry = false;
          }
        }
        if (response && !wantsRetry) {
          if (idleMs !== undefined && timers) {
            timers.touch();
            response.onBodyData(timers.toucher);
          }
          const outcome = await ex.respond(
            response,
            rule.responseHeaders ? applyEdits(response.headers, rule.responseHeaders) : response.headers,
          );
          const statusLabel =
            proto === 'grpc' ? String(outcome.grpcStatus ?? grpcStatus ?? '') : String(response.status);
          metrics.backendResponse(
            proto,
            bKey,
            secondsSince(attemptStarted),
            statusLabel,
            outcome.streamError ? 'IO' : '',
          );
          if (attempt > 1 && !isFailureResponse(response.status, outcome.grpcStatus))
            metrics.retry(proto, routeKey, 'successes');
          if (legacy)
            options.proxyMetrics?.response(legacy, {
              statusCode: response.status,
              grpcStatus: outcome.grpcStatus ?? grpcStatus,
              error: outcome.streamError ? ProxyErrorCode.EndpointReset : undefined,
              latencyMs: performance.now() - attemptStarted,
            });
          tapped?.end({
            statusCode: response.status,
            grpcStatus: outcome.grpcStatus ?? grpcStatus,
            error: outcome.streamError ? 'stream error' : undefined,
          });
          metrics.routeRequest(
            proto,
            routeKey,
            secondsSince(started),
            statusLabel,
            outcome.streamError ? 'IO' : '',
          );
          return;
        }
        if (response) {
          metrics.backendResponse(
            proto,
            bKey,
            seconds,
            proto === 'grpc' ? String(grpcStatus ?? '') : String(response.status),
            '',
          );
          response.discard();
          tapped?.end({ statusCode: response.status, grpcStatus, error: undefined });
          if (legacy)
            options.proxyMetrics?.response(legacy, {
              statusCode: response.status,
              grpcStatus,
              error: undefined,
              latencyMs: seconds * 1000,
            });
        } else if (error) {
          metrics.backendResponse(proto, bKey, seconds, '', PROXY_ERRORS[error.code].routeErrorLabel);
          tapped?.end({ statusCode: undefined, grpcStatus: undefined, error: error.code });
          if (legacy)
            options.proxyMetrics?.response(legacy, {
              statusCode: undefined,
              grpcStatus: undefined,
              error: error.code,
              latencyMs: seconds * 1000,
            });
        }
        if (resend) {
          resends++;
          refusedBy = client;
          continue;
        }
        if (!wantsRetry || !retry) throw error ?? new ProxyError(ProxyErrorCode.Unexpected, 'no response');
        metrics.retry(proto, routeKey, 'requests');
        if (retry.backoff) {
          const { minMs, maxMs, jitter } = retry.backoff;
          const base = Math.min(maxMs, minMs * 2 ** Math.min(20, attempt - 1));
          await sleep(base * (1 + jitter * (2 * random() - 1)), exHook);
        }
      }
    } catch (err) {
      const e = toProxyError(exHook.aborted && ProxyError.is(exHook.reason) ? exHook.reason : err);
      // When the client went away there is nobody to answer and nothing the proxy did wrong.
      if (!ex.gone) {
        ex.fail(e);
        options.onError?.(e);
      }
      metrics.routeRequest(
        proto,
        routeKey,
        secondsSince(started),
        proto === 'grpc' ? String(PROXY_ERRORS[e.code].grpcStatus) : String(e.httpStatus),
        PROXY_ERRORS[e.code].routeErrorLabel,
      );
    } finally {
      timers?.stop();
    }
  };

  /** Matches the request to a rule of the plan and serves it. */
  const route = (ex: Exchange, p: RoutingPlan): Promise<void> => {
    const prepared = new PreparedRequest({
      method: ex.method,
      path: ex.path,
      headers: ex.headers,
      host: name,
    });
    const hit = p.table.find(prepared);
    if (!hit) {
      ex.fail(
        new ProxyError(
          ProxyErrorCode.RouteNotFound,
          `no route of ${options.authority} matches ${ex.method} ${ex.path}`,
        ),
      );
      return DONE;
    }
    const rule = hit.route.rules[hit.ruleIndex];
    if (!rule) {
      ex.fail(
        new ProxyError(
          ProxyErrorCode.RouteNotFound,
          `route ${hit.route.labels.route_name} has no rule ${hit.ruleIndex}`,
        ),
      );
      return DONE;
    }
    return serve(ex, p, hit.route, rule);
  };

  return {
    authority: options.authority,
    plan: () => plan,
    balancers: () => balancers,
    handle(ex) {
      // A resolved plan is used synchronously: no promise per request before serving it.
      if (plan) {
        touch();
        return route(ex, plan);
      }
      return resolvePlan().then(
        (p) => route(ex, p),
        (err: unknown) => ex.fail(toProxyError(err)),
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
