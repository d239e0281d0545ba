// One request forwarded HTTP/1.1 → HTTP/1.1 by the raw-socket engine: the head rewritten for the
// next hop (forwarded-head.ts), the body passed as received (a chunked body stays chunked: the
// scanner has checked its every byte), the response head rewritten for the client and its body
// passed back the same way, or decoded for an HTTP/1.0 client. Backpressure both ways pauses the
// reading side until the writing side drains. A request the upstream provably never saw (a reused
// keep-alive connection closed before any response byte: the server's idle timeout racing the
// request) is sent again on another connection when that is safe: no body, an idempotent method.
import { ProxyErrorLabel } from '@tsmesh/core/data-plane';
import { MeshError, MeshErrorCode } from '@tsmesh/core/data-plane';
import type { HttpRequestContext } from '../request-context.js';
import { MAX_UNPROCESSED_RESENDS } from '../unprocessed-stream.js';
import { BodyFramer } from './body-framer.js';
import type { ChunkedSink } from './chunked-decoder.js';
import type { ClientConnection, ClientExchange } from './client-connection.js';
import { ClientBody, clientBody, forwardedRequestHead, forwardedResponseHead } from './forwarded-head.js';
import { responseFraming, type MessageFraming } from './framing.js';
import { parseResponseHead, type HeadIncomplete, type RequestHead } from './head-parser.js';
import type { TargetConnections, UpstreamConnection, UpstreamUser } from './upstream-connections.js';

// RFC 9110 §9.2.2; a request with a body is never sent twice (its bytes are not kept).
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);
/** A head and this much body leave in one write (one syscall, one TLS record). */
const COALESCE_BYTES = 2048;
/** Request body bytes held while the upstream connection is being opened, before reading pauses. */
const MAX_PENDING_BYTES = 64 * 1024;

export class H1Exchange implements ClientExchange, UpstreamUser, ChunkedSink {
  requestDone: boolean;
  readonly #reqBody: BodyFramer | undefined;
  readonly #headText: string;
  #pending: Buffer[] | null = null;
  #pendingBytes = 0;
  #up: UpstreamConnection | undefined;
  #resBuf: Buffer | null = null;
  #resResume: HeadIncomplete | undefined;
  #resBody: BodyFramer | undefined;
  #status: number | undefined;
  #grpcStatus: string | undefined;
  #closeClient: boolean;
  #reusable = true;
  #responseBytes = false;
  #done = false;
  #resends = 0;

  constructor(
    private readonly client: ClientConnection,
    private readonly head: RequestHead,
    framing: MessageFraming,
    private readonly ctx: HttpRequestContext,
    private readonly pool: TargetConnections,
  ) {
    this.requestDone = framing.body.kind === 'none';
    this.#reqBody = this.requestDone ? undefined : new BodyFramer(framing.body, 'request');
    const fwd = forwardedRequestHead(head, framing, ctx.removeHeaders, ctx.addHeaders);
    this.#headText = fwd.text;
    this.#closeClient = !framing.keepAlive;
    // As node:http's server: the proxy itself invites the body (Expect is hop-by-hop).
    if (fwd.expectContinue && !this.requestDone && head.version === '1.1')
      client.write('HTTP/1.1 100 Continue\r\n\r\n');
  }

