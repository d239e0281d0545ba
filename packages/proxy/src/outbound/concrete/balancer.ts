// The concrete level: one backend of a route. A balancer backend follows Destination.Get for its
// path and picks an endpoint per request by P2C over peak-EWMA cost, skipping endpoints whose
// failure-accrual breaker is open. With no endpoint ready, a request waits in the backend's queue
// until one is (or fails fast after the queue's fail-fast timeout, 503 FAIL_FAST); a full queue
// sheds load at once (503 LOAD_SHED). A forward backend is a balancer of one fixed endpoint.
import { createPeakEwma, pickP2c, type PeakEwma } from '../../balance/index.js';
import { createFailureAccrual, type FailureAccrual } from '../../breaker/index.js';
import type { Endpoint, EndpointSet, LatestWatch } from '../../discovery/index.js';
import { ProxyError, ProxyErrorCode } from '../../errors/index.js';
import type { BackendSpec, FailureAccrualConfig, ParentLabels } from '../../route/index.js';
import type { MeshTls } from '../../tls/index.js';
import type { AbortHook } from '../abort-hook.js';
import { createEndpointClient, type EndpointClient } from '../endpoint/index.js';
import type { MeshMetrics } from '../mesh-metrics.js';

export interface BalancerOptions {
  readonly backend: BackendSpec;
  readonly parent: ParentLabels;
  /**
   * Endpoint discovery for a balancer backend (undefined for a forward backend). Called on every
   * request: it refreshes the watch's idle clock, and a watch replaced after an idle eviction is
   * followed instead of the closed one.
   */
  readonly endpoints: (() => LatestWatch<EndpointSet>) | undefined;
  readonly meshTls: MeshTls | undefined;
  readonly connectTimeoutMs: number;
  /** What the endpoints' HTTP/1 requests go over (default: the raw-socket engine). */
  readonly http1Engine?: 'raw' | 'node';
  readonly http2Engine?: 'raw' | 'node';
  readonly failureAccrual: FailureAccrualConfig | undefined;
  readonly metrics: MeshMetrics;
  readonly random?: () => number;
  readonly now?: () => number;
  /**
   * Where to send requests when discovery does not know the name at all (no_endpoints with
   * exists=false): the addressed host:port itself, as Linkerd falls back to DNS.
   */
  readonly fallback?: Endpoint;
}

export interface EndpointLease {
  readonly client: EndpointClient;
  /** Reports the attempt, once: whether it failed, and its latency to response headers (if it had them). */
  release(failed: boolean, latencyMs: number | undefined): void;
}

export interface Balancer {
  readonly backend: BackendSpec;
  /**
   * An endpoint for one request; `abort` ends the wait in the queue. The lease itself when an
   * endpoint is ready (no promise per request on the hot path), else a promise of it. `avoid`: an
   * endpoint not to pick while another one is ready (it just refused this request).
   */
  acquire(abort: AbortHook, avoid?: EndpointClient): EndpointLease | Promise<EndpointLease>;
  /** Endpoints by state, for tests and metrics. */
  stats(): { ready: number; ejected: number; total: number };
  close(): Promise<void>;
}

interface EndpointState {
  readonly client: EndpointClient;
  readonly ewma: PeakEwma;
  readonly breaker: FailureAccrual | undefined;
}

/** One request's hold on an endpoint: its load (pending requests) until released. */
class Lease implements EndpointLease {
  #released = false;

  constructor(
    private readonly state: EndpointState,
    private readonly now: () => number,
  ) {}

  get client(): EndpointClient {
    return this.state.client;
  }

