// The proxy's own error catalogue: every response or reset the proxy produces on its own carries
// one of these codes. The code is stable (tests, dashboards and the recent-errors endpoint key on
// it); it travels in the `l5d-proxy-error` response header as `<CODE>: <message>`, becomes the
// bounded `error` label of Linkerd's metric families, and picks the HTTP status and gRPC code.
//
// Linkerd's semantics (linkerd2-proxy app/core errors): fail-fast and load shedding answer 503,
// response timeouts 504, connection and protocol failures 502; gRPC clients get UNAVAILABLE or
// DEADLINE_EXCEEDED in a trailers-only response instead.
import { GrpcStatus, ProxyErrorLabel } from '@tsmesh/core/data-plane';

/** The closed set of codes. Add one here (with its row in PROXY_ERRORS) before using it. */
export const ProxyErrorCode = {
  /** The target had no ready endpoint for the whole fail-fast timeout. */
  FailFast: 'FAIL_FAST',
  /** The target's queue is full: the request was refused at once. */
  LoadShed: 'LOAD_SHED',
  /** Discovery says the service exists but has no endpoints. */
  NoEndpoints: 'NO_ENDPOINTS',
  /** Every endpoint of the backend is ejected by its circuit breaker. */
  BreakerOpen: 'BREAKER_OPEN',
  /** The route's request timeout passed before the response completed. */
  RequestTimeout: 'REQUEST_TIMEOUT',
  /** No response headers within the route's response timeout. */
  ResponseTimeout: 'RESPONSE_HEADERS_TIMEOUT',
  /** No frame moved in either direction within the route's idle timeout. */
  IdleTimeout: 'IDLE_TIMEOUT',
  /** Connecting to the endpoint failed or timed out. */
  ConnectFailed: 'CONNECT_FAILED',
  /** The endpoint reset the connection or stream. */
  EndpointReset: 'ENDPOINT_RESET',
  /** The endpoint did not present the identity discovery said it must (mesh TLS). */
  IdentityMismatch: 'IDENTITY_MISMATCH',
  /** The request body exceeded what the proxy buffers (e.g. for retries). */
  BodyTooLarge: 'BODY_TOO_LARGE',
  /** No route of the target's policy matches the request. */
  RouteNotFound: 'ROUTE_NOT_FOUND',
  /** The route's policy injected this failure (HTTPRoute failure injector). */
  InjectedFailure: 'INJECTED_FAILURE',
  /** Authorization policy refused the request or connection (inbound). */
  Forbidden: 'FORBIDDEN',
  /** A local rate limit refused the request (inbound). */
  RateLimited: 'RATE_LIMITED',
  /** The request has no usable target (explicit mode without a Host/:authority). */
  NoTarget: 'NO_TARGET',
  /** The request would be sent back to this proxy. */
  Loop: 'LOOP',
  /** Gateway mode: the request already passed through this gateway (Forwarded `by=`, or its own identity). */
  GatewayLoop: 'GATEWAY_LOOP',
  /** Gateway mode: the target is not a name under the gateway's suffixes (or has no discovery). */
  GatewayDomainInvalid: 'GATEWAY_DOMAIN_INVALID',
  /** Anything else: a bug or an unclassified failure. */
  Unexpected: 'UNEXPECTED',
} as const;
export type ProxyErrorCode = (typeof ProxyErrorCode)[keyof typeof ProxyErrorCode];

/** How one code shows up on the wire and in metrics. */
export interface ProxyErrorInfo {
  /** The HTTP status of the synthesized response. */
  readonly httpStatus: number;
  /** The gRPC status of the synthesized trailers-only response. */
  readonly grpcStatus: GrpcStatus;
  /** Linkerd's `{in,out}bound_{http,tcp}_errors_total{error}` value. */
  readonly errorLabel: ProxyErrorLabel;
  /** linkerd2-proxy's route metrics `error` value (RouteLabels::Error). */
  readonly routeErrorLabel: string;
  /** One sentence for the recent-errors listing. */
  readonly description: string;
}

const row = (
  httpStatus: number,
  grpcStatus: GrpcStatus,
  errorLabel: ProxyErrorLabel,
  routeErrorLabel: string,
  description: string,
): ProxyErrorInfo => Object.freeze({ httpStatus, grpcStatus, errorLabel, routeErrorLabel, description });

