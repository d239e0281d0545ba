// One HTTP/1 attempt through undici's dispatch with a handler, as the plain forwarder does
// (http/http1-proxy.ts): no request() promise, body stream or AbortSignal listener per request.
// The handler is the attempt's response too: the body's chunks are kept from the moment the head
// arrives until the logical level decides to relay the response (or to retry and drop it), then
// written straight to the client's writable with undici's pause/resume as backpressure.
import type { Readable, Writable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { ProxyError, ProxyErrorCode } from '../../errors/index.js';
import { headersFromRaw } from '../../http/index.js';
import type { AbortHook } from '../abort-hook.js';
import { toConnectError, type AttemptResponse, type Headers } from './attempt.js';

/** Chunks kept before the response is relayed, beyond which the connection is paused. */
const MAX_PENDING_BYTES = 64 * 1024;

const noop = () => undefined;

/** An undici error before the response head, as the proxy error the client is answered with. */
export function http1AttemptError(err: unknown): ProxyError {
  if (ProxyError.is(err)) return err;
  const code = (err as { code?: string }).code;
  if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'ECONNREFUSED' || code === 'EHOSTUNREACH')
    return toConnectError(err);
  return new ProxyError(
    ProxyErrorCode.EndpointReset,
    `the endpoint failed the request: ${(err as Error).message}`,
    { cause: err },
  );
}

/**
 * undici's dispatch handler (the callback form its Pool takes) for one attempt; `settle` resolves
 * or rejects the attempt once, with this object as the response.
 */
export class Http1Attempt implements AttemptResponse {
  status = 0;
  headers: Headers = {};
  readonly endStream = false;
  private abortRequest: ((err?: Error) => void) | undefined;
  private resumeRequest: (() => void) | undefined;
  private settled = false;
  /** Body chunks received before relay() (or discard()). */
  private pending: Buffer[] | undefined;
  private pendingBytes = 0;
  private complete = false;
  private failed: Error | undefined;
  private trailerList: readonly (Buffer | string)[] | null = null;
  private out: Writable | undefined;
  private draining = false;
  private relayDone: ((failed: boolean) => void) | undefined;
  private dataListener: (() => void) | undefined;

  constructor(
    private readonly abort: AbortHook,
    private readonly resolve: (res: AttemptResponse) => void,
    private readonly reject: (err: unknown) => void,
  ) {
    abort.addListener(this.onAbort);
  }

  private readonly onAbort = () => {
    const reason = this.abort.reason;
    const err = reason instanceof Error ? reason : new Error('the request was aborted');
    if (!this.settled) {
      this.settled = true;
      this.reject(reason ?? err);
    }
    // Before the request got a connection, it is aborted when it gets one (onConnect).
    this.abortRequest?.(err);
    this.failBody(err);
  };

  // --- undici's handler ------------------------------------------------------------------------

  onConnect(abort: (err?: Error) => void): void {
    if (this.abort.aborted) abort(this.abort.reason instanceof Error ? this.abort.reason : undefined);
    else this.abortRequest = abort;
  }

  onHeaders(statusCode: number, raw: Buffer[], resume: () => void): boolean {
    if (statusCode < 200) return true; // 1xx: the client's server sends its own 100-continue.
    this.status = statusCode;
    this.headers = headersFromRaw(raw);
    this.resumeRequest = resume;
    if (!this.settled) {
      this.settled = true;
      this.resolve(this);
    }
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.dataListener?.();
    const out = this.out;
    if (out === undefined) {
      if (this.draining) return true;
      (this.pending ??= []).push(chunk);
      this.pendingBytes += chunk.length;
      return this.pendingBytes < MAX_PENDING_BYTES;
    }
    if (out.write(chunk)) return true;
    out.once('drain', this.onDrain);
    return false;
  }

  onComplete(trailers: readonly (Buffer | string)[] | null): void {
    this.abort.removeListener(this.onAbort);
    this.complete = true;
    this.trailerList = trailers;
    this.out?.end();
  }

  onError(err: Error): void {
    this.abort.removeListener(this.onAbort);
    if (!this.settled) {
      this.settled = true;
      this.reject(this.abort.aborted ? (this.abort.reason ?? err) : http1AttemptError(err));
      return;
    }
    this.failBody(err);
  }

  // --- the response ----------------------------------------------------------------------------

  trailers(): Headers | undefined {
    const t = this.trailerList;
    return t && t.length > 0 ? headersFromRaw(t) : undefined;
  }

  relay(to: Writable, done: (failed: boolean) => void): void {
    this.out = to;
    this.relayDone = done;
    to.once('error', noop);
    to.once('close', () => {
      const finished = (to as { writableFinished?: boolean }).writableFinished === true;
      if (!finished) this.abortRequest?.();
      this.settleRelay(!finished);
    });
    if (this.failed) {
      to.destroy();
      this.settleRelay(true);
      return;
    }
    const pending = this.pending;
    this.pending = undefined;
    if (pending) for (const c of pending) to.write(c);
    if (this.complete) to.end();
    else if (pending && this.pendingBytes >= MAX_PENDING_BYTES) this.resumeRequest?.();
  }

  onBodyData(listener: () => void): void {
    this.dataListener = listener;
  }

  discard(): void {
    // Read to the end so the connection goes back to the pool.
    this.draining = true;
    this.pending = undefined;
    if (!this.complete && this.pendingBytes >= MAX_PENDING_BYTES) this.resumeRequest?.();
  }

  cancel(): void {
    this.pending = undefined;
    if (!this.complete) this.abortRequest?.();
  }

  private readonly onDrain = () => this.resumeRequest?.();

  private failBody(err: Error): void {
    if (this.complete || this.failed) return;
    this.failed = err;
    if (this.out) {
      this.out.destroy();
      this.settleRelay(true);
    }
  }

  private settleRelay(failed: boolean): void {
    const done = this.relayDone;
    if (!done) return;
    this.relayDone = undefined;
    done(failed);
  }
}

/** Sends one attempt over an undici dispatcher (a Pool). */
export function sendHttp1(
  dispatcher: Dispatcher,
  path: string,
  method: string,
  headers: string[],
  body: Buffer | Readable | null,
  abort: AbortHook,
): Promise<AttemptResponse> {
  return new Promise((resolve, reject) => {
    if (abort.aborted) {
      reject(abort.reason);
      return;
    }
    const attempt = new Http1Attempt(abort, resolve, reject);
    dispatcher.dispatch({ path, method: method as 'GET', headers, body }, attempt);
  });
}
