// What one attempt to one endpoint is made of: the request as the logical level sends it, and the
// response it gets back, whose body the logical level relays to the client or drops (a retry).
import type { Readable, Writable } from 'node:stream';
import { ProxyError, ProxyErrorCode } from '../../errors/index.js';

export type Headers = Record<string, string | string[]>;

export interface AttemptRequest {
  readonly method: string;
  /** Path and query: origin form (the exchange turns an absolute-form target into it). */
  readonly path: string;
  readonly authority: string;
  /** Without hop-by-hop headers and pseudo-headers (the exchange strips them). */
  readonly headers: Headers;
  /** A buffered body (replayable) or a stream (one attempt only); null for none. */
  readonly body: Buffer | Readable | null;
  /** Send as HTTP/2 (the client spoke HTTP/2, e.g. gRPC). */
  readonly http2: boolean;
}

export interface AttemptResponse {
  readonly status: number;
  /** Without hop-by-hop headers and pseudo-headers. */
  readonly headers: Headers;
  /** Trailers, once the body has ended (undefined for none). */
  trailers(): Headers | undefined;
  /** True when the response has no body at all (HTTP/2 trailers-only, e.g. a gRPC error). */
  readonly endStream: boolean;
  /**
   * Writes the body to `to` and ends it. `done` is called once: false when `to` finished, true
   * when either side went away first (the other side is then destroyed too).
   */
  relay(to: Writable, done: (failed: boolean) => void): void;
  /**
   * Optional: writes the body to `sink` without a node stream between them (the raw engine's
   * client side; relay() is the fallback). The sink learns how the relay ended from the calls it
   * gets (end(), abort()) and from its own client (gone: it calls the source's stop()).
   */
  relayToSink?(sink: BodySink): void;
  /** Calls `listener` for every body chunk received from now on (the route's idle timeout). */
  onBodyData(listener: () => void): void;
  /** Reads the body to its end and drops it (a response that is retried). */
  discard(): void;
  /** Stops the response (nobody is left to receive it). */
  cancel(): void;
}

/**
 * Who is told the outcome of one attempt, once, never before send returned: the response head, or
 * the failure before it (a ProxyError, or the abort hook's reason).
 */
export interface AttemptReceiver {
  attemptResponded(res: AttemptResponse): void;
  attemptFailed(err: unknown): void;
}

function deliverFailure(to: AttemptReceiver, err: unknown): void {
  to.attemptFailed(err);
}

/** Tells `to` of a failure in a later tick (a receiver is never called from inside a send). */
export function failAttemptLater(to: AttemptReceiver, err: unknown): void {
  process.nextTick(deliverFailure, to, err);
}

/**
 * Where relayToSink() writes a response body: a client connection written directly (no Writable,
 * no stream events per response).
 */
export interface BodySink {
  /** Who writes the body (called before anything is written). */
  bind(source: BodySource): void;
  /** Decoded body bytes; false when the client is full: the sink calls `resume()` once it drains. */
  write(chunk: Buffer): boolean;
  /**
   * The body ended (`trailers` of a chunked body, if any); false when it could not be ended whole
   * (fewer bytes than its length): the client was cut off.
   */
  end(trailers: Headers | undefined): boolean;
  /** The body broke (the endpoint failed mid-body, a timeout): the client sees it cut short. */
  abort(): void;
}

/** The attempt's side of relayToSink(), as the sink calls it. */
export interface BodySource {
  /** The client drained after write() returned false. */
  resume(): void;
  /** The client went away, or the body was not acceptable (longer than its length): stop it. */
  stop(): void;
}

/** Codes of failures before a request left this proxy: the endpoint cannot have processed it. */
const NEVER_SENT = new Set([
  // The endpoint's listener is gone (a pod shutting down): refused at once, so resending is cheap.
  'ECONNREFUSED',
  // node:http2 refuses to open a stream on a session that received GOAWAY or was destroyed.
  'ERR_HTTP2_GOAWAY_SESSION',
  'ERR_HTTP2_INVALID_SESSION',
]);

/**
 * A failure to reach the endpoint (connect, TLS) as the proxy's error. A refused connection or a
 * session that had gone away is marked unprocessed; a connect timeout is not (resending it would
 * multiply the wait) and a TLS failure is not (the same identity would fail again).
 */
export const toConnectError = (err: unknown): ProxyError =>
  ProxyError.is(err)
    ? err
    : new ProxyError(
        ProxyErrorCode.ConnectFailed,
        `connecting to the endpoint failed: ${(err as Error)?.message ?? err}`,
        { cause: err, unprocessed: NEVER_SENT.has((err as { code?: unknown })?.code as string) },
      );
