// The inbound half of Linkerd's HTTP/1-over-HTTP/2 upgrade: an HTTP/2 stream whose request
// carries `l5d-orig-proto` was an HTTP/1 request at the peer proxy, so it goes to the app as
// HTTP/1 again (Host from :authority; the absolute target back when the peer marked it
// absolute-form) and the response returns on the stream marked with the version the app spoke.
import {
  constants,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type ServerHttp2Stream,
} from 'node:http2';
import { PassThrough } from 'node:stream';
import { ProxyErrorLabel } from '@tsmesh/core/data-plane';
import type { Pool } from 'undici';
import { addProtoField, isHopByHop, L5D_PROXY_ERROR, PROTO_FIELD } from './headers.js';
import type { HttpRequestContext } from './request-context.js';
import { L5D_ORIG_PROTO, type OrigProto } from './orig-proto.js';
import { ResponseRelay } from './response-relay.js';

/** The HTTP/1 request head for a downgraded stream, as undici's flat [name, value, …] list. */
function downgradedHeaders(
  headers: IncomingHttpHeaders,
  ctx: HttpRequestContext,
  authority: string,
): string[] {
  const out: string[] = ['host', authority];
  const remove = ctx.removeHeaders;
  for (const k in headers) {
    if (k.charCodeAt(0) === 58 /* : */ || k === L5D_ORIG_PROTO || k === 'host' || isHopByHop(k)) continue;
    if (remove?.includes(k)) continue;
    const v = headers[k];
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const x of v) out.push(k, x);
    else out.push(k, v);
  }
  const add = ctx.addHeaders;
  if (add) for (const k in add) out.push(k, add[k] as string);
  return out;
}

/** undici dispatch handler writing the app's HTTP/1 response to the HTTP/2 stream. */
class DowngradedResponse extends ResponseRelay<ServerHttp2Stream> {
  onHeaders(statusCode: number, raw: Buffer[], resume: () => void): boolean {
    if (statusCode < 200) return true;
    const stream = this.out;
    if (stream.destroyed || stream.closed) return false;
    this.resume = resume;
    const out: OutgoingHttpHeaders = { ':status': statusCode };
    let named: string[] | undefined;
    for (let i = 0; i < raw.length; i += 2) {
      const lower = (raw[i] as Buffer).toString('latin1').toLowerCase();
      const value = (raw[i + 1] as Buffer).toString('latin1');
      if (lower === 'connection') {
        named = value.split(',').map((n) => n.trim().toLowerCase());
        continue;
      }
      if (isHopByHop(lower) || lower === L5D_ORIG_PROTO) continue;
      if (lower === 'grpc-status') this.grpcStatus = value;
      if (lower === PROTO_FIELD) {
        addProtoField(out, value);
        continue;
      }
      const prev = out[lower];
      if (prev === undefined) out[lower] = value;
      else if (Array.isArray(prev)) prev.push(value);
      else out[lower] = [String(prev), value];
    }
    if (named) for (const n of named) if (n !== ':status') delete out[n];
    // undici speaks HTTP/1.1 to the app.
    out[L5D_ORIG_PROTO] = 'HTTP/1.1';
    try {
      stream.respond(out);
    } catch {
      this.onError(new Error('invalid response header from the app'));
      this.abort?.();
      return false;
    }
    this.status = statusCode;
    return true;
  }

  onComplete() {
    if (!this.done && !this.out.closed) this.out.end();
    this.finish(undefined);
  }

  onError(err: Error) {
    const stream = this.out;
    if (this.status !== undefined) {
      if (this.finish(ProxyErrorLabel.Io) && !stream.closed) stream.close(constants.NGHTTP2_CANCEL);
      return;
    }
    if (!this.finish(ProxyErrorLabel.Io, 502)) return;
    if (stream.destroyed || stream.closed) return;
    const timeout = (err as { code?: string }).code === 'UND_ERR_CONNECT_TIMEOUT';
    stream.respond(
      {
        ':status': 502,
        [L5D_PROXY_ERROR]: timeout ? 'connect timed out' : 'upstream connection failed',
        [L5D_ORIG_PROTO]: 'HTTP/1.1',
      },
      { endStream: true },
    );
  }
}

/** Forwards one upgraded stream to the app over HTTP/1 (a pooled keep-alive connection). */
export function forwardDowngraded(
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
  ctx: HttpRequestContext,
  orig: OrigProto,
  pool: Pool,
): void {
  const authority = String(headers[':authority'] ?? headers.host ?? '');
  const path = String(headers[':path'] ?? '/');
  const url = orig.absoluteForm ? `${String(headers[':scheme'] ?? 'http')}://${authority}${path}` : path;
  // undici destroys a stream body once sent, which would reset the HTTP/2 stream before the
  // response: the body goes through a PassThrough instead.
  const body =
    stream.endAfterHeaders || headers['content-length'] === '0' ? null : stream.pipe(new PassThrough());
  pool.dispatch(
    {
      path: url,
      method: String(headers[':method'] ?? 'GET') as 'GET',
      headers: downgradedHeaders(headers, ctx, authority),
      body,
    },
    new DowngradedResponse(stream, ctx),
  );
}
