// One HTTP/1 request carried as an HTTP/2 stream to a peer proxy that accepts HTTP/2 (discovery's
// h2 hint; Linkerd's `l5d-orig-proto`), from the raw-socket engine: the request body is decoded
// from its HTTP/1 framing into the stream, the stream's response goes back to the client in
// HTTP/1.1 (chunked unless it has a length; until close for an HTTP/1.0 client). Either side going
// away cancels the other. A stream the peer did not process (refused, or never opened on a
// connection that had connected) is opened again when the request had no body. The streams are
// the raw HTTP/2 engine's (raw-h2/), on connections shared per peer.
import { STATUS_CODES } from 'node:http';
import { ProxyErrorLabel } from '@tsmesh/core/data-plane';
import { isHopByHop } from '../headers.js';
import { L5D_ORIG_PROTO, upgradedRequestFields } from '../orig-proto.js';
import { H2Error } from '../raw-h2/frames.js';
import type { H2Stream, H2StreamHandler, ResetOrigin } from '../raw-h2/stream.js';
import {
  upstreamResetMessage,
  type RawH2Sessions,
  type UpstreamSession,
} from '../raw-h2/upstream-sessions.js';
import type { HttpRequestContext } from '../request-context.js';
import { MAX_UNPROCESSED_RESENDS } from '../unprocessed-stream.js';
import type { UpstreamTarget } from '../upstream-target.js';
import { BodyFramer } from './body-framer.js';
import { COALESCE_BYTES } from './upstream-exchange.js';
import { latin1Slice } from '../raw-h2/hpack/byte-sink.js';
import type { ChunkedSink } from './chunked-decoder.js';
import type { ClientConnection, ClientExchange } from './client-connection.js';
import type { MessageFraming } from './framing.js';
import type { RequestHead } from './head-parser.js';

const CHUNKED_END = '0\r\n\r\n';

