// The upstream half of one request forwarded over the raw-socket engine's HTTP/1.1 connections,
// shared by the HTTP/1 client side (h1-exchange.ts) and HTTP/2 streams downgraded for the app
// (downgraded-exchange.ts): a connection from the target's pool, the request head written with
// the body bytes that arrived while connecting (one write when small), request bytes written with
// backpressure, the response head parsed (1xx skipped, malformed or unasked-for tunnels refused)
// and handed to the subclass, the body framed to its end, the connection released when both
// messages ended cleanly. A request the upstream provably never saw (a reused keep-alive
// connection closed before any response byte: the server's idle timeout racing the request) is
// sent again on another connection when that is safe: no body, an idempotent method.
import { MeshError, MeshErrorCode } from '@tsmesh/core/data-plane';
import { MAX_UNPROCESSED_RESENDS } from '../unprocessed-stream.js';
import type { BodyFramer } from './body-framer.js';
import { responseFraming, type MessageFraming } from './framing.js';
import {
  parseResponseHead,
  type HeadIncomplete,
  type HeadParseOptions,
  type ResponseHead,
} from './head-parser.js';
import type {
  TargetConnections,
  UpstreamConnection,
  UpstreamUser,
  UpstreamWaiter,
} from './upstream-connections.js';

// RFC 9110 §9.2.2; a request with a body is never sent twice (its bytes are not kept).
export const IDEMPOTENT: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);
/** A head and this much body leave in one write (one syscall, one TLS record). */
export const COALESCE_BYTES = 2048;
/** Request body bytes held while the upstream connection is being opened, before reading pauses. */
const MAX_PENDING_BYTES = 64 * 1024;
/** The options of a head's first parse (no object per response). */
const FRESH: HeadParseOptions = Object.freeze({});

export abstract class UpstreamExchange implements UpstreamUser, UpstreamWaiter {
  protected up: UpstreamConnection | undefined;
  protected resBody: BodyFramer | undefined;
  /** The status of the response head the client got (undefined: none yet). */
  protected status: number | undefined;
  protected grpcStatus: string | undefined;
  protected done = false;
  /** Whether the upstream connection may carry another request afterwards. */
  protected reusable = true;
  /** Why the connection for this exchange could not be had (a subclass may report the cause). */
  protected connectError: Error | undefined;
  #pending: (Buffer | string)[] | null = null;
  #pendingBytes = 0;
  #resBuf: Buffer | null = null;
  #resResume: HeadIncomplete | undefined;
  #responseBytes = false;
  #resends = 0;
  /**
   * The last connection was a reused one that closed before any response byte: the upstream did
   * not process the request (kept for the error an exchange fails with when it is not resent).
   */
  protected closedUnanswered = false;

  constructor(
    protected readonly pool: TargetConnections,
    protected readonly method: string,
    private readonly headText: string,
  ) {}

  /** The whole request went upstream (or there was no body). */
  protected abstract get requestDone(): boolean;
  /** Whether the request has a body (never sent twice). */
  protected abstract get requestHasBody(): boolean;
  /** Whoever reads the request can still take an answer (the client did not go away). */
  protected abstract get requesterPresent(): boolean;
  /** Pauses / resumes reading the request's body from its source. */
  protected abstract pauseRequest(): void;
  protected abstract resumeRequest(): void;
  /**
   * The final response head, to pass on: set `resBody` (and `status`), write the head and take
   * what body bytes of `buf` from `bodyStart` it can; returns the offset after them, or undefined
   * when it failed (and said so).
   */
  protected abstract responseHead(
    head: ResponseHead,
    framing: MessageFraming,
    buf: Buffer,
    bodyStart: number,
  ): number | undefined;
  /** Body bytes as they came (the framer does not decode them): pass them on. */
  protected abstract responseBytes(chunk: Buffer): void;
  /** The response ended (the upstream connection is dealt with already). */
  protected abstract completed(): void;
  /** The exchange failed before or during the response (the connection is dealt with already). */
  protected abstract failed(message: string): void;

  protected connect(): void {
    this.pool.acquire(this);
  }