/** The catalogue: one row per code. A unit test checks that every code has a row. */
export const PROXY_ERRORS: Readonly<Record<ProxyErrorCode, ProxyErrorInfo>> = Object.freeze({
  FAIL_FAST: row(
    503,
    GrpcStatus.UNAVAILABLE,
    ProxyErrorLabel.FailFast,
    'FAIL_FAST',
    'no ready endpoint within the fail-fast timeout',
  ),
  LOAD_SHED: row(
    503,
    GrpcStatus.UNAVAILABLE,
    ProxyErrorLabel.LoadShed,
    'LOAD_SHED',
    'the queue for the target is full',
  ),
  NO_ENDPOINTS: row(
    503,
    GrpcStatus.UNAVAILABLE,
    ProxyErrorLabel.FailFast,
    'FAIL_FAST',
    'discovery reports no endpoints',
  ),
  BREAKER_OPEN: row(
    503,
    GrpcStatus.UNAVAILABLE,
    ProxyErrorLabel.FailFast,
    'FAIL_FAST',
    'every endpoint is ejected by failure accrual',
  ),
  REQUEST_TIMEOUT: row(
    504,
    GrpcStatus.DEADLINE_EXCEEDED,
    ProxyErrorLabel.ResponseTimeout,
    'REQUEST_TIMEOUT',
    'the route request timeout passed',
  ),
  RESPONSE_HEADERS_TIMEOUT: row(
    504,
    GrpcStatus.DEADLINE_EXCEEDED,
    ProxyErrorLabel.ResponseTimeout,
    'RESPONSE_HEADERS_TIMEOUT',
    'no response headers within the route response timeout',
  ),
  IDLE_TIMEOUT: row(
    504,
    GrpcStatus.DEADLINE_EXCEEDED,
    ProxyErrorLabel.ResponseTimeout,
    'IDLE_TIMEOUT',
    'the stream was idle longer than the route idle timeout',
  ),
  CONNECT_FAILED: row(
    502,
    GrpcStatus.UNAVAILABLE,
    ProxyErrorLabel.Io,
    'IO',
    'connecting to the endpoint failed',
  ),
  ENDPOINT_RESET: row(
    502,
    GrpcStatus.UNAVAILABLE,
    ProxyErrorLabel.Io,
    'RESET',
    'the endpoint reset the connection or stream',
  ),
  IDENTITY_MISMATCH: row(
    502,
    GrpcStatus.UNAVAILABLE,
    ProxyErrorLabel.IdentityRequired,
    'IO',
    'the endpoint did not present the expected mesh identity',
  ),
  BODY_TOO_LARGE: row(
    413,
    GrpcStatus.RESOURCE_EXHAUSTED,
    ProxyErrorLabel.Unexpected,
    'UNKNOWN',
    'the request body is larger than the proxy buffers',
  ),
  ROUTE_NOT_FOUND: row(
    404,
    GrpcStatus.NOT_FOUND,
    ProxyErrorLabel.Unexpected,
    'UNKNOWN',
    'no route matches the request',
  ),
  INJECTED_FAILURE: row(
    500,
    GrpcStatus.INTERNAL,
    ProxyErrorLabel.Unexpected,
    'UNKNOWN',
    'the route policy injected a failure',
  ),
  FORBIDDEN: row(
    403,
    GrpcStatus.PERMISSION_DENIED,
    ProxyErrorLabel.Unexpected,
    'UNKNOWN',
    'authorization policy denied the request',
  ),
  RATE_LIMITED: row(
    429,
    GrpcStatus.RESOURCE_EXHAUSTED,
    ProxyErrorLabel.Unexpected,
    'UNKNOWN',
    'a local rate limit refused the request',
  ),
  NO_TARGET: row(
    400,
    GrpcStatus.INVALID_ARGUMENT,
    ProxyErrorLabel.Unexpected,
    'UNKNOWN',
    'the request names no usable target',
  ),
  LOOP: row(
    502,
    GrpcStatus.UNAVAILABLE,
    ProxyErrorLabel.GatewayLoop,
    'UNKNOWN',
    'the request would loop back to this proxy',
  ),
  GATEWAY_LOOP: row(
    508,
    GrpcStatus.UNAVAILABLE,
    ProxyErrorLabel.GatewayLoop,
    'UNKNOWN',
    'the request already passed through this gateway',
  ),
  GATEWAY_DOMAIN_INVALID: row(
    404,
    GrpcStatus.NOT_FOUND,
    ProxyErrorLabel.GatewayDomainInvalid,
    'UNKNOWN',
    'the gateway does not forward to this target (not under its suffixes)',
  ),
  UNEXPECTED: row(
    502,
    GrpcStatus.UNAVAILABLE,
    ProxyErrorLabel.Unexpected,
    'UNKNOWN',
    'an unexpected failure in the proxy',
  ),
});

