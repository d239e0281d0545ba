// One request served by a route of a logical target: injected failures and header edits, a
// weighted backend per attempt, the route's request, response and idle timeouts, retries (bodies
// buffered up to the route's limit; within the retry budget or the route's max retries), resends of
// requests an endpoint provably did not process, and the route, backend and endpoint metrics.
//
// The request is one object that steps through its attempts on callbacks: the endpoint client
// tells it of the response (or the failure) of an attempt, the exchange tells it when the response
// has been relayed. An async function with a promise per attempt and per response (and their
// closures) held more state per request in flight, which the young generation's collections copy
// and then promote: it was the largest share of what the mesh outbound allocated beyond the plain
// path (bench/README.md, "Proxy outbound mesh", session 11).
import { Readable } from 'node:stream';
import { ProxyError, ProxyErrorCode, PROXY_ERRORS, toProxyError } from '../../errors/index.js';
import type { ProxyMetrics, TargetLabels } from '../../metrics/index.js';
import { MAX_UNPROCESSED_RESENDS } from '../../http/index.js';
import {
  perRequestPolicy,
  type BackendSpec,
  type HeaderEdits,
  type OutboundRoute,
  type RetryPolicy,
  type RouteRule,
  type RoutingPlan,
  type WeightedBackend,
} from '../../route/index.js';
import type { TapHandle, TapHub } from '../../tap/index.js';
import { ChildAbortHooks, type AbortHook } from '../abort-hook.js';
import { isFailureResponse, type Balancer, type EndpointLease } from '../concrete/index.js';
import type {
  AttemptReceiver,
  AttemptRequest,
  AttemptResponse,
  EndpointClient,
  Headers,
} from '../endpoint/index.js';
import type { MeshMetrics, RouteBackendKey, RouteKey } from '../mesh-metrics.js';
import { grpcStatusOf, type Exchange, type ResponseReceiver } from './exchange.js';
import { RouteTimers, type RouteTimersOptions } from './route-timers.js';

/** Told once when a request is over (answered, failed, or its client gone). */
export interface RequestOwner {
  requestEnded(): void;
}

/** What a request needs of its logical target: one object per target, shared by its requests. */
export interface RouteContext {
  readonly metrics: MeshMetrics;
  readonly proxyMetrics: ProxyMetrics | undefined;
  readonly tap: TapHub | undefined;
  readonly random: () => number;
  /** Every error the proxy answered a request with. */
  onError(err: ProxyError): void;
  balancerFor(backend: BackendSpec, plan: RoutingPlan): Balancer;
  routeKeyOf(plan: RoutingPlan, route: OutboundRoute): RouteKey;
  backendKeyOf(plan: RoutingPlan, route: OutboundRoute, backend: BackendSpec): RouteBackendKey;
  /** Linkerd's per-endpoint labels of an endpoint client. */
  legacyLabelsOf(client: EndpointClient): TargetLabels;
  /** Offers one attempt to the open taps. */
  tapAttempt(
    hub: TapHub,
    ex: Exchange,
    client: EndpointClient,
    route: OutboundRoute,
    headers: Headers,
  ): TapHandle | undefined;
}

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

