// One HTTP/1 request carried as an HTTP/2 stream to a peer proxy that accepts HTTP/2 (discovery's
// h2 hint; Linkerd's `l5d-orig-proto`), from the raw-socket engine: the request body is decoded
// from its HTTP/1 framing into the stream, the stream's response goes back to the client in
// HTTP/1.1 (chunked unless it has a length; until close for an HTTP/1.0 client). Either side going
// away cancels the other. A stream the peer did not process (unprocessed-stream.ts) is opened again
// when the request had no body.
import { constants as h2constants, type ClientHttp2Stream, type IncomingHttpHeaders } from 'node:http2';
import { STATUS_CODES } from 'node:http';
import { ProxyErrorLabel } from '@tsmesh/core/data-plane';
import { isHopByHop } from '../headers.js';
import { http2RequestOptions } from '../http2-request-options.js';
import { L5D_ORIG_PROTO, upgradedRequestHeaders } from '../orig-proto.js';
import type { HttpRequestContext } from '../request-context.js';
import { MAX_UNPROCESSED_RESENDS, unprocessedStream } from '../unprocessed-stream.js';
import type { Http2Sessions } from '../upstream-pools.js';
import type { UpstreamTarget } from '../upstream-target.js';
import { BodyFramer } from './body-framer.js';
import type { ChunkedSink } from './chunked-decoder.js';
import type { ClientConnection, ClientExchange } from './client-connection.js';
import type { MessageFraming } from './framing.js';
import type { RequestHead } from './head-parser.js';

const CHUNKED_END = '0\r\n\r\n';

/**
 * The exchange a carried stream belongs to: the streams' listeners are the module functions below,
 * which find it through this symbol (no closures per stream; a resend's new stream gets it too).
 */
const kCarried = Symbol('tsmesh.h2Carried');
type CarriedStream = ClientHttp2Stream & { [kCarried]?: H2CarriedExchange };

function onCarriedResponse(this: CarriedStream, h: IncomingHttpHeaders, flags: number): void {
  this[kCarried]?.streamResponse(this, h, flags);
}
function onCarriedData(this: CarriedStream, d: Buffer): void {
  this[kCarried]?.streamData(this, d);
}
function onCarriedTrailers(this: CarriedStream, t: IncomingHttpHeaders): void {
  this[kCarried]?.streamTrailers(this, t);
}
function onCarriedEnd(this: CarriedStream): void {
  this[kCarried]?.streamEnd(this);
}
function onCarriedError(this: CarriedStream): void {
  this[kCarried]?.streamError(this);
}
function onCarriedClose(this: CarriedStream): void {
  this[kCarried]?.streamClose(this);
}

export class H2CarriedExchange implements ClientExchange, ChunkedSink {
  requestDone: boolean;
  readonly #reqBody: BodyFramer | undefined;
  #stream: ClientHttp2Stream | undefined;
  #status: number | undefined;
  #grpcStatus: number | undefined;
  #chunked = false;
  #closeClient: boolean;
  #done = false;
  #resends = 0;

  constructor(
    private readonly client: ClientConnection,
    private readonly head: RequestHead,
    framing: MessageFraming,
    private readonly ctx: HttpRequestContext,
    private readonly target: UpstreamTarget,
    private readonly sessions: () => Http2Sessions,
  ) {
    this.requestDone = framing.body.kind === 'none';
    this.#reqBody = this.requestDone ? undefined : new BodyFramer(framing.body, 'request', this);
    this.#closeClient = !framing.keepAlive;
  }

