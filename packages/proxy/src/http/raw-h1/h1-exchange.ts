// One request forwarded HTTP/1.1 → HTTP/1.1 by the raw-socket engine: the head rewritten for the
// next hop (forwarded-head.ts), the body passed as received (a chunked body stays chunked: the
// scanner has checked its every byte), the response head rewritten for the client and its body
// passed back the same way, or decoded for an HTTP/1.0 client. Backpressure both ways pauses the
// reading side until the writing side drains. The upstream half (connection, resend, response
// framing) is upstream-exchange.ts.
import { ProxyErrorLabel } from '@tsmesh/core/data-plane';
import type { HttpRequestContext } from '../request-context.js';
import { BodyFramer } from './body-framer.js';
import type { ChunkedSink } from './chunked-decoder.js';
import type { ClientConnection, ClientExchange } from './client-connection.js';
import { ClientBody, clientBody, forwardedRequestHead, forwardedResponseHead } from './forwarded-head.js';
import type { MessageFraming } from './framing.js';
import type { RequestHead, ResponseHead } from './head-parser.js';
import type { TargetConnections } from './upstream-connections.js';
import { COALESCE_BYTES, UpstreamExchange } from './upstream-exchange.js';

export class H1Exchange extends UpstreamExchange implements ClientExchange, ChunkedSink {
  requestDone: boolean;
  readonly #reqBody: BodyFramer | undefined;
  #closeClient: boolean;

  constructor(
    private readonly client: ClientConnection,
    private readonly head: RequestHead,
    framing: MessageFraming,
    private readonly ctx: HttpRequestContext,
    pool: TargetConnections,
  ) {
    const fwd = forwardedRequestHead(head, framing, ctx.removeHeaders, ctx.addHeaders);
    super(pool, head.method, fwd.text);
    this.requestDone = framing.body.kind === 'none';
    this.#reqBody = this.requestDone ? undefined : new BodyFramer(framing.body, 'request');
    this.#closeClient = !framing.keepAlive;
    // As node:http's server: the proxy itself invites the body (Expect is hop-by-hop).
    if (fwd.expectContinue && !this.requestDone && head.version === '1.1')
      client.write('HTTP/1.1 100 Continue\r\n\r\n');
  }

  protected get requestHasBody(): boolean {
    return this.#reqBody !== undefined;
  }

  protected get requesterPresent(): boolean {
    return !this.client.socket.destroyed;
  }

  protected pauseRequest(): void {
    this.client.socket.pause();
  }

  protected resumeRequest(): void {
    this.client.socket.resume();
  }

  start(): void {
    this.connect();
  }

  requestData(buf: Buffer, offset: number): number {
    const body = this.#reqBody as BodyFramer;
    const n = body.take(buf, offset);
    if (typeof n !== 'number') {
      this.#refuseBody(n.status, n.message);
      return -1;
    }
    if (n > 0) this.toUpstream(offset === 0 && n === buf.length ? buf : buf.subarray(offset, offset + n));
    if (body.done) {
      this.requestDone = true;
      if (this.resBody?.done === true && !this.done) this.complete();
    }
    return n;
  }

  #toClient(data: Buffer | string): void {
    if (!this.client.write(data) && this.up !== undefined) {
      this.pauseResponse();
      this.client.socket.once('drain', this.resumeResponseListener);
    }
  }

  /** Decoded response data for an HTTP/1.0 client (ChunkedSink). */
  data(buf: Buffer, start: number, end: number): void {
    this.#toClient(buf.subarray(start, end));
  }

  protected responseBytes(chunk: Buffer): void {
    this.#toClient(chunk);
  }

  protected responseHead(
    r: ResponseHead,
    framing: MessageFraming,
    buf: Buffer,
    bodyStart: number,
  ): number | undefined {
    const toClient = clientBody(framing, this.head.version);
    if (toClient === ClientBody.UntilClose) this.#closeClient = true;
    const fwd = forwardedResponseHead(r, framing, toClient, this.#closeClient);
    this.status = r.status;
    this.grpcStatus = fwd.grpcStatus;
    const decode = framing.body.kind === 'chunked' && toClient === ClientBody.UntilClose;
    const body = new BodyFramer(framing.body, 'response', decode ? this : undefined);
    this.resBody = body;
    if (decode) {
      // The head first: the framer writes the decoded data as it goes.
      this.#toClient(fwd.text);
      return this.takeBody(body, buf, bodyStart);
    }
    const end = this.takeBody(body, buf, bodyStart);
    if (end === undefined) return undefined;
    const n = end - bodyStart;
    if (n === 0) this.#toClient(fwd.text);
    else if (n <= COALESCE_BYTES) this.#toClient(fwd.text + buf.toString('latin1', bodyStart, end));
    else {
      const s = this.client.socket;
      s.cork();
      this.client.write(fwd.text);
      this.#toClient(buf.subarray(bodyStart, end));
      s.uncork();
    }
    return end;
  }

  protected completed(): void {
    this.#report(this.status, undefined);
    this.client.finished(this, this.#closeClient || !this.requestDone);
  }

  #report(status: number | undefined, error: string | undefined): void {
    const g = this.grpcStatus;
    this.ctx.onResponse?.(status, error === undefined && g !== undefined ? Number(g) : undefined, error);
  }

  /** 502 with l5d-proxy-error when nothing was sent to the client yet; else the client is cut off. */
  protected failed(message: string): void {
    const sent = this.resBody === undefined ? undefined : this.status;
    this.client.failExchange(this, this.ctx, sent, 502, message, ProxyErrorLabel.Io, true);
  }

  /** A malformed request body: answered when no response began, else the client is cut off. */
  #refuseBody(status: number, message: string): void {
    if (this.done) {
      this.client.destroy();
      return;
    }
    this.abandon();
    const sent = this.resBody === undefined ? undefined : this.status;
    this.client.failExchange(this, this.ctx, sent, status, message, ProxyErrorLabel.Unexpected, false);
  }

  clientGone(): void {
    if (this.done) return;
    this.abandon();
    this.#report(this.status, ProxyErrorLabel.Io);
  }
}
