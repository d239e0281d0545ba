// The endpoint level of the outbound stack: one attempt of one request to one address. HTTP/1
// requests go over a keep-alive undici Pool per endpoint; HTTP/2 (gRPC) requests are streams on
// one multiplexed session per endpoint. When discovery gives the endpoint a TLS identity the
// connection is mesh TLS and the peer must present exactly that identity. An endpoint whose proxy
// accepts HTTP/2 (protocol hint h2) gets HTTP/1 requests as HTTP/2 streams too, marked with
// Linkerd's `l5d-orig-proto` (Upgrade requests never reach this layer: they become tunnels).
import { constants, type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2';
import type { Readable } from 'node:stream';
import type { Pool } from 'undici';
import type { Endpoint } from '../../discovery/index.js';
import { ProxyError, ProxyErrorCode } from '../../errors/index.js';
import {
  createHttp1Pools,
  createHttp2Sessions,
  L5D_ORIG_PROTO,
  origProtoValue,
  stripHopByHop,
  type Http2Sessions,
} from '../../http/index.js';
import type { MeshTls } from '../../tls/index.js';

export type Headers = Record<string, string | string[]>;

export interface AttemptRequest {
  readonly method: string;
  /** Path and query: origin form (the exchange turns an absolute-form target into it). */
  readonly path: string;
  readonly authority: string;
  /** Without hop-by-hop headers and pseudo-headers (the exchange strips them). */
  readonly headers: Headers;
  /** A buffered body (replayable) or a stream (one attempt only); null for none. */
  readonly body: Buffer | Readable | null;
  /** Send as HTTP/2 (the client spoke HTTP/2, e.g. gRPC). */
  readonly http2: boolean;
}

export interface AttemptResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Readable;
  /** Trailers, once the body has ended (undefined for none). */
  trailers(): Headers | undefined;
  /** True when the response has no body at all (HTTP/2 trailers-only, e.g. a gRPC error). */
  readonly endStream: boolean;
}

export interface EndpointClient {
  readonly endpoint: Endpoint;
  /** Whether mesh TLS is used to reach it. */
  readonly tls: boolean;
  send(req: AttemptRequest, signal: AbortSignal): Promise<AttemptResponse>;
  /** Closes the connections; `graceful` lets requests in flight finish first. */
  close(graceful?: boolean): Promise<void>;
}

export interface EndpointClientOptions {
  readonly endpoint: Endpoint;
  readonly meshTls: MeshTls | undefined;
  readonly connectTimeoutMs: number;
  readonly idleTimeoutMs?: number;
}

const HTTP2_FORBIDDEN = new Set([
  'host',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
  'proxy-connection',
]);

/**
 * The `l5d-orig-proto` of every HTTP/1 request carried over HTTP/2 from here: the path is in
 * origin form (the exchange normalised an absolute target), so never "; absolute-form".
 */
const HTTP11 = origProtoValue('1.1', '/');

const toConnectError = (err: unknown) =>
  ProxyError.is(err)
    ? err
    : new ProxyError(
        ProxyErrorCode.ConnectFailed,
        `connecting to the endpoint failed: ${(err as Error)?.message ?? err}`,
        { cause: err },
      );