  start(): void {
    const { head, ctx, target } = this;
    let stream: ClientHttp2Stream;
    try {
      const headers = upgradedRequestHeaders({
        method: head.method,
        url: head.target,
        httpVersion: head.version,
        rawHeaders: head.headers,
        remove: ctx.removeHeaders,
        add: ctx.addHeaders,
        defaultAuthority: target.host.includes(':')
          ? `[${target.host}]:${target.port}`
          : `${target.host}:${target.port}`,
      });
      stream = this.sessions()
        .get(target, ctx.serverIdentity)
        .request(headers, http2RequestOptions(this.#reqBody === undefined));
    } catch {
      this.#fail('upstream connection failed');
      return;
    }
    this.#stream = stream;
    (stream as CarriedStream)[kCarried] = this;
    stream.on('response', onCarriedResponse);
    stream.on('trailers', onCarriedTrailers);
    stream.on('end', onCarriedEnd);
    stream.on('error', onCarriedError);
    stream.on('close', onCarriedClose);
  }

  // The stream's events (shared listeners, below): a stream replaced by a resend is ignored.

  streamResponse(stream: ClientHttp2Stream, h: IncomingHttpHeaders, flags: number): void {
    if (stream !== this.#stream) return;
    this.#onResponse(h, flags);
    // Only now: node:http2 may emit a stream's first data before its 'response' event (both
    // came in one read); until a listener is attached the data waits in the stream.
    stream.on('data', onCarriedData);
  }

  streamData(stream: ClientHttp2Stream, d: Buffer): void {
    if (stream === this.#stream) this.#onData(d);
  }

  streamTrailers(stream: ClientHttp2Stream, t: IncomingHttpHeaders): void {
    if (stream !== this.#stream) return;
    const g = t['grpc-status'];
    if (typeof g === 'string') this.#grpcStatus = Number(g);
  }

  streamEnd(stream: ClientHttp2Stream): void {
    if (stream === this.#stream && this.#status !== undefined) this.#complete();
  }

  streamError(stream: ClientHttp2Stream): void {
    if (stream === this.#stream) this.#lost(stream, 'upstream connection failed');
  }

  streamClose(stream: ClientHttp2Stream): void {
    if (stream === this.#stream) this.#lost(stream, `upstream reset the stream (code ${stream.rstCode})`);
  }

  /** Decoded request body data (ChunkedSink), written into the stream. */
  data(buf: Buffer, start: number, end: number): void {
    const stream = this.#stream;
    if (stream === undefined || this.#done) return;
    if (!stream.write(start === 0 && end === buf.length ? buf : buf.subarray(start, end))) {
      this.client.socket.pause();
      stream.once('drain', (this.#resumeClient ??= () => this.#clientResumed()));
    }
  }

  // Listeners made only for an exchange that meets backpressure (most never do).
  #resumeClient: (() => void) | undefined = undefined;
  #resumeStream: (() => void) | undefined = undefined;

  #clientResumed(): void {
    if (!this.#done) this.client.socket.resume();
  }

  requestData(buf: Buffer, offset: number): number {
    const body = this.#reqBody as BodyFramer;
    const n = body.take(buf, offset);
    if (typeof n !== 'number') {
      this.#refuseBody(n.status, n.message);
      return -1;
    }
    if (body.done) {
      this.requestDone = true;
      if (!this.#done) this.#stream?.end();
    }
    return n;
  }

  #onResponse(h: IncomingHttpHeaders, flags: number): void {
    if (this.#done) return;
    const status = Number(h[':status']);
    const endStream = (flags & h2constants.NGHTTP2_FLAG_END_STREAM) !== 0;
    const noBody = this.head.method === 'HEAD' || status === 204 || status === 304;
    let text = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n`;
    let length: string | undefined;
    for (const k in h) {
      if (k.charCodeAt(0) === 58 /* : */ || k === L5D_ORIG_PROTO || isHopByHop(k)) continue;
      const v = h[k];
      if (k === 'content-length') {
        length = v as string;
        continue;
      }
      if (typeof v === 'string') text += `${k}: ${v}\r\n`;
      else if (v !== undefined) for (const x of v) text += `${k}: ${x}\r\n`;
    }
    if (noBody) {
      if (length !== undefined) text += `content-length: ${length}\r\n`;
    } else if (endStream) text += 'content-length: 0\r\n';
    else if (length !== undefined) text += `content-length: ${length}\r\n`;
    else if (this.head.version === '1.1') {
      text += 'transfer-encoding: chunked\r\n';
      this.#chunked = true;
    } else this.#closeClient = true;
    if (this.#closeClient) text += 'connection: close\r\n';
    this.#status = status;
    const g = h['grpc-status'];
    if (typeof g === 'string') this.#grpcStatus = Number(g);
    // The head waits for the first body bytes (one write for a small response): the first DATA
    // frame usually came in the same read as the HEADERS but reaches the stream in a callback of
    // its own, after this one's ticks, so the socket stays corked until the loop has run this
    // read's callbacks (setImmediate; a tick was too early: two writes per response).
    this.client.socket.cork();
    setImmediate(uncork, this.client);
    this.client.write(`${text}\r\n`);
    if (endStream) this.#complete();
  }

  #onData(d: Buffer): void {
    if (this.#done || this.#status === undefined) return;
    let ok: boolean;
    if (this.#chunked) {
      this.client.write(`${d.length.toString(16)}\r\n`);
      this.client.write(d);
      ok = this.client.write('\r\n');
    } else ok = this.client.write(d);
    if (!ok) {
      this.#stream?.pause();
      this.client.socket.once('drain', (this.#resumeStream ??= () => this.#stream?.resume()));
    }
  }

  #complete(): void {
    if (this.#done) return;
    this.#done = true;
    if (this.#chunked) this.client.write(CHUNKED_END);
    this.ctx.onResponse?.(this.#status, this.#grpcStatus, undefined);
    this.client.finished(this, this.#closeClient || !this.requestDone);
  }

  /** The stream closed or failed: sent again when the peer did not process it, else a failure. */
  #lost(stream: ClientHttp2Stream, message: string): void {
    if (this.#done) return;
    if (
      this.#status === undefined &&
      this.#reqBody === undefined &&
      this.#resends < MAX_UNPROCESSED_RESENDS &&
      !this.client.socket.destroyed &&
      unprocessedStream(stream) !== undefined
    ) {
      this.#resends++;
      this.start();
      return;
    }
    this.#fail(message);
  }

  #fail(message: string): void {
    if (this.#done) return;
    this.#done = true;
    this.#cancel();
    this.client.failExchange(this, this.ctx, this.#status, 502, message, ProxyErrorLabel.Io, true);
  }

  #refuseBody(status: number, message: string): void {
    if (this.#done) {
      this.client.destroy();
      return;
    }
    this.#done = true;
    this.#cancel();
    this.client.failExchange(
      this,
      this.ctx,
      this.#status,
      status,
      message,
      ProxyErrorLabel.Unexpected,
      false,
    );
  }

  /** Only an unfinished stream is cancelled: resetting ended ones trips nghttp2's rapid-reset limit. */
  #cancel(): void {
    const stream = this.#stream;
    if (stream !== undefined && !stream.closed) stream.close(h2constants.NGHTTP2_CANCEL);
  }

  clientGone(): void {
    if (this.#done) return;
    this.#done = true;
    this.#cancel();
    this.ctx.onResponse?.(this.#status, undefined, ProxyErrorLabel.Io);
  }
}

function uncork(client: ClientConnection): void {
  if (!client.socket.destroyed) client.socket.uncork();
}
