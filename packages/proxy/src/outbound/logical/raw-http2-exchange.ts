// One HTTP/2 client request (gRPC, say) on the raw HTTP/2 engine (http/raw-h2) as the logical stack
// sees it: the exchange is its stream's handler. The request body reaches the stack through a
// Readable that pauses the stream (its window is then not credited) while the stack is full; the
// endpoint's response is written on the stream by the attempt itself (relayToSink into the
// exchange's StreamSink), trailers and all, with the stream's flow control as the backpressure.
import { Writable } from 'node:stream';
import { PROXY_ERRORS, type ProxyError } from '../../errors/index.js';
import { L5D_PROXY_ERROR } from '../../http/headers.js';
import { fieldsOfHeaders, plainHeadersOfFields } from '../../http/raw-h2/field-list.js';
import { H2Error } from '../../http/raw-h2/frames.js';
import type { H2Stream, H2StreamHandler } from '../../http/raw-h2/stream.js';
import type { AttemptResponse, BodySink, BodySource, Headers } from '../endpoint/index.js';
import {
  ExchangeAbort,
  grpcStatusOf,
  isGrpc,
  relayedGrpcStatus,
  respondedLater,
  type Exchange,
  type Peer,
  type ResponseReceiver,
} from './exchange.js';
import { RequestBody } from './request-body.js';

export class RawHttp2Exchange implements Exchange, H2StreamHandler {
  readonly abortHook = new ExchangeAbort();
  readonly method: string;
  readonly path: string;
  readonly authority: string;
  readonly headers: Headers;
  readonly http2 = true;
  readonly grpc: boolean;
  body: RequestBody | Buffer | null = null;
  #headersSent = false;
  #up: AttemptResponse | undefined = undefined;
  #to: ResponseReceiver | undefined = undefined;
  #source: BodySource | undefined = undefined;
  /** The request body as it arrived before start(): its chunks, and whether it ended. */
  #early: Buffer[] | undefined = undefined;
  #bodyEnded: boolean;
  /** Inside respond(): a receiver is told in a later tick, never from inside it. */
  #responding = false;
  /**
   * The exchange itself: the gateway derives copies (Object.create) with another authority, whose
   * methods must reach this one's private state.
   */
  private readonly self: RawHttp2Exchange;

  constructor(
    private readonly stream: H2Stream,
    fields: string[],
    endStream: boolean,
    private readonly peerAddr: Peer,
  ) {
    this.self = this;
    stream.handler = this;
    let method = 'GET';
    let path = '/';
    let authority: string | undefined;
    for (let i = 0; i < fields.length && fields[i]!.charCodeAt(0) === 0x3a; i += 2) {
      const name = fields[i]!;
      if (name === ':method') method = fields[i + 1]!;
      else if (name === ':path') path = fields[i + 1]!;
      else if (name === ':authority') authority = fields[i + 1]!;
    }
    const headers = plainHeadersOfFields(fields);
    this.headers = headers;
    this.method = method;
    this.path = path;
    this.authority = authority ?? String(headers.host ?? '');
    this.grpc = isGrpc(headers);
    this.#bodyEnded = endStream;
  }

  /**
   * The stack takes the request from here. A body that ended meanwhile (a unary gRPC call's message
   * usually comes in the read that brought the head) is handed over whole, as a Buffer; else as a
   * stream that starts with what came so far.
   */
  start(): void {
    const early = this.#early;
    this.#early = undefined;
    if (this.#bodyEnded) {
      if (early !== undefined) this.body = early.length === 1 ? early[0]! : Buffer.concat(early);
      return;
    }
    const body = new RequestBody(this.stream);
    this.body = body;
    if (early !== undefined) for (const chunk of early) body.push(chunk);
  }

  get gone(): boolean {
    return this.abortHook.gone;
  }

  abort(reason: unknown): void {
    this.abortHook.abort(reason);
  }

  peer(): Peer {
    return this.peerAddr;
  }

  get headersSent(): boolean {
    return this.self.#headersSent;
  }

  // ---- the client's stream (H2StreamHandler) ----

  h2Headers(): void {
    // A server stream's head came with it.
  }