export function createEndpointClient(options: EndpointClientOptions): EndpointClient {
  const { endpoint, meshTls, connectTimeoutMs } = options;
  const identity = endpoint.identity !== undefined && meshTls?.isReady() ? endpoint.identity : undefined;
  let usedPool = false;
  let session: ClientHttp2Session | undefined;

  const pools = createHttp1Pools({
    connectTimeoutMs,
    idleTimeoutMs: options.idleTimeoutMs,
    meshTls,
    tlsError: (e, id) =>
      new ProxyError(
        ProxyErrorCode.IdentityMismatch,
        `mesh TLS with the endpoint failed (expected identity ${id}): ${(e as Error).message}`,
        { cause: e },
      ),
  });
  const poolFor = (): Pool => {
    usedPool = true;
    return pools.get(endpoint.addr, identity);
  };

  // One multiplexed HTTP/2 session to the endpoint, made on first use and replaced once closed.
  let sessions: Http2Sessions | undefined;
  const sessionFor = (): ClientHttp2Session => {
    if (session && !session.closed && !session.destroyed) return session;
    sessions ??= createHttp2Sessions({ connectTimeoutMs, meshTls });
    const s = sessions.get(endpoint.addr, identity);
    if (s !== session) {
      session = s;
      // A session told to go away takes no new streams: the next request gets a new one.
      s.once('goaway', () => {
        if (session === s) session = undefined;
      });
    }
    return s;
  };

  const sendHttp1 = async (req: AttemptRequest, signal: AbortSignal): Promise<AttemptResponse> => {
    // The exchange already dropped hop-by-hop and pseudo-headers: one copy, with the authority.
    const headers = { ...req.headers, host: req.authority };
    let data: Awaited<ReturnType<Pool['request']>>;
    try {
      data = await poolFor().request({
        path: req.path,
        method: req.method as 'GET',
        headers,
        body: req.body,
        signal,
      });
    } catch (err) {
      if (signal.aborted) throw signal.reason ?? err;
      if (ProxyError.is(err)) throw err;
      const code = (err as { code?: string }).code;
      if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'ECONNREFUSED' || code === 'EHOSTUNREACH')
        throw toConnectError(err);
      throw new ProxyError(
        ProxyErrorCode.EndpointReset,
        `the endpoint failed the request: ${(err as Error).message}`,
        { cause: err },
      );
    }
    return {
      status: data.statusCode,
      headers: stripHopByHop(data.headers),
      body: data.body,
      trailers: () => {
        const t = data.trailers as Record<string, string> | undefined;
        return t && Object.keys(t).length > 0 ? { ...t } : undefined;
      },
      endStream: false,
    };
  };

  /** origProto: an HTTP/1 request carried over HTTP/2, with this `l5d-orig-proto` value. */
  const sendHttp2 = (
    req: AttemptRequest,
    signal: AbortSignal,
    origProto?: string,
  ): Promise<AttemptResponse> =>
    new Promise((resolve, reject) => {
      let s: ClientHttp2Session;
      try {
        s = sessionFor();
      } catch (err) {
        reject(toConnectError(err));
        return;
      }
      const headers: Headers = {};
      for (const [k, v] of Object.entries(req.headers))
        if (!HTTP2_FORBIDDEN.has(k) && !k.startsWith(':')) headers[k] = v;
      headers[':method'] = req.method;
      headers[':path'] = req.path;
      headers[':authority'] = req.authority;
      headers[':scheme'] = 'http';
      if (origProto !== undefined) headers[L5D_ORIG_PROTO] = origProto;
      const body = req.body;
      let stream: ReturnType<ClientHttp2Session['request']>;
      try {
        stream = s.request(headers, {
          endStream: body === null || (Buffer.isBuffer(body) && body.length === 0),
        });
      } catch (err) {
        reject(toConnectError(err));
        return;
      }
      let trailers: Headers | undefined;
      let settled = false;
      const onAbort = () => {
        if (!stream.closed) stream.close(constants.NGHTTP2_CANCEL);
        if (!settled) {
          settled = true;
          reject(signal.reason);
        }
      };
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
      stream.on('trailers', (t: IncomingHttpHeaders) => {
        trailers = stripHopByHop(t);
      });
      stream.on('response', (h: IncomingHttpHeaders, flags: number) => {
        if (settled) return;
        settled = true;
        const status = Number(h[':status']);
        const out = stripHopByHop(h);
        for (const k of Object.keys(out)) if (k.startsWith(':')) delete out[k];
        delete out[L5D_ORIG_PROTO];
        const endStream = (flags & constants.NGHTTP2_FLAG_END_STREAM) !== 0;
        stream.once('close', () => signal.removeEventListener('abort', onAbort));
        resolve({ status, headers: out, body: stream, trailers: () => trailers, endStream });
      });
      stream.on('error', (err) => {
        signal.removeEventListener('abort', onAbort);
        if (settled) return;
        settled = true;
        reject(
          s.connecting || !s.socket
            ? toConnectError(err)
            : new ProxyError(ProxyErrorCode.EndpointReset, `the endpoint reset the stream: ${err.message}`, {
                cause: err,
              }),
        );
      });
      stream.on('close', () => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        reject(
          new ProxyError(
            ProxyErrorCode.EndpointReset,
            `the endpoint closed the stream (code ${stream.rstCode})`,
          ),
        );
      });
      if (Buffer.isBuffer(body)) {
        if (body.length > 0) stream.end(body);
      } else if (body) {
        body.pipe(stream);
      }
    });

  return {
    endpoint,
    tls: identity !== undefined,
    send: (req, signal) =>
      req.http2
        ? sendHttp2(req, signal)
        : endpoint.protocolHint === 'h2'
          ? sendHttp2(req, signal, HTTP11)
          : sendHttp1(req, signal),
    async close(graceful = false) {
      session = undefined;
      sessions?.close(graceful);
      if (usedPool) await pools.close(graceful);
    },
  };
}
