// The inbound half of Linkerd's HTTP/1-over-HTTP/2 carriage on the raw-socket engine: an HTTP/2
// stream whose request carries `l5d-orig-proto` goes to the app as the HTTP/1.1 request it was at
// the peer proxy (Host from :authority; the absolute target back when the peer marked it
// absolute-form), over the engine's keep-alive upstream connections; the app's response returns on
// the stream, its body decoded from its HTTP/1 framing, marked with the version the app spoke.
import {
  constants,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type ServerHttp2Stream,
} from 'node:http2';
import { MeshError, MeshErrorCode, ProxyErrorLabel } from '@tsmesh/core/data-plane';
import { isHopByHop, L5D_PROXY_ERROR } from '../headers.js';
import { L5D_ORIG_PROTO, type OrigProto } from '../orig-proto.js';
import type { HttpRequestContext } from '../request-context.js';
import { MAX_UNPROCESSED_RESENDS } from '../unprocessed-stream.js';
import { BodyFramer } from './body-framer.js';
import type { ChunkedSink } from './chunked-decoder.js';
import { responseFraming } from './framing.js';
import { parseResponseHead, type HeadIncomplete } from './head-parser.js';
import type { TargetConnections, UpstreamConnection, UpstreamUser } from './upstream-connections.js';

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);
const CHUNKED_END = '0\r\n\r\n';

/** The HTTP/1.1 request head for a downgraded stream; `chunked` frames a body without a length. */
function downgradedHead(
  headers: IncomingHttpHeaders,
  ctx: HttpRequestContext,
  method: string,
  target: string,
  authority: string,
  body: 'none' | 'length' | 'chunked',
): string {
  let text = `${method} ${target} HTTP/1.1\r\nhost: ${authority}\r\n`;
  const remove = ctx.removeHeaders;
  for (const k in headers) {
    if (k.charCodeAt(0) === 58 /* : */ || k === L5D_ORIG_PROTO || k === 'host' || isHopByHop(k)) continue;
    if (k === 'content-length' && body !== 'length') continue;
    if (remove?.includes(k)) continue;
    const v = headers[k];
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const x of v) text += `${k}: ${x}\r\n`;
    else text += `${k}: ${v}\r\n`;
  }
  if (body === 'chunked') text += 'transfer-encoding: chunked\r\n';
  const add = ctx.addHeaders;
  if (add) for (const k in add) text += `${k}: ${add[k] as string}\r\n`;
  return `${text}\r\n`;
}

export class DowngradedExchange implements UpstreamUser, ChunkedSink {
  readonly #method: string;
  readonly #head: string;
  readonly #body: 'none' | 'length' | 'chunked';
  #pending: (Buffer | string)[] | null = null;
  #requestDone: boolean;
  #up: UpstreamConnection | undefined;
  #resBuf: Buffer | null = null;
  #resResume: HeadIncomplete | undefined;
  #resBody: BodyFramer | undefined;
  #status: number | undefined;
  #grpcStatus: string | undefined;
  #reusable = true;
  #responseBytes = false;
  #done = false;
  #resends = 0;

  constructor(
    private readonly stream: ServerHttp2Stream,
    headers: IncomingHttpHeaders,
    private readonly ctx: HttpRequestContext,
    orig: OrigProto,
    private readonly pool: TargetConnections,
  ) {
    const authority = String(headers[':authority'] ?? headers.host ?? '');
    const path = String(headers[':path'] ?? '/');
    this.#method = String(headers[':method'] ?? 'GET');
    const target = orig.absoluteForm ? `${String(headers[':scheme'] ?? 'http')}://${authority}${path}` : path;
    this.#body =
      stream.endAfterHeaders || headers['content-length'] === '0'
        ? 'none'
        : headers['content-length'] !== undefined
          ? 'length'
          : 'chunked';
    this.#requestDone = this.#body === 'none';
    this.#head = downgradedHead(headers, ctx, this.#method, target, authority, this.#body);
  }