  h2Data(stream: H2Stream, data: Buffer, endStream: boolean): void {
    const body = this.body;
    if (body === null) {
      // Before start(): kept (the stream's window bounds it).
      if (data.length > 0) (this.#early ??= []).push(data);
      if (endStream) this.#bodyEnded = true;
      return;
    }
    if (Buffer.isBuffer(body) || body.destroyed) return;
    if (data.length > 0) body.pushBody(data);
    if (endStream) body.push(null);
  }

  h2Trailers(): void {
    // Request trailers end the body; the stack forwards none.
    const body = this.body;
    if (body === null) this.#bodyEnded = true;
    else if (!Buffer.isBuffer(body) && !body.destroyed) body.push(null);
  }

  h2Drain(): void {
    this.#source?.resume();
  }

  h2Reset(): void {
    // The client reset its stream or its connection went away.
    this.abortHook.clientGone();
    const body = this.body;
    if (body !== null && !Buffer.isBuffer(body) && !body.readableEnded) body.destroy();
    const source = this.#source;
    this.#source = undefined;
    source?.stop();
    this.#settle(true);
  }

  // ---- answering ----

  respond(up: AttemptResponse, headers: Headers, to: ResponseReceiver): void {
    this.self.#respond(up, headers, to);
  }

  #respond(up: AttemptResponse, headers: Headers, to: ResponseReceiver): void {
    const stream = this.stream;
    if (stream.closed) {
      up.cancel();
      respondedLater(to, true, undefined);
      return;
    }
    const fields = fieldsOfHeaders(headers, [':status', String(up.status)]);
    this.#headersSent = true;
    if (up.endStream) {
      stream.respond(fields, true);
      respondedLater(to, false, grpcStatusOf(up.headers));
      return;
    }
    stream.respond(fields, false);
    this.#up = up;
    this.#to = to;
    this.#responding = true;
    const sink = new StreamSink(this);
    try {
      if (up.relayToSink !== undefined) up.relayToSink(sink);
      else up.relay(new SinkWritable(sink), (failed) => (failed ? sink.abort() : undefined));
    } finally {
      this.#responding = false;
    }
  }

  /** Tells the receiver how the response ended, once. */
  #settle(failed: boolean): void {
    const to = this.#to;
    if (to === undefined) return;
    this.#to = undefined;
    const grpc = this.#up === undefined ? undefined : relayedGrpcStatus(this.#up);
    if (this.#responding) respondedLater(to, failed, grpc);
    else to.responded(failed, grpc);
  }

  // The response body, as the attempt writes it into the exchange's StreamSink.

  sinkBind(source: BodySource): void {
    this.#source = source;
  }

  sinkWrite(chunk: Buffer): boolean {
    const stream = this.stream;
    if (stream.closed) return true;
    return stream.write(chunk);
  }

  sinkEnd(trailers: Headers | undefined): boolean {
    this.#source = undefined;
    const stream = this.stream;
    if (stream.closed) {
      this.#settle(true);
      return false;
    }
    let any = false;
    if (trailers !== undefined) for (const _ in trailers) any = true;
    if (any) stream.sendTrailers(fieldsOfHeaders(trailers as Headers));
    else stream.end();
    this.#settle(false);
    return true;
  }

  /** The body broke: the client sees its stream reset. */
  sinkAbort(): void {
    this.#source = undefined;
    const stream = this.stream;
    if (!stream.closed) stream.reset(H2Error.CANCEL);
    this.#settle(true);
  }

  fail(err: ProxyError): void {
    this.self.#fail(err);
  }

  #fail(err: ProxyError): void {
    const stream = this.stream;
    if (stream.closed) return;
    if (this.#headersSent) {
      stream.reset(H2Error.CANCEL);
      return;
    }
    this.#headersSent = true;
    if (this.grpc) {
      // A gRPC client understands only grpc-status: a trailers-only response, as Linkerd sends.
      stream.respond(
        [
          ':status',
          '200',
          'content-type',
          'application/grpc',
          'grpc-status',
          String(PROXY_ERRORS[err.code].grpcStatus),
          'grpc-message',
          encodeURIComponent(err.headerValue()),
          L5D_PROXY_ERROR,
          err.headerValue(),
        ],
        true,
      );
    } else {
      stream.respond([':status', String(err.httpStatus), L5D_PROXY_ERROR, err.headerValue()], true);
    }
    if (!stream.remoteEnded) stream.reset(H2Error.NO_ERROR);
  }
}

/** Where an attempt writes the response body (BodySink), for one exchange. */
class StreamSink implements BodySink {
  constructor(private readonly ex: RawHttp2Exchange) {}

  bind(source: BodySource): void {
    this.ex.sinkBind(source);
  }

  write(chunk: Buffer): boolean {
    return this.ex.sinkWrite(chunk);
  }

  end(trailers: Headers | undefined): boolean {
    return this.ex.sinkEnd(trailers);
  }

  abort(): void {
    this.ex.sinkAbort();
  }
}

/** relay()'s Writable, for an attempt without relayToSink (the raw engines' attempts all have it). */
class SinkWritable extends Writable {
  constructor(private readonly sink: StreamSink) {
    super();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.sink.write(chunk);
    cb();
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.sink.end(undefined);
    cb();
  }
}