export class H2CarriedExchange implements ClientExchange, ChunkedSink, H2StreamHandler {
  requestDone: boolean;
  readonly #reqBody: BodyFramer | undefined;
  #stream: H2Stream | undefined;
  /** The response head, until it leaves with the first body bytes (or at the end of its tick). */
  #head: string | undefined = undefined;
  #session: UpstreamSession | undefined;
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
    private readonly sessions: () => RawH2Sessions,
  ) {
    this.requestDone = framing.body.kind === 'none';
    this.#reqBody = this.requestDone ? undefined : new BodyFramer(framing.body, 'request', this);
    this.#closeClient = !framing.keepAlive;
  }

  start(): void {
    const { head, ctx, target } = this;
    let stream: H2Stream;
    try {
      const fields = upgradedRequestFields({
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
      const session = this.sessions().get(target, ctx.serverIdentity);
      stream = session.connection.request(fields, this.#reqBody === undefined, this);
      this.#session = session;
    } catch {
      this.#fail('upstream connection failed');
      return;
    }
    this.#stream = stream;
  }

  // The stream's side (H2StreamHandler): a stream replaced by a resend is ignored.

  h2Headers(stream: H2Stream, fields: string[], endStream: boolean): void {
    if (stream === this.#stream) this.#onResponse(fields, endStream);
  }

  h2Data(stream: H2Stream, d: Buffer, endStream: boolean): void {
    if (stream !== this.#stream) return;
    if (d.length > 0) this.#onData(d);
    if (endStream) this.#complete();
  }

  h2Trailers(stream: H2Stream, fields: string[]): void {
    if (stream !== this.#stream) return;
    for (let i = 0; i < fields.length; i += 2) {
      if (fields[i] === 'grpc-status') this.#grpcStatus = Number(fields[i + 1]);
    }
    this.#complete();
  }

  h2Drain(stream: H2Stream): void {
    if (stream === this.#stream && !this.#done) this.client.socket.resume();
  }

  h2Reset(stream: H2Stream, code: number, origin: ResetOrigin): void {
    if (stream !== this.#stream) return;
    this.#lost(stream, origin, upstreamResetMessage(code, origin));
  }

  /** Decoded request body data (ChunkedSink), written into the stream. */
  data(buf: Buffer, start: number, end: number): void {
    const stream = this.#stream;
    if (stream === undefined || this.#done) return;
    // The stream's h2Drain resumes the client.
    if (!stream.write(start === 0 && end === buf.length ? buf : buf.subarray(start, end)))
      this.client.socket.pause();
  }

  // A listener made only for an exchange that meets backpressure (most never do).
  #resumeStream: (() => void) | undefined = undefined;

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

  #onResponse(fields: string[], endStream: boolean): void {
    if (this.#done) return;
    const status = Number(fields[1]);
    const noBody = this.head.method === 'HEAD' || status === 204 || status === 304;
    let text = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n`;
    let length: string | undefined;
    for (let i = 2; i < fields.length; i += 2) {
      const k = fields[i] as string;
      if (k === L5D_ORIG_PROTO || isHopByHop(k)) continue;
      const v = fields[i + 1] as string;
      if (k === 'content-length') {
        length ??= v;
        continue;
      }
      if (k === 'grpc-status') this.#grpcStatus = Number(v);
      text += `${k}: ${v}\r\n`;
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
    if (endStream) {
      this.#head = `${text}\r\n`;
      this.#complete();
      return;
    }
    // The head waits for the first body bytes, one write for a small response: the raw engine
    // hands the DATA that came in the same read as the HEADERS over before this tick ends. A head
    // whose body has not come by then leaves alone.
    this.#head = `${text}\r\n`;
    process.nextTick(flushCarriedHead, this);
  }

  /** The response head, when no body bytes came with it. */
  flushHead(): void {
    const head = this.#head;
    if (head === undefined || this.#done) return;
    this.#head = undefined;
    this.client.write(head);
  }

  #onData(d: Buffer): void {
    if (this.#done || this.#status === undefined) return;
    const head = this.#head;
    this.#head = undefined;
    let ok: boolean;
    if (d.length <= COALESCE_BYTES) {
      // Small: one string with the head (if still pending) and the chunk's framing.
      const body = latin1Slice(d, 0, d.length);
      ok = this.client.write(
        this.#chunked ? `${head ?? ''}${d.length.toString(16)}\r\n${body}\r\n` : `${head ?? ''}${body}`,
      );
    } else {
      if (head !== undefined) this.client.write(head);
      if (this.#chunked) {
        this.client.write(`${d.length.toString(16)}\r\n`);
        this.client.write(d);
        ok = this.client.write('\r\n');
      } else ok = this.client.write(d);
    }
    if (!ok) {
      this.#stream?.pause();
      this.client.socket.once('drain', (this.#resumeStream ??= () => this.#stream?.resume()));
    }
  }

  #complete(): void {
    if (this.#done) return;
    this.#done = true;
    const head = this.#head;
    this.#head = undefined;
    const tail = this.#chunked ? `${head ?? ''}${CHUNKED_END}` : head;
    if (tail !== undefined) this.client.write(tail);
    this.ctx.onResponse?.(this.#status, this.#grpcStatus, undefined);
    this.client.finished(this, this.#closeClient || !this.requestDone);
  }

  /** The stream closed or failed: sent again when the peer did not process it, else a failure. */
  #lost(stream: H2Stream, origin: ResetOrigin, message: string): void {
    if (this.#done) return;
    if (
      this.#status === undefined &&
      this.#reqBody === undefined &&
      this.#resends < MAX_UNPROCESSED_RESENDS &&
      !this.client.socket.destroyed &&
      this.#session?.unprocessed(stream, origin) === true
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

  /** Only an unfinished stream is cancelled: resetting ended ones trips peers' rapid-reset limits. */
  #cancel(): void {
    const stream = this.#stream;
    if (stream !== undefined && !stream.closed) stream.reset(H2Error.CANCEL);
  }

  clientGone(): void {
    if (this.#done) return;
    this.#done = true;
    this.#cancel();
    this.ctx.onResponse?.(this.#status, undefined, ProxyErrorLabel.Io);
  }
}

function flushCarriedHead(ex: H2CarriedExchange): void {
  ex.flushHead();
}