export const pickWeighted = (
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

const secondsSince = (started: number): number => (performance.now() - started) / 1000;

function retryable(
  policy: RetryPolicy,
  rule: RouteRule,
  status: number,
  grpcStatus: number | undefined,
): boolean {
  if (rule.isFailure) return rule.isFailure(status);
  for (const [lo, hi] of policy.httpStatuses) if (status >= lo && status <= hi) return true;
  return grpcStatus !== undefined && policy.grpcCodes.has(grpcStatus);
}

/**
 * A request on its route. It is also what each attempt sends (AttemptRequest: the exchange's
 * method, path and body, the headers with the route's edits, the authority of the attempt's
 * endpoint), what the endpoint client answers (AttemptReceiver) and what the exchange tells once
 * the response is relayed (ResponseReceiver), and the options of its route timers (their expiry
 * aborts the exchange).
 */
export class RouteRequest implements AttemptRequest, AttemptReceiver, ResponseReceiver, RouteTimersOptions {
  readonly #proto: 'grpc' | 'http';
  readonly #routeKey: RouteKey;
  readonly #started = performance.now();
  #retry: RetryPolicy | undefined = undefined;
  #responseMs: number | undefined = undefined;
  // RouteTimersOptions.
  idleMs: number | undefined = undefined;
  requestMs: number | undefined = undefined;
  #timers: RouteTimers | undefined = undefined;
  #replayable = true;
  /** Attempts of the route's retry policy so far (resends of unprocessed requests not counted). */
  #attempt = 0;
  #resends = 0;
  /** The endpoint that refused the previous attempt unprocessed: the balancer avoids it once. */
  #refusedBy: EndpointClient | undefined = undefined;
  #ended = false;

  // The attempt in flight.
  #backendKey: RouteBackendKey | undefined = undefined;
  /** A hook of the attempt's own, only for an attempt with its own response timeout. */
  #ownHook: ChildAbortHooks | undefined = undefined;
  #attemptHook: AbortHook;
  #attemptStarted = 0;
  #lease: EndpointLease | undefined = undefined;
  #legacy: TargetLabels | undefined = undefined;
  #tapped: TapHandle | undefined = undefined;
  /** The response being relayed to the client. */
  #response: AttemptResponse | undefined = undefined;
  /** The grpc-status of the attempt's response head (undefined: none, or the attempt failed). */
  #grpcStatus: number | undefined = undefined;

  // AttemptRequest.
  headers: Headers;
  body: Buffer | Readable | null;
  authority: string;

  constructor(
    private readonly ctx: RouteContext,
    private readonly ex: Exchange,
    private readonly plan: RoutingPlan,
    private readonly route: OutboundRoute,
    private readonly rule: RouteRule,
    private readonly owner: RequestOwner | undefined,
  ) {
    this.#proto = route.kind === 'grpc' || ex.grpc ? 'grpc' : 'http';
    this.#routeKey = ctx.routeKeyOf(plan, route);
    this.#attemptHook = ex.abortHook;
    this.headers = ex.headers;
    this.body = ex.body;
    this.authority = ex.authority;
  }

  get method(): string {
    return this.ex.method;
  }

  get path(): string {
    return this.ex.path;
  }

  get http2(): boolean {
    return this.ex.http2;
  }

  /** RouteTimersOptions: a request or idle timeout expired. */
  expire(reason: ProxyError): void {
    this.ex.abort(reason);
  }

  /** Serves the request: its first attempt, or the route's injected failure. */
  start(): void {
    try {
      this.#start();
    } catch (err) {
      this.#fail(err);
    }
  }

  #start(): void {
    const { ex, rule } = this;
    if (rule.failure && this.ctx.random() < rule.failure.ratio) {
      const err = new ProxyError(ProxyErrorCode.InjectedFailure, rule.failure.message || 'injected failure', {
        httpStatus: this.#proto === 'grpc' ? 200 : rule.failure.status,
      });
      ex.fail(err);
      this.#routeEnded(String(rule.failure.status), '');
      return;
    }
    // Routes that allow it take retry and timeout overrides from l5d-* request headers (taken off
    // the request); other routes cost nothing here.
    const perRequest = rule.allowL5dRequestHeaders
      ? perRequestPolicy(ex.headers, rule.retry, rule.timeouts)
      : undefined;
    const timeouts = perRequest?.timeouts ?? rule.timeouts;
    this.requestMs = timeouts.requestMs;
    this.#responseMs = timeouts.responseMs;
    this.idleMs = timeouts.idleMs;
    // The exchange's hook is the deadline: the client going away and the route's request and idle
    // timeouts all abort it. The timeouts share one timer, armed from the start; the idle one is
    // restarted by response data. (Request bytes do not restart it: a 'data' listener would switch
    // the request stream to flowing before its consumer attaches.)
    if (this.requestMs !== undefined || this.idleMs !== undefined) this.#timers = new RouteTimers(this);
    const retry = perRequest ? perRequest.retry : rule.retry;
    this.#retry = retry;
    this.headers = applyEdits(perRequest?.headers ?? ex.headers, rule.requestHeaders);
    const body = ex.body;
    // A body already whole is replayable as it is.
    if (retry && body && !Buffer.isBuffer(body)) {
      const len = Number(ex.headers['content-length'] ?? NaN);
      if (!(len > retry.maxRequestBytes)) {
        bufferUpTo(body, retry.maxRequestBytes).then(
          (b) => {
            this.body = b;
            this.#firstAttempt();
          },
          (err: unknown) => this.#fail(err),
        );
        return;
      }
    }
    this.#firstAttempt();
  }

  #firstAttempt(): void {
    const body = this.body;
    this.#replayable = body === null || Buffer.isBuffer(body);
    this.#retry?.budget?.deposit();
    this.#nextAttempt();
  }

  /** Sends one attempt to an endpoint of a weighted backend. */
  #nextAttempt(): void {
    if (this.#ended) return;
    let leased: EndpointLease | Promise<EndpointLease>;
    try {
      // A resend of an unprocessed request is not another attempt of the route's retry policy.
      if (this.#refusedBy === undefined) this.#attempt++;
      const backend = pickWeighted(this.rule.backends, this.ctx.random);
      if (!backend)
        throw new ProxyError(
          ProxyErrorCode.FailFast,
          `route ${this.route.labels.route_name} has no backends`,
        );
      this.#backendKey = this.ctx.backendKeyOf(this.plan, this.route, backend);
      const perTry = this.#retry?.timeoutMs ?? this.#responseMs;
      const exHook = this.ex.abortHook;
      const own = perTry === undefined ? undefined : new ChildAbortHooks(exHook);
      this.#ownHook = own;
      if (own) (this.#timers ??= new RouteTimers(this)).startAttempt(own, perTry as number);
      this.#attemptHook = own ?? exHook;
      this.#attemptStarted = performance.now();
      this.#lease = undefined;
      this.#legacy = undefined;
      this.#tapped = undefined;
      try {
        leased = this.ctx.balancerFor(backend, this.plan).acquire(this.#attemptHook, this.#refusedBy);
      } catch (err) {
        this.#attemptEnded(undefined, err);
        return;
      }
    } catch (err) {
      this.#fail(err);
      return;
    }
    this.#refusedBy = undefined;
    if (leased instanceof Promise)
      leased.then(
        (lease) => this.#leased(lease),
        (err: unknown) => this.#attemptEnded(undefined, err),
      );
    else this.#leased(leased);
  }

  #leased(lease: EndpointLease): void {
    const client = lease.client;
    this.#lease = lease;
    try {
      const { ctx } = this;
      ctx.metrics.backendRequest(this.#proto, this.#backendKey as RouteBackendKey);
      const legacy = ctx.legacyLabelsOf(client);
      this.#legacy = legacy;
      if (ctx.tap?.active) this.#tapped = ctx.tapAttempt(ctx.tap, this.ex, client, this.route, this.headers);
      ctx.proxyMetrics?.request(legacy);
      this.authority = client.endpoint.authorityOverride ?? this.ex.authority;
      client.sendTo(this, this.#attemptHook, this);
    } catch (err) {
      this.attemptFailed(err);
    }
  }

  /** AttemptReceiver: the attempt's response head. */
  attemptResponded(response: AttemptResponse): void {
    const lease = this.#lease as EndpointLease;
    const grpcStatus = grpcStatusOf(response.headers);
    this.#grpcStatus = grpcStatus;
    lease.release(isFailureResponse(response.status, grpcStatus), performance.now() - this.#attemptStarted);
    this.#attemptEnded(response, undefined);
  }

  /** AttemptReceiver: the attempt failed before its response head. */
  attemptFailed(err: unknown): void {
    // A client that went away is not the endpoint's failure: failure accrual must not eject an
    // endpoint because load generators or impatient clients hung up mid-request.
    this.#lease?.release(!this.ex.gone, undefined);
    this.#grpcStatus = undefined;
    this.#attemptEnded(undefined, err);
  }

  /** An attempt is over: its response is relayed, or it is resent, retried, or the request fails. */
  #attemptEnded(response: AttemptResponse | undefined, failure: unknown): void {
    const hook = this.#attemptHook;
    const error =
      response === undefined ? toProxyError(hook.aborted && hook.reason ? hook.reason : failure) : undefined;
    const own = this.#ownHook;
    if (own) {
      this.#ownHook = undefined;
      this.#timers?.endAttempt();
      own.detach();
    }
    try {
      this.#decide(response, error);
    } catch (err) {
      this.#fail(err);
    }
  }

  #decide(response: AttemptResponse | undefined, error: ProxyError | undefined): void {
    const { ctx, ex, rule } = this;
    const proto = this.#proto;
    const retry = this.#retry;
    const exHook = ex.abortHook;
    // Read once, when the attempt ended (attemptResponded).
    const grpcStatus = this.#grpcStatus;
    // An endpoint that never processed the request gets it sent again (to another endpoint
    // when one is ready) whatever the route's policy, while the body can be replayed.
    const resend =
      error?.unprocessed === true &&
      this.#replayable &&
      !exHook.aborted &&
      this.#resends < MAX_UNPROCESSED_RESENDS;
    // Retry decision: retryable route, replayable body, not the client's or the request timeout's doing.
    let wantsRetry =
      !resend &&
      retry !== undefined &&
      this.#replayable &&
      !exHook.aborted &&
      (response
        ? retryable(retry, rule, response.status, grpcStatus)
        : error !== undefined && error.code !== ProxyErrorCode.LoadShed);
    if (wantsRetry && retry) {
      if (this.#attempt > retry.maxRetries) {
        ctx.metrics.retry(proto, this.#routeKey, 'limit_exceeded');
        wantsRetry = false;
      } else if (retry.budget && !retry.budget.tryWithdraw()) {
        ctx.metrics.retry(proto, this.#routeKey, 'overflow');
        wantsRetry = false;
      }
    }
    if (response && !wantsRetry) {
      const timers = this.#timers;
      if (this.idleMs !== undefined && timers) {
        timers.touch();
        response.onBodyData(timers.toucher);
      }
      this.#response = response;
      ex.respond(
        response,
        rule.responseHeaders ? applyEdits(response.headers, rule.responseHeaders) : response.headers,
        this,
      );
      return;
    }
    const seconds = secondsSince(this.#attemptStarted);
    const backendKey = this.#backendKey as RouteBackendKey;
    const legacy = this.#legacy;
    if (response) {
      ctx.metrics.backendResponse(
        proto,
        backendKey,
        seconds,
        proto === 'grpc' ? String(grpcStatus ?? '') : String(response.status),
        '',
      );
      response.discard();
      this.#tapped?.end({ statusCode: response.status, grpcStatus, error: undefined });
      if (legacy)
        ctx.proxyMetrics?.response(legacy, {
          statusCode: response.status,
          grpcStatus,
          error: undefined,
          latencyMs: seconds * 1000,
        });
    } else if (error) {
      ctx.metrics.backendResponse(proto, backendKey, seconds, '', PROXY_ERRORS[error.code].routeErrorLabel);
      this.#tapped?.end({ statusCode: undefined, grpcStatus: undefined, error: error.code });
      if (legacy)
        ctx.proxyMetrics?.response(legacy, {
          statusCode: undefined,
          grpcStatus: undefined,
          error: error.code,
          latencyMs: seconds * 1000,
        });
    }
    if (resend) {
      this.#resends++;
      this.#refusedBy = this.#lease?.client;
      this.#nextAttempt();
      return;
    }
    if (!wantsRetry || !retry) throw error ?? new ProxyError(ProxyErrorCode.Unexpected, 'no response');
    ctx.metrics.retry(proto, this.#routeKey, 'requests');
    if (retry.backoff) {
      const { minMs, maxMs, jitter } = retry.backoff;
      const base = Math.min(maxMs, minMs * 2 ** Math.min(20, this.#attempt - 1));
      sleep(base * (1 + jitter * (2 * ctx.random() - 1)), exHook).then(() => this.#nextAttempt());
      return;
    }
    this.#nextAttempt();
  }

  /** ResponseReceiver: the response was relayed to the client (`streamError`: cut short). */
  responded(streamError: boolean, grpcStatus: number | undefined): void {
    try {
      const { ctx } = this;
      const proto = this.#proto;
      const response = this.#response as AttemptResponse;
      const grpc = grpcStatus ?? this.#grpcStatus;
      const statusLabel = proto === 'grpc' ? String(grpc ?? '') : String(response.status);
      const errorLabel = streamError ? 'IO' : '';
      ctx.metrics.backendResponse(
        proto,
        this.#backendKey as RouteBackendKey,
        secondsSince(this.#attemptStarted),
        statusLabel,
        errorLabel,
      );
      if (this.#attempt > 1 && !isFailureResponse(response.status, grpcStatus))
        ctx.metrics.retry(proto, this.#routeKey, 'successes');
      const legacy = this.#legacy;
      if (legacy)
        ctx.proxyMetrics?.response(legacy, {
          statusCode: response.status,
          grpcStatus: grpc,
          error: streamError ? ProxyErrorCode.EndpointReset : undefined,
          latencyMs: performance.now() - this.#attemptStarted,
        });
      this.#tapped?.end({
        statusCode: response.status,
        grpcStatus: grpc,
        error: streamError ? 'stream error' : undefined,
      });
      this.#routeEnded(statusLabel, errorLabel);
    } catch (err) {
      this.#fail(err);
    }
  }

  /** The request fails: answered with the proxy's error unless its client went away. */
  #fail(err: unknown): void {
    if (this.#ended) return;
    const ex = this.ex;
    const exHook = ex.abortHook;
    const e = toProxyError(exHook.aborted && ProxyError.is(exHook.reason) ? exHook.reason : err);
    // When the client went away there is nobody to answer and nothing the proxy did wrong.
    if (!ex.gone) {
      ex.fail(e);
      this.ctx.onError(e);
    }
    this.#routeEnded(
      this.#proto === 'grpc' ? String(PROXY_ERRORS[e.code].grpcStatus) : String(e.httpStatus),
      PROXY_ERRORS[e.code].routeErrorLabel,
    );
  }

  #routeEnded(status: string, error: string): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#timers?.stop();
    this.ctx.metrics.routeRequest(this.#proto, this.#routeKey, secondsSince(this.#started), status, error);
    this.owner?.requestEnded();
  }
}