const BRAND = Symbol.for('@tsmesh/proxy.ProxyError');

export interface ProxyErrorOptions {
  readonly cause?: unknown;
  /** Overrides the catalogue's HTTP status (e.g. an injected failure's own status). */
  readonly httpStatus?: number;
  /** The endpoint never processed the request (see ProxyError.unprocessed). */
  readonly unprocessed?: boolean;
}

/** An error the proxy reports to its client itself, with a stable code. */
export class ProxyError extends Error {
  readonly code: ProxyErrorCode;
  readonly httpStatus: number;
  /**
   * True when the endpoint provably never processed the request: it refused the HTTP/2 stream
   * (REFUSED_STREAM, or a GOAWAY below the stream's id, RFC 9113 §8.7), the session had gone away
   * before the stream was opened, or the connection was refused. Such a request may be sent again,
   * even when it is not idempotent and the route has no retry policy.
   */
  readonly unprocessed: boolean;

  constructor(code: ProxyErrorCode, message: string, options: ProxyErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ProxyError';
    this.code = code;
    this.httpStatus = options.httpStatus ?? PROXY_ERRORS[code].httpStatus;
    this.unprocessed = options.unprocessed === true;
    Object.defineProperty(this, BRAND, { value: true });
  }

  static is(value: unknown): value is ProxyError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return ProxyError.is(value);
  }

  get info(): ProxyErrorInfo {
    return PROXY_ERRORS[this.code];
  }

  /** The `l5d-proxy-error` header value: the code first, so clients can match on it. */
  headerValue(): string {
    return formatProxyErrorHeader(this.code, this.message);
  }
}

/** `CODE: message`, with characters a header cannot carry replaced. */
export function formatProxyErrorHeader(code: ProxyErrorCode, message: string): string {
  return `${code}: ${message}`.replace(/[^\x20-\x7e]/g, ' ').slice(0, 512);
}

/** The code at the start of an `l5d-proxy-error` value, if it is one of ours. */
export function parseProxyErrorHeader(value: string | undefined): ProxyErrorCode | undefined {
  if (value === undefined) return undefined;
  const code = value.split(':', 1)[0]?.trim();
  return (Object.values(ProxyErrorCode) as string[]).includes(code ?? '')
    ? (code as ProxyErrorCode)
    : undefined;
}

const SOCKET_CONNECT_CODES = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'EADDRNOTAVAIL',
]);
const SOCKET_RESET_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'ERR_HTTP2_STREAM_ERROR',
  'ERR_HTTP2_SESSION_ERROR',
  'ERR_HTTP2_GOAWAY_SESSION',
  'ERR_HTTP2_STREAM_CANCEL',
  'ERR_STREAM_PREMATURE_CLOSE',
  'UND_ERR_ABORTED',
]);

/**
 * The catalogue code for any thrown value: the first ProxyError on the cause chain, else a
 * classification of well-known socket/undici/http2 codes, else UNEXPECTED. Bounded by design —
 * callers use the result as a metric label.
 */
export function classifyProxyError(err: unknown): ProxyErrorCode {
  let cur: unknown = err;
  for (let depth = 0; depth < 8 && cur !== undefined && cur !== null; depth++) {
    if (ProxyError.is(cur)) return cur.code;
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string') {
      if (SOCKET_CONNECT_CODES.has(code)) return ProxyErrorCode.ConnectFailed;
      if (SOCKET_RESET_CODES.has(code)) return ProxyErrorCode.EndpointReset;
      if (code === 'ERR_TLS_CERT_ALTNAME_INVALID' || code.startsWith('ERR_SSL'))
        return ProxyErrorCode.IdentityMismatch;
    }
    cur = (cur as { cause?: unknown }).cause;
  }
  return ProxyErrorCode.Unexpected;
}

/** A ProxyError for any thrown value (kept as the cause when it is not one already). */
export function toProxyError(err: unknown): ProxyError {
  if (ProxyError.is(err)) return err;
  const code = classifyProxyError(err);
  const message = err instanceof Error ? err.message : String(err);
  return new ProxyError(code, message || PROXY_ERRORS[code].description, { cause: err });
}