  /** UpstreamWaiter: the pool's connection for this exchange, or why there is none. */
  upstreamReady(err: Error | undefined, up: UpstreamConnection | undefined): void {
    if (up === undefined) {
      this.connectError = err;
      const timeout = err instanceof MeshError && err.code === MeshErrorCode.Timeout;
      this.fail(timeout ? 'connect timed out' : 'upstream connection failed');
      return;
    }
    if (this.done) {
      this.pool.release(up);
      return;
    }
    this.up = up;
    up.user = this;
    const s = up.socket;
    const pending = this.#pending;
    this.#pending = null;
    if (pending === null) s.write(this.headText, 'latin1');
    else if (pending.length === 1 && this.#pendingBytes <= COALESCE_BYTES) {
      const b = pending[0] as Buffer | string;
      s.write(this.headText + (typeof b === 'string' ? b : b.toString('latin1')), 'latin1');
    } else {
      s.cork();
      s.write(this.headText, 'latin1');
      for (const b of pending) {
        if (typeof b === 'string') s.write(b, 'latin1');
        else s.write(b);
      }
      s.uncork();
    }
    if (this.#pendingBytes > MAX_PENDING_BYTES) this.resumeRequest();
    this.#pendingBytes = 0;
  }

  /** Request bytes for the upstream: written now (with backpressure), or held while connecting. */
  protected toUpstream(data: Buffer | string): void {
    if (this.done) return;
    const up = this.up;
    if (up === undefined) {
      (this.#pending ??= []).push(data);
      this.#pendingBytes += data.length;
      if (this.#pendingBytes > MAX_PENDING_BYTES) this.pauseRequest();
      return;
    }
    if (!(typeof data === 'string' ? up.socket.write(data, 'latin1') : up.socket.write(data))) {
      this.pauseRequest();
      up.socket.once('drain', (this.#onUpstreamDrain ??= () => this.#upstreamDrained()));
    }
  }

  // Listeners made only for an exchange that meets backpressure (most never do).
  #onUpstreamDrain: (() => void) | undefined = undefined;
  #onDownstreamDrain: (() => void) | undefined = undefined;

  #upstreamDrained(): void {
    if (!this.done) this.resumeRequest();
  }

  /** The downstream is full: stop reading the response until `resumeResponse`. */
  protected pauseResponse(): void {
    this.up?.socket.pause();
  }

  protected resumeResponse(): void {
    this.up?.socket.resume();
  }

  /** resumeResponse() as a listener (a downstream 'drain'), made once per exchange when needed. */
  protected get resumeResponseListener(): () => void {
    return (this.#onDownstreamDrain ??= () => this.resumeResponse());
  }

  onUpstreamData(d: Buffer): void {
    this.#responseBytes = true;
    if (this.done) return;
    const body = this.resBody;
    if (body === undefined) {
      this.#responseHead(d);
      return;
    }
    const n = body.take(d, 0);
    if (typeof n !== 'number') {
      this.fail(`invalid response from upstream: ${n.message}`);
      return;
    }
    if (n > 0 && !body.decoding) this.responseBytes(n === d.length ? d : d.subarray(0, n));
    if (n < d.length) this.reusable = false; // bytes after the response: the connection is out of step
    if (body.done) this.complete();
  }

  #responseHead(d: Buffer): void {
    let buf = this.#resBuf === null ? d : Buffer.concat([this.#resBuf, d]);
    for (;;) {
      const r = parseResponseHead(buf, this.#resResume === undefined ? FRESH : { resume: this.#resResume });
      if (r.kind === 'incomplete') {
        this.#resBuf = buf;
        this.#resResume = r;
        return;
      }
      this.#resBuf = null;
      this.#resResume = undefined;
      if (r.kind === 'error') {
        this.fail(`invalid response from upstream: ${r.message}`);
        return;
      }
      const framing = responseFraming(r, this.method);
      if (framing.kind === 'error') {
        this.fail(`invalid response from upstream: ${framing.message}`);
        return;
      }
      if (framing.informational) {
        // 1xx: the proxy sent its own 100 Continue; the final head follows.
        if (r.consumed === buf.length) return;
        buf = buf.subarray(r.consumed);
        continue;
      }
      if (framing.body.kind === 'tunnel') {
        this.fail(`upstream answered ${r.status} to a request that asked for no tunnel`);
        return;
      }
      if (!framing.keepAlive) this.reusable = false;
      const off = this.responseHead(r, framing, buf, r.consumed);
      if (off === undefined) return;
      if (off < buf.length) this.reusable = false;
      if (this.resBody?.done === true) this.complete();
      return;
    }
  }

  /** Takes the body bytes of `buf` from `off`: the offset after them, or undefined once it failed the exchange. */
  protected takeBody(body: BodyFramer, buf: Buffer, off: number): number | undefined {
    if (off >= buf.length || body.done) return off;
    const n = body.take(buf, off);
    if (typeof n !== 'number') {
      this.fail(`invalid response from upstream: ${n.message}`);
      return undefined;
    }
    return off + n;
  }

  onUpstreamEnd(): void {
    this.onUpstreamClose();
  }

  onUpstreamClose(): void {
    if (this.resBody?.end() === true) {
      this.reusable = false;
      this.complete();
      return;
    }
    if (this.done) return;
    const up = this.up;
    this.up = undefined;
    if (up !== undefined) {
      up.user = undefined;
      up.socket.destroy();
    }
    // A reused keep-alive connection closed before any response byte (the server's idle timeout
    // racing the request): the upstream never saw the request.
    this.closedUnanswered = up?.reused === true && !this.#responseBytes;
    if (
      this.closedUnanswered &&
      !this.requestHasBody &&
      IDEMPOTENT.has(this.method) &&
      this.#resends < MAX_UNPROCESSED_RESENDS &&
      this.requesterPresent
    ) {
      this.#resends++;
      this.connect();
      return;
    }
    this.fail(
      this.resBody === undefined
        ? 'upstream closed the connection before answering'
        : 'upstream closed the connection during the response',
    );
  }

  /** The response ended: its trailers read, the connection released or closed. */
  protected complete(): void {
    if (this.done) return;
    const body = this.resBody as BodyFramer;
    if (body.chunked) {
      const t = body.trailers;
      for (let i = 0; i < t.length; i += 2)
        if ((t[i] as string).toLowerCase() === 'grpc-status') this.grpcStatus = t[i + 1];
    }
    this.done = true;
    const up = this.up;
    this.up = undefined;
    if (up !== undefined) {
      if (this.reusable && this.requestDone) this.pool.release(up);
      else this.pool.discard(up);
    }
    this.completed();
  }

  protected fail(message: string): void {
    if (this.done) return;
    this.abandon();
    this.failed(message);
  }

  /** Ends the exchange without an answer: the upstream connection is closed if held. */
  protected abandon(): void {
    this.done = true;
    const up = this.up;
    this.up = undefined;
    if (up !== undefined) this.pool.discard(up);
  }
}
