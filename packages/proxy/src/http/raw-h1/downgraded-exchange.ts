// The inbound half of Linkerd's HTTP/1-over-HTTP/2 carriage on the raw-socket engine: an HTTP/2
// stream whose request carries `l5d-orig-proto` goes to the app as the HTTP/1.1 request it was at
// the peer proxy (Host from :authority; the absolute target back when the peer marked it
// absolute-form), over the engine's keep-alive upstream connections (upstream-exchange.ts); the
// app's response returns on the stream, its body decoded from its HTTP/1 framing, marked with the
// version the app spoke.
import {
  constants,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type ServerHttp2Stream,
} from 'node:http2';
import { ProxyErrorLabel } from '@tsmesh/core/data-plane';
import { addProtoField, isHopByHop, L5D_PROXY_ERROR, PROTO_FIELD } from '../headers.js';
import { L5D_ORIG_PROTO, type OrigProto } from '../orig-proto.js';
import { fieldValue } from '../raw-h2/fields.js';
import type { HttpRequestContext } from '../request-context.js';
import { BodyFramer } from './body-framer.js';
import type { ChunkedSink } from './chunked-decoder.js';
import type { MessageFraming } from './framing.js';
import type { ResponseHead } from './head-parser.js';
import type { TargetConnections } from './upstream-connections.js';
import { UpstreamExchange } from './upstream-exchange.js';

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

/** A downgraded stream's HTTP/1.1 request: method, head and how its body is framed. */
export function downgradedRequest(
  headers: IncomingHttpHeaders,
  endStream: boolean,
  ctx: HttpRequestContext,
  orig: OrigProto,
): { method: string; head: string; body: 'none' | 'length' | 'chunked' } {
  const authority = String(headers[':authority'] ?? headers.host ?? '');
  const path = String(headers[':path'] ?? '/');
  const method = String(headers[':method'] ?? 'GET');
  const target = orig.absoluteForm ? `${String(headers[':scheme'] ?? 'http')}://${authority}${path}` : path;
  const length = headers['content-length'];
  const body = endStream || length === '0' ? 'none' : length !== undefined ? 'length' : 'chunked';
  return { method, head: downgradedHead(headers, ctx, method, target, authority, body), body };
}

/**
 * The HTTP/2 response head for the app's HTTP/1 response to a downgraded stream, as a flat field
 * list: `:status` first, lower-case names, no connection-specific fields (nor those its Connection
 * names), Content-Length only when it frames the body (once), and `l5d-orig-proto` with the app's
 * version last.
 */
export function downgradedResponseFields(r: ResponseHead, framing: MessageFraming): string[] {
  const out: string[] = [':status', String(r.status)];
  const h = r.headers;
  const options = framing.connectionOptions;
  const keepLength = framing.body.kind === 'length' || framing.body.kind === 'none';
  let length = false;
  for (let i = 0; i < h.length; i += 2) {
    const lower = (h[i] as string).toLowerCase();
    if (isHopByHop(lower) || lower === L5D_ORIG_PROTO) continue;
    if (options.length > 0 && options.includes(lower)) continue;
    if (lower === 'content-length') {
      if (!keepLength || length) continue;
      length = true;
    }
    out.push(lower, h[i + 1] as string);
  }
  out.push(L5D_ORIG_PROTO, `HTTP/${r.version}`);
  return out;
}

/** The exchange a client stream belongs to: its listeners are shared module functions. */
const kDowngraded = Symbol('tsmesh.downgraded');
type DowngradedStream = ServerHttp2Stream & { [kDowngraded]?: DowngradedExchange };

function onDowngradedData(this: DowngradedStream, d: Buffer): void {
  this[kDowngraded]?.requestData(d);
}
function onDowngradedEnd(this: DowngradedStream): void {
  this[kDowngraded]?.requestEnded();
}
function onDowngradedClose(this: DowngradedStream): void {
  this[kDowngraded]?.streamClosed();
}

export class DowngradedExchange extends UpstreamExchange implements ChunkedSink {
  readonly #body: 'none' | 'length' | 'chunked';
  #requestDone: boolean;

  constructor(
    private readonly stream: ServerHttp2Stream,
    headers: IncomingHttpHeaders,
    private readonly ctx: HttpRequestContext,
    orig: OrigProto,
    pool: TargetConnections,
  ) {
    const request = downgradedRequest(headers, stream.endAfterHeaders, ctx, orig);
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
    const stream = this.stream as DowngradedStream;
    stream[kDowngraded] = this;
    stream.on('close', onDowngradedClose);
    if (this.#body !== 'none') {
      stream.on('data', onDowngradedData);
      stream.on('end', onDowngradedEnd);
    }
    this.connect();
  }

  /** Request body bytes from the client's stream. */
  requestData(d: Buffer): void {
    if (this.done || d.length === 0) return;
    if (this.#body === 'chunked') this.toUpstream(`${d.length.toString(16)}\r\n`);
    this.toUpstream(d);
    if (this.#body === 'chunked') this.toUpstream('\r\n');
  }

  /** The client's request body ended. */
  requestEnded(): void {
    this.#requestDone = true;
    if (this.done) return;
    if (this.#body === 'chunked') this.toUpstream(CHUNKED_END);
    if (this.resBody?.done === true) this.complete();
  }

  /** Decoded response data (ChunkedSink), onto the stream. */
  data(buf: Buffer, start: number, end: number): void {
    if (this.done || this.stream.closed) return;
    if (!this.stream.write(start === 0 && end === buf.length ? buf : buf.subarray(start, end))) {
      this.pauseResponse();
      this.stream.once('drain', this.resumeResponseListener);
    }
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
    const fields = downgradedResponseFields(r, framing);
    this.grpcStatus = fieldValue(fields, 'grpc-status');
    const out: OutgoingHttpHeaders = { ':status': r.status };
    for (let i = 2; i < fields.length; i += 2) {
      const name = fields[i] as string;
      const value = fields[i + 1] as string;
      if (name === PROTO_FIELD) {
        addProtoField(out, value);
        continue;
      }
      const prev = out[name];
      if (prev === undefined) out[name] = value;
      else if (Array.isArray(prev)) prev.push(value);
      else out[name] = [String(prev), value];
    }
    const stream = this.stream;
    if (stream.destroyed || stream.closed) {
      this.abandon();
      this.ctx.onResponse?.(undefined, undefined, ProxyErrorLabel.Io);
      return undefined;
    }
    try {
      stream.respond(out, { endStream: framing.body.kind === 'none' });
    } catch {
      this.fail('invalid response header from the app');
      return undefined;
    }
    this.status = r.status;
    const body = new BodyFramer(framing.body, 'response', this);
    this.resBody = body;
    return this.takeBody(body, buf, bodyStart);
  }

  protected completed(): void {
    const stream = this.stream;
    if (!stream.closed && !stream.writableEnded) stream.end();
    const g = this.grpcStatus;
    this.ctx.onResponse?.(this.status, g === undefined ? undefined : Number(g), undefined);
  }

  /** 502 with l5d-proxy-error before the response head; after it, the stream is cancelled. */
  protected failed(message: string): void {
    const stream = this.stream;
    if (this.status !== undefined) {
      this.ctx.onResponse?.(this.status, undefined, ProxyErrorLabel.Io);
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
  streamClosed(): void {
    if (this.done) return;
    this.abandon();
    this.ctx.onResponse?.(this.status, undefined, ProxyErrorLabel.Io);
  }
}