  start(): void {
    this.pool.acquire(this.#onUpstream);
  }

  readonly #onUpstream = (err: Error | undefined, up: UpstreamConnection | undefined): void => {
    if (up === undefined) {
      const timeout = err instanceof MeshError && err.code === MeshErrorCode.Timeout;
      this.#fail(timeout ? 'connect timed out' : 'upstream connection failed');
      return;
    }
    if (this.#done) {
      this.pool.release(up);
      return;
    }
    this.#up = up;
    up.user = this;
    const s = up.socket;
    const pending = this.#pending;
    this.#pending = null;
    if (pending === null) s.write(this.#headText, 'latin1');
    else if (pending.length === 1 && this.#pendingBytes <= COALESCE_BYTES)
      s.write(this.#headText + (pending[0] as Buffer).toString('latin1'), 'latin1');
    else {
      s.cork();
      s.write(this.#headText, 'latin1');
      for (const b of pending) s.write(b);
      s.uncork();
    }
    if (this.#pendingBytes > MAX_PENDING_BYTES) this.client.socket.resume();
    this.#pendingBytes = 0;
  };

  requestData(buf: Buffer, offset: number): number {
    const n = (this.#reqBody as BodyFramer).take(buf, offset);
    if (typeof n !== 'number') {
      this.#refuseBody(n.status, n.message);
      return -1;
    }
    if (n > 0 && !this.#done) {
      const chunk = offset === 0 && n === buf.length ? buf : buf.subarray(offset, offset + n);
      const up = this.#up;
      if (up === undefined) {
        (this.#pending ??= []).push(chunk);
        this.#pendingBytes += n;
        if (this.#pendingBytes > MAX_PENDING_BYTES) this.client.socket.pause();
      } else if (!up.socket.write(chunk)) {
        this.client.socket.pause();
        up.socket.once('drain', this.#resumeClient);
      }
    }
    if ((this.#reqBody as BodyFramer).done) {
      this.requestDone = true;
      if (this.#resBody?.done === true) this.#complete();
    }
    return n;
  }

  readonly #resumeClient = (): void => {
    if (!this.#done) this.client.socket.resume();
  };

  readonly #resumeUpstream = (): void => {
    this.#up?.socket.resume();
  };

  #toClient(data: Buffer | string): void {
    if (!this.client.write(data as Buffer) && this.#up !== undefined) {
      this.#up.socket.pause();
      this.client.socket.once('drain', this.#resumeUpstream);
    }
  }

  /** Decoded response data for an HTTP/1.0 client (ChunkedSink). */
  data(buf: Buffer, start: number, end: number): void {
    this.#toClient(buf.subarray(start, end));
  }

  onUpstreamData(d: Buffer): void {
    this.#responseBytes = true;
    if (this.#done) return;
    const body = this.#resBody;
    if (body === undefined) {
      this.#responseHead(d);
      return;
    }
    const n = body.take(d, 0);
    if (typeof n !== 'number') {
      this.#fail(n.message);
      return;
    }
    if (n > 0 && !body.decoding) this.#toClient(n === d.length ? d : d.subarray(0, n));
    if (n < d.length) this.#reusable = false; // bytes after the response: the connection is out of step
    if (body.done) this.#complete();
  }

  #responseHead(d: Buffer): void {
    let buf = this.#resBuf === null ? d : Buffer.concat([this.#resBuf, d]);
    for (;;) {
      const r = parseResponseHead(buf, { resume: this.#resResume });
      if (r.kind === 'incomplete') {
        this.#resBuf = buf;
        this.#resResume = r;
        return;
      }
      this.#resBuf = null;
      this.#resResume = undefined;
      if (r.kind === 'error') {
        this.#fail(`invalid response from upstream: ${r.message}`);
        return;
      }
      const framing = responseFraming(r, this.head.method);
      if (framing.kind === 'error') {
        this.#fail(`invalid response from upstream: ${framing.message}`);
        return;
      }
      if (framing.informational) {
        // 1xx: the proxy sent its own 100 Continue; the final head follows.
        if (r.consumed === buf.length) return;
        buf = buf.subarray(r.consumed);
        continue;
      }
      if (framing.body.kind === 'tunnel') {
        this.#fail(`upstream answered ${r.status} to a request that asked for no tunnel`);
        return;
      }
      const toClient = clientBody(framing, this.head.version);
      if (toClient === ClientBody.UntilClose) this.#closeClient = true;
      if (!framing.keepAlive) this.#reusable = false;
      const fwd = forwardedResponseHead(r, framing, toClient, this.#closeClient);
      this.#status = r.status;
      this.#grpcStatus = fwd.grpcStatus;
      const decode = framing.body.kind === 'chunked' && toClient === ClientBody.UntilClose;
      const body = new BodyFramer(framing.body, 'response', decode ? this : undefined);
      this.#resBody = body;
      let off = r.consumed;
      if (decode) {
        this.#toClient(fwd.text);
      } else {
        const n = off < buf.length ? body.take(buf, off) : 0;
        if (typeof n !== 'number') {
          this.#resBody = undefined;
          this.#fail(`invalid response from upstream: ${n.message}`);
          return;
        }
        if (n === 0) this.#toClient(fwd.text);
        else if (n <= COALESCE_BYTES) this.#toClient(fwd.text + buf.toString('latin1', off, off + n));
        else {
          const s = this.client.socket;
          s.cork();
          this.client.write(fwd.text);
          this.#toClient(buf.subarray(off, off + n));
          s.uncork();
        }
        off += n;
      }
      if (decode && off < buf.length) {
        const n = body.take(buf, off);
        if (typeof n !== 'number') {
          this.#fail(`invalid response from upstream: ${n.message}`);
          return;
        }
        off += n;
      }
      if (off < buf.length) this.#reusable = false;
      if (body.done) this.#complete();
      return;
    }
  }

  onUpstreamEnd(): void {
    if (this.#resBody?.end() === true) {
      this.#reusable = false;
      this.#complete();
      return;
    }
    this.#upstreamLost();
  }

  onUpstreamClose(): void {
    if (this.#resBody?.end() === true) {
      this.#reusable = false;
      this.#complete();
      return;
    }
    this.#upstreamLost();
  }

  /** The upstream connection ended or failed before the response did. */
  #upstreamLost(): void {
    if (this.#done) return;
    const up = this.#up;
    this.#up = undefined;
    if (up !== undefined) {
      up.user = undefined;
      up.socket.destroy();
    }
    if (
      up?.reused === true &&
      !this.#responseBytes &&
      this.#reqBody === undefined &&
      IDEMPOTENT.has(this.head.method) &&
      this.#resends < MAX_UNPROCESSED_RESENDS &&
      !this.client.socket.destroyed
    ) {
      this.#resends++;
      this.pool.acquire(this.#onUpstream);
      return;
    }
    this.#fail(
      this.#resBody === undefined
        ? 'upstream closed the connection before answering'
        : 'upstream closed the connection during the response',
    );
  }

  #complete(): void {
    if (this.#done) return;
    const body = this.#resBody as BodyFramer;
    if (body.chunked) {
      const t = body.trailers;
      for (let i = 0; i < t.length; i += 2)
        if ((t[i] as string).toLowerCase() === 'grpc-status') this.#grpcStatus = t[i + 1];
    }
    this.#done = true;
    this.#report(this.#status, undefined);
    const up = this.#up;
    this.#up = undefined;
    if (up !== undefined) {
      if (this.#reusable && this.requestDone) this.pool.release(up);
      else this.pool.discard(up);
    }
    this.client.finished(this, this.#closeClient || !this.requestDone);
  }

  #report(status: number | undefined, error: string | undefined): void {
    const g = this.#grpcStatus;
    this.ctx.onResponse?.(status, error === undefined && g !== undefined ? Number(g) : undefined, error);
  }

  /** 502 with l5d-proxy-error when nothing was sent to the client yet; else the client is cut off. */
  #fail(message: string): void {
    if (this.#done) return;
    this.#done = true;
    const up = this.#up;
    this.#up = undefined;
    if (up !== undefined) this.pool.discard(up);
    const sent = this.#resBody === undefined ? undefined : this.#status;
    this.client.failExchange(this, this.ctx, sent, 502, message, ProxyErrorLabel.Io, true);
  }

  /** A malformed request body: answered when no response began, else the client is cut off. */
  #refuseBody(status: number, message: string): void {
    if (this.#done) {
      this.client.destroy();
      return;
    }
    this.#done = true;
    const up = this.#up;
    this.#up = undefined;
    if (up !== undefined) this.pool.discard(up);
    const sent = this.#resBody === undefined ? undefined : this.#status;
    this.client.failExchange(this, this.ctx, sent, status, message, ProxyErrorLabel.Unexpected, false);
  }

  clientGone(): void {
    if (this.#done) return;
    this.#done = true;
    const up = this.#up;
    this.#up = undefined;
    if (up !== undefined) this.pool.discard(up);
    this.#report(this.#status, ProxyErrorLabel.Io);
  }
}
