// The inbound half of Linkerd's HTTP/1-over-HTTP/2 carriage with both engines raw: a raw HTTP/2
// stream whose request carries `l5d-orig-proto` goes to the app as the HTTP/1.1 request it was at
// the peer proxy, over the HTTP/1 engine's keep-alive connections (raw-h1/upstream-exchange.ts);
// the app's response returns on the stream, its body decoded from its HTTP/1 framing, marked with
// the version the app spoke. raw-h1/downgraded-exchange.ts is the same for a node:http2 stream.
import type { IncomingHttpHeaders } from 'node:http2';
import { ProxyErrorLabel } from '@tsmesh/core/data-plane';
import { L5D_PROXY_ERROR } from '../headers.js';
import { L5D_ORIG_PROTO, type OrigProto } from '../orig-proto.js';
import type { HttpRequestContext } from '../request-context.js';
import { BodyFramer } from '../raw-h1/body-framer.js';
import type { ChunkedSink } from '../raw-h1/chunked-decoder.js';
import { downgradedRequest, downgradedResponseFields } from '../raw-h1/downgraded-exchange.js';
import { fieldValue } from './fields.js';
import type { MessageFraming } from '../raw-h1/framing.js';
import type { ResponseHead } from '../raw-h1/head-parser.js';
import type { TargetConnections } from '../raw-h1/upstream-connections.js';
import { UpstreamExchange } from '../raw-h1/upstream-exchange.js';
import { H2Error } from './frames.js';
import type { H2Stream, H2StreamHandler } from './stream.js';

const CHUNKED_END = '0\r\n\r\n';

export class RawDowngradedExchange extends UpstreamExchange implements ChunkedSink, H2StreamHandler {
  readonly #body: 'none' | 'length' | 'chunked';
  #requestDone: boolean;

  constructor(
    private readonly stream: H2Stream,
    headers: IncomingHttpHeaders,
    endStream: boolean,
    private readonly ctx: HttpRequestContext,
    orig: OrigProto,
    pool: TargetConnections,
  ) {
    const request = downgradedRequest(headers, endStream, ctx, orig);
    super(pool, request.method, request.head);
    const body = request.body;
    this.#body = body;
    this.#requestDone = body === 'none';
  }

  protected get requestDone(): boolean {
    return this.#requestDone;
  }

  protected get requestHasBody(): boolean {
    return this.#body !== 'none';
  }

  protected get requesterPresent(): boolean {
    return !this.stream.closed;
  }

  protected pauseRequest(): void {
    this.stream.pause();
  }

  protected resumeRequest(): void {
    this.stream.resume();
  }

  start(): void {
    this.stream.handler = this;
    this.connect();
  }

  // The client's stream (H2StreamHandler).

  h2Headers(): void {
    // A server stream's head came with it.
  }

  h2Data(_stream: H2Stream, d: Buffer, endStream: boolean): void {
    if (!this.done && d.length > 0) {
      if (this.#body === 'chunked') this.toUpstream(`${d.length.toString(16)}\r\n`);
      this.toUpstream(d);
      if (this.#body === 'chunked') this.toUpstream('\r\n');
    }
    if (endStream) this.#requestEnded();
  }

  h2Trailers(): void {
    // Request trailers have no place in the app's HTTP/1.1 request without a chunked body's.
    this.#requestEnded();
  }

  #requestEnded(): void {
    this.#requestDone = true;
    if (this.done) return;
    if (this.#body === 'chunked') this.toUpstream(CHUNKED_END);
    if (this.resBody?.done === true) this.complete();
  }

  h2Drain(): void {
    this.resumeResponse();
  }

  h2Reset(): void {
    // The client's stream went away first: the app's request is abandoned.
    if (this.done) return;
    this.abandon();
    this.ctx.onResponse?.(this.status, undefined, ProxyErrorLabel.Io);
  }

  /** Decoded response data (ChunkedSink), onto the stream. */
  data(buf: Buffer, start: number, end: number): void {
    if (this.done || this.stream.closed) return;
    if (!this.stream.write(start === 0 && end === buf.length ? buf : buf.subarray(start, end)))
      this.pauseResponse();
  }

  protected responseBytes(): void {
    // Never called: the response framer always decodes into data().
  }

  protected responseHead(
    r: ResponseHead,
    framing: MessageFraming,
    buf: Buffer,
    bodyStart: number,
  ): number | undefined {
    const out = downgradedResponseFields(r, framing);
    this.grpcStatus = fieldValue(out, 'grpc-status');
    const stream = this.stream;
    if (stream.closed) {
      this.abandon();
      this.ctx.onResponse?.(undefined, undefined, ProxyErrorLabel.Io);
      return undefined;
    }
    stream.respond(out, framing.body.kind === 'none');
    this.status = r.status;
    const body = new BodyFramer(framing.body, 'response', this);
    this.resBody = body;
    return this.takeBody(body, buf, bodyStart);
  }

  protected completed(): void {
    const stream = this.stream;
    if (!stream.closed) stream.end();
    const g = this.grpcStatus;
    this.ctx.onResponse?.(this.status, g === undefined ? undefined : Number(g), undefined);
  }

  /** 502 with l5d-proxy-error before the response head; after it, the stream is cancelled. */
  protected failed(message: string): void {
    const stream = this.stream;
    if (this.status !== undefined) {
      this.ctx.onResponse?.(this.status, undefined, ProxyErrorLabel.Io);
      if (!stream.closed) stream.reset(H2Error.CANCEL);
      return;
    }
    this.ctx.onResponse?.(502, undefined, ProxyErrorLabel.Io);
    if (stream.closed) return;
    stream.respond([':status', '502', L5D_PROXY_ERROR, message, L5D_ORIG_PROTO, 'HTTP/1.1'], true);
  }
}