  release(failed: boolean, latencyMs: number | undefined): void {
    if (this.#released) return;
    this.#released = true;
    const s = this.state;
    s.ewma.leave();
    if (latencyMs !== undefined) s.ewma.observe(latencyMs, this.now());
    s.breaker?.record(!failed);
  }
}

export function createBalancer(options: BalancerOptions): Balancer {
  const { backend, parent, metrics } = options;
  const now = options.now ?? (() => performance.now());
  const random = options.random ?? Math.random;
  const ewmaConfig =
    backend.dispatch.kind === 'balancer' ? backend.dispatch.ewma : { defaultRttMs: 30, decayMs: 10_000 };
  const states = new Map<string, EndpointState>();
  let exists = true;
  let hasSet = backend.dispatch.kind !== 'balancer';
  let closed = false;
  const waiters = new Set<() => void>();

  /** The endpoints as an array, rebuilt whenever they change (publish): pick() iterates it. */
  let stateList: EndpointState[] = [];
  const publish = () => {
    stateList = [...states.values()];
    let ready = 0;
    let ejected = 0;
    for (const s of states.values()) {
      if (s.breaker && s.breaker.state === 'open') ejected++;
      else ready++;
    }
    metrics.balancerEndpoints(parent, backend.labels, ready, states.size - ready);
    if (options.failureAccrual) metrics.breakerOpen(parent, backend.labels, ejected);
  };

  const makeState = (ep: Endpoint): EndpointState => {
    const fa = options.failureAccrual;
    return {
      client: createEndpointClient({
        endpoint: ep,
        meshTls: options.meshTls,
        connectTimeoutMs: options.connectTimeoutMs,
        http1Engine: options.http1Engine,
        http2Engine: options.http2Engine,
      }),
      ewma: createPeakEwma(ewmaConfig),
      breaker: fa
        ? createFailureAccrual({
            maxFailures: fa.maxFailures,
            backoff: fa.backoff,
            onStateChange: (s) => {
              if (s === 'open') metrics.breakerEjection(parent, backend.labels);
              publish();
              if (s === 'probation') wake();
            },
          })
        : undefined,
    };
  };

  const wake = () => {
    for (const w of [...waiters]) w();
  };

  const applySet = (set: EndpointSet) => {
    hasSet = true;
    exists = set.exists;
    for (const [key, s] of states) {
      const next =
        set.endpoints.get(key) ??
        (!set.exists && key === options.fallback?.key ? options.fallback : undefined);
      // Replace an endpoint whose identity or hint changed; keep the others (their pools, EWMA).
      if (
        !next ||
        next.identity !== s.client.endpoint.identity ||
        next.protocolHint !== s.client.endpoint.protocolHint
      ) {
        states.delete(key);
        void s.client.close(true);
      }
    }
    const wanted =
      !set.exists && set.endpoints.size === 0 && options.fallback
        ? new Map([[options.fallback.key, options.fallback]])
        : set.endpoints;
    for (const [key, ep] of wanted) if (!states.has(key)) states.set(key, makeState(ep));
    publish();
    wake();
  };

  let unsubscribe: (() => void) | undefined;
  let watch: LatestWatch<EndpointSet> | undefined;
  const follow = () => {
    const w = options.endpoints?.();
    if (w === undefined || w === watch) return;
    unsubscribe?.();
    watch = w;
    const current = w.current();
    if (current) applySet(current);
    unsubscribe = w.subscribe(applySet);
  };
  if (backend.dispatch.kind === 'forward') {
    const ep = backend.dispatch.endpoint;
    states.set(ep.key, makeState(ep));
    publish();
  } else follow();

  // The ready endpoints of the current pick (its first `readyCount` slots, the array never
  // shrunk: emptying it freed its storage and the next pick grew it again) and the clock it reads:
  // one array and one cost function for the balancer, not per request.
  const ready: EndpointState[] = [];
  let readyCount = 0;
  let pickedAt = 0;
  const costOf = (k: number) => (ready[k] as EndpointState).ewma.costAt(pickedAt);

  /** An endpoint to use now, or undefined. */
  const pick = (avoid?: EndpointClient): EndpointState | undefined => {
    const all = stateList;
    let n = 0;
    for (let i = 0; i < all.length; i++) {
      const s = all[i] as EndpointState;
      if (!s.breaker || s.breaker.admits()) ready[n++] = s;
    }
    if (n > 1 && avoid !== undefined) {
      // Dropped by moving the last one into its slot (the order does not matter to P2C).
      for (let i = 0; i < n; i++)
        if ((ready[i] as EndpointState).client === avoid) {
          ready[i] = ready[--n] as EndpointState;
          break;
        }
    }
    // Slots past this pick's (left from a larger one) no longer hold endpoints that may be gone.
    for (let i = n; i < readyCount; i++) ready[i] = undefined as unknown as EndpointState;
    readyCount = n;
    if (n === 0) return undefined;
    pickedAt = now();
    return ready[pickP2c(n, costOf, random)];
  };

  const lease = (s: EndpointState): EndpointLease => {
    s.breaker?.acquire();
    s.ewma.enter();
    return new Lease(s, now);
  };

  const unavailable = (): ProxyError => {
    if (backend.dispatch.kind === 'fail')
      return new ProxyError(ProxyErrorCode.FailFast, backend.dispatch.message);
    if (!hasSet)
      return new ProxyError(
        ProxyErrorCode.FailFast,
        `no endpoints discovered for ${backend.labels.backend_name} within ${backend.queue.failfastMs}ms`,
      );
    if (states.size === 0)
      return new ProxyError(
        ProxyErrorCode.NoEndpoints,
        exists
          ? `service ${backend.labels.backend_name} has no endpoints`
          : `service ${backend.labels.backend_name} is unknown to discovery`,
      );
    return new ProxyError(
      ProxyErrorCode.BreakerOpen,
      `all ${states.size} endpoints of ${backend.labels.backend_name} are ejected after consecutive failures`,
    );
  };

  return {
    backend,
    stats() {
      let ejected = 0;
      for (const s of states.values()) if (s.breaker && s.breaker.state === 'open') ejected++;
      return { ready: states.size - ejected, ejected, total: states.size };
    },
    acquire(abort, avoid) {
      follow();
      if (closed) return Promise.reject(new ProxyError(ProxyErrorCode.FailFast, 'the backend is closed'));
      const s = pick(avoid);
      if (s) return lease(s);
      if (backend.dispatch.kind === 'fail') return Promise.reject(unavailable());
      if (waiters.size >= backend.queue.capacity)
        return Promise.reject(
          new ProxyError(
            ProxyErrorCode.LoadShed,
            `the queue of ${backend.labels.backend_name} is full (${backend.queue.capacity})`,
          ),
        );
      return new Promise<EndpointLease>((resolve, reject) => {
        let recheck: NodeJS.Timeout | undefined;
        const finish = () => {
          waiters.delete(attempt);
          clearTimeout(failfast);
          clearTimeout(recheck);
          abort.removeListener(onAbort);
        };
        const attempt = () => {
          const got = pick();
          if (got) {
            finish();
            resolve(lease(got));
            return;
          }
          // Breakers reopen on a clock: look again when the first penalty ends.
          clearTimeout(recheck);
          let soonest = Infinity;
          for (const st of states.values())
            if (st.breaker) soonest = Math.min(soonest, st.breaker.remainingMs() || Infinity);
          if (soonest !== Infinity) recheck = setTimeout(attempt, Math.max(1, soonest + 1));
        };
        const onAbort = () => {
          finish();
          reject(abort.reason);
        };
        const failfast = setTimeout(() => {
          finish();
          reject(unavailable());
        }, backend.queue.failfastMs);
        waiters.add(attempt);
        if (abort.aborted) {
          onAbort();
          return;
        }
        abort.addListener(onAbort);
        attempt();
      });
    },
    async close() {
      closed = true;
      unsubscribe?.();
      metrics.forgetBackend(parent, backend.labels);
      const all = [...states.values()];
      states.clear();
      await Promise.all(all.map((s) => s.client.close()));
    },
  };
}

/** linkerd2-proxy's failure classification for accrual: 5xx, or these gRPC codes. */
const GRPC_FAILURES = new Set([4, 7, 13, 14, 15]);
export function isFailureResponse(status: number, grpcStatus: number | undefined): boolean {
  if (status >= 500) return true;
  return grpcStatus !== undefined && GRPC_FAILURES.has(grpcStatus);
}