  start(): void {
    const stream = this.stream;
    stream.on('close', this.#onStreamClose);
    if (this.#body !== 'none') {
      stream.on('data', this.#onRequestData);
      stream.on('end', this.#onRequestEnd);
    }
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
    if (pending === null) s.write(this.#head, 'latin1');
    else {
      s.cork();
      s.write(this.#head, 'latin1');
      for (const b of pending) {
        if (typeof b === 'string') s.write(b, 'latin1');
        else s.write(b);
      }
      s.uncork();
      this.stream.resume();
    }
  };

  #toUpstream(data: Buffer | string): void {
    const up = this.#up;
    if (up === undefined) {
      (this.#pending ??= []).push(data);
      // One window of the stream is held at most while connecting.
      this.stream.pause();
      return;
    }
    const ok = typeof data === 'string' ? up.socket.write(data, 'latin1') : up.socket.write(data);
    if (!ok) {
      this.stream.pause();
      up.socket.once('drain', this.#resumeStream);
    }
  }

  readonly #resumeStream = (): void => {
    if (!this.#done) this.stream.resume();
  };

  readonly #onRequestData = (d: Buffer): void => {
    if (this.#done || d.length === 0) return;
    if (this.#body === 'chunked') this.#toUpstream(`${d.length.toString(16)}\r\n`);
    this.#toUpstream(d);
    if (this.#body === 'chunked') this.#toUpstream('\r\n');
  };

  readonly #onRequestEnd = (): void => {
    this.#requestDone = true;
    if (this.#done) return;
    if (this.#body === 'chunked') this.#toUpstream(CHUNKED_END);
    if (this.#resBody?.done === true) this.#complete();
  };

  /** Decoded response data (ChunkedSink), onto the stream. */
  data(buf: Buffer, start: number, end: number): void {
    if (this.#done || this.stream.closed) return;
    if (!this.stream.write(start === 0 && end === buf.length ? buf : buf.subarray(start, end))) {
      this.#up?.socket.pause();
      this.stream.once('drain', this.#resumeUpstream);
    }
  }

  readonly #resumeUpstream = (): void => {
    this.#up?.socket.resume();
  };

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
      this.#fail(`invalid response from the app: ${n.message}`);
      return;
    }
    if (n < d.length) this.#reusable = false;
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
        this.#fail(`invalid response from the app: ${r.message}`);
        return;
      }
      const framing = responseFraming(r, this.#method);
      if (framing.kind === 'error') {
        this.#fail(`invalid response from the app: ${framing.message}`);
        return;
      }
      if (framing.informational) {
        if (r.consumed === buf.length) return;
        buf = buf.subarray(r.consumed);
        continue;
      }
      if (framing.body.kind === 'tunnel') {
        this.#fail(`the app answered ${r.status} to a request that asked for no tunnel`);
        return;
      }
      if (!framing.keepAlive) this.#reusable = false;
      const out: OutgoingHttpHeaders = { ':status': r.status };
      const h = r.headers;
      for (let i = 0; i < h.length; i += 2) {
        const lower = (h[i] as string).toLowerCase();
        if (isHopByHop(lower) || lower === L5D_ORIG_PROTO) continue;
        if (framing.connectionOptions.length > 0 && framing.connectionOptions.includes(lower)) continue;
        if (lower === 'content-length' && framing.body.kind !== 'length' && framing.body.kind !== 'none')
          continue;
        const value = h[i + 1] as string;
        if (lower === 'grpc-status') this.#grpcStatus = value;
        const prev = out[lower];
        if (prev === undefined) out[lower] = value;
        else if (Array.isArray(prev)) prev.push(value);
        else if (lower !== 'content-length') out[lower] = [String(prev), value];
      }
      out[L5D_ORIG_PROTO] = `HTTP/${r.version}`;
      const stream = this.stream;
      if (stream.destroyed || stream.closed) return;
      const noBody = framing.body.kind === 'none';
      try {
        stream.respond(out, { endStream: noBody });
      } catch {
        this.#fail('invalid response header from the app');
        return;
      }
      this.#status = r.status;
      const body = new BodyFramer(framing.body, 'response', this);
      this.#resBody = body;
      let off = r.consumed;
      if (off < buf.length && !body.done) {
        const n = body.take(buf, off);
        if (typeof n !== 'number') {
          this.#fail(`invalid response from the app: ${n.message}`);
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
    this.onUpstreamClose();
  }

  onUpstreamClose(): void {
    if (this.#resBody?.end() === true) {
      this.#reusable = false;
      this.#complete();
      return;
    }
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
      this.#body === 'none' &&
      IDEMPOTENT.has(this.#method) &&
      this.#resends < MAX_UNPROCESSED_RESENDS &&
      !this.stream.closed
    ) {
      this.#resends++;
      this.pool.acquire(this.#onUpstream);
      return;
    }
    this.#fail(
      this.#resBody === undefined
        ? 'the app closed the connection before answering'
        : 'the app closed the connection during the response',
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
    const stream = this.stream;
    if (!stream.closed && !stream.writableEnded) stream.end();
    const g = this.#grpcStatus;
    this.ctx.onResponse?.(this.#status, g === undefined ? undefined : Number(g), undefined);
    const up = this.#up;
    this.#up = undefined;
    if (up !== undefined) {
      if (this.#reusable && this.#requestDone) this.pool.release(up);
      else this.pool.discard(up);
    }
  }

  /** 502 with l5d-proxy-error before the response head; after it, the stream is cancelled. */
  #fail(message: string): void {
    if (this.#done) return;
    this.#done = true;
    const up = this.#up;
    this.#up = undefined;
    if (up !== undefined) this.pool.discard(up);
    const stream = this.stream;
    if (this.#status !== undefined) {
      this.ctx.onResponse?.(this.#status, undefined, ProxyErrorLabel.Io);
      if (!stream.closed) stream.close(constants.NGHTTP2_CANCEL);
      return;
    }
    this.ctx.onResponse?.(502, undefined, ProxyErrorLabel.Io);
    if (stream.destroyed || stream.closed) return;
    stream.respond(
      { ':status': 502, [L5D_PROXY_ERROR]: message, [L5D_ORIG_PROTO]: 'HTTP/1.1' },
      { endStream: true },
    );
  }

  /** The client's stream went away first: the app's request is abandoned. */
  readonly #onStreamClose = (): void => {
    if (this.#done) return;
    this.#done = true;
    const up = this.#up;
    this.#up = undefined;
    if (up !== undefined) this.pool.discard(up);
    this.ctx.onResponse?.(this.#status, undefined, ProxyErrorLabel.Io);
  };
}
