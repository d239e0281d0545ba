// The endpoint level of the outbound stack: one attempt of one request to one address. HTTP/1
// requests go over the raw-socket engine's keep-alive connections to the endpoint (an undici Pool
// with `http1Engine: 'node'`); HTTP/2 (gRPC) requests are streams on
// one multiplexed session per endpoint. When discovery gives the endpoint a TLS identity the
// connection is mesh TLS and the peer must present exactly that identity. An endpoint whose proxy
// accepts HTTP/2 (protocol hint h2) gets HTTP/1 requests as HTTP/2 streams too, marked with
// Linkerd's `l5d-orig-proto` (Upgrade requests never reach this layer: they become tunnels).
import type { ClientHttp2Session } from 'node:http2';
import type { Pool } from 'undici';
import type { Endpoint } from '../../discovery/index.js';
import { ProxyError, ProxyErrorCode } from '../../errors/index.js';
import {
  createHttp1Pools,
  createHttp2Sessions,
  origProtoValue,
  type Http2Sessions,
} from '../../http/index.js';
import { UpstreamConnections } from '../../http/raw-h1/index.js';
import type { MeshTls } from '../../tls/index.js';
import type { AbortHook } from '../abort-hook.js';
import {
  failAttemptLater,
  toConnectError,
  type AttemptReceiver,
  type AttemptRequest,
  type AttemptResponse,
} from './attempt.js';
import { sendHttp1 } from './http1-attempt.js';
import { sendHttp2 } from './http2-attempt.js';
import { RawHttp2Attempt } from './raw-http2-attempt.js';
import { RawH2Sessions } from '../../http/raw-h2/upstream-sessions.js';
import { LiveAttempts, RawHttp1Attempt } from './raw-http1-attempt.js';

export interface EndpointClient {
  readonly endpoint: Endpoint;
  /** Whether mesh TLS is used to reach it. */
  readonly tls: boolean;
  /**
   * One attempt; `to` is told its response head or its failure. `abort` cancels it (before the
   * response head: it fails with the hook's reason).
   */
  sendTo(req: AttemptRequest, abort: AbortHook, to: AttemptReceiver): void;
  /** sendTo() as a promise. */
  send(req: AttemptRequest, abort: AbortHook): Promise<AttemptResponse>;
  /** Closes the connections; `graceful` lets requests in flight finish first. */
  close(graceful?: boolean): Promise<void>;
}

export interface EndpointClientOptions {
  readonly endpoint: Endpoint;
  readonly meshTls: MeshTls | undefined;
  readonly connectTimeoutMs: number;
  readonly idleTimeoutMs?: number;
  /**
   * What HTTP/1 requests go over (TSMESH_PROXY_HTTP1_ENGINE): the raw-socket engine's connections
   * (default) or node:http + undici.
   */
  readonly http1Engine?: 'raw' | 'node';
  /**
   * What HTTP/2 streams (and HTTP/1 requests carried over HTTP/2) go over
   * (TSMESH_PROXY_HTTP2_ENGINE): the raw HTTP/2 engine's connection (default) or node:http2.
   */
  readonly http2Engine?: 'raw' | 'node';
}

/**
 * The `l5d-orig-proto` of every HTTP/1 request carried over HTTP/2 from here: the path is in
 * origin form (the exchange normalised an absolute target), so never "; absolute-form".
 */
const HTTP11 = origProtoValue('1.1', '/');

/** Tells `to` what a promised attempt came to (the undici engine's). */
function settleTo(p: Promise<AttemptResponse>, to: AttemptReceiver): void {
  p.then(
    (res) => to.attemptResponded(res),
    (err: unknown) => to.attemptFailed(err),
  );
}

/** An AttemptReceiver settling a promise (send()). */
function promisedAttempt(sendTo: (to: AttemptReceiver) => void): Promise<AttemptResponse> {
  return new Promise((resolve, reject) => sendTo({ attemptResponded: resolve, attemptFailed: reject }));
}

export function createEndpointClient(options: EndpointClientOptions): EndpointClient {
  const { endpoint, meshTls, connectTimeoutMs } = options;
  const identity = endpoint.identity !== undefined && meshTls?.isReady() ? endpoint.identity : undefined;
  let usedPool = false;
  let session: ClientHttp2Session | undefined;
  let closed = false;

  const tlsError = (e: unknown, id: string) =>
    new ProxyError(
      ProxyErrorCode.IdentityMismatch,
      `mesh TLS with the endpoint failed (expected identity ${id}): ${(e as Error).message}`,
      { cause: e },
    );
  const pools = createHttp1Pools({
    connectTimeoutMs,
    idleTimeoutMs: options.idleTimeoutMs,
    meshTls,
    tlsError,
  });
  const poolFor = (): Pool => {
    usedPool = true;
    return pools.get(endpoint.addr, identity);
  };

  // The raw engine's connections to the endpoint, made on first use. The target's connections are
  // looked up per request: the sweeper forgets a target once it has no connection left, and the
  // next request gets a fresh one (a reference kept here would no longer be swept nor closed).
  let upstreams: UpstreamConnections | undefined;
  const live = new LiveAttempts();
  const sendOverRawHttp1 = (req: AttemptRequest, abort: AbortHook, to: AttemptReceiver): void => {
    if (closed) {
      // Removed from discovery between the balancer's pick and this send: never sent.
      failAttemptLater(
        to,
        new ProxyError(ProxyErrorCode.EndpointReset, 'the endpoint was removed', { unprocessed: true }),
      );
      return;
    }
    upstreams ??= new UpstreamConnections({
      connectTimeoutMs,
      idleTimeoutMs: options.idleTimeoutMs,
      meshTls,
      tlsError,
    });
    RawHttp1Attempt.send(upstreams.for(endpoint.addr, identity), req, abort, live, to);
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

  const sendOverUndici = (req: AttemptRequest, abort: AbortHook): Promise<AttemptResponse> => {
    // The exchange already dropped hop-by-hop and pseudo-headers: a flat list, with the authority.
    const headers: string[] = [];
    const from = req.headers;
    for (const k in from) if (k !== 'host') headers.push(k, from[k] as string);
    headers.push('host', req.authority);
    let pool: Pool;
    try {
      pool = poolFor();
    } catch (err) {
      return Promise.reject(toConnectError(err));
    }
    return sendHttp1(pool, req.path, req.method, headers, req.body, abort);
  };

  const sendOverHttp1 =
    options.http1Engine === 'node'
      ? (req: AttemptRequest, abort: AbortHook, to: AttemptReceiver) =>
          settleTo(sendOverUndici(req, abort), to)
      : sendOverRawHttp1;

  // The raw HTTP/2 engine's connection to the endpoint, made on first use and replaced once it
  // takes no new streams.
  let rawSessions: RawH2Sessions | undefined;
  const sendOverRawHttp2 = (
    req: AttemptRequest,
    abort: AbortHook,
    to: AttemptReceiver,
    origProto?: string,
  ): void => {
    if (closed) {
      failAttemptLater(
        to,
        new ProxyError(ProxyErrorCode.EndpointReset, 'the endpoint was removed', { unprocessed: true }),
      );
      return;
    }
    rawSessions ??= new RawH2Sessions({ connectTimeoutMs, meshTls });
    let session;
    try {
      session = rawSessions.get(endpoint.addr, identity);
    } catch (err) {
      failAttemptLater(to, toConnectError(err));
      return;
    }
    RawHttp2Attempt.send(session, req, abort, origProto, to);
  };

  /** origProto: an HTTP/1 request carried over HTTP/2, with this `l5d-orig-proto` value. */
  const sendOverNodeHttp2 = (
    req: AttemptRequest,
    abort: AbortHook,
    to: AttemptReceiver,
    origProto?: string,
  ): void => {
    let s: ClientHttp2Session;
    try {
      s = sessionFor();
    } catch (err) {
      failAttemptLater(to, toConnectError(err));
      return;
    }
    sendHttp2(s, req, abort, origProto, to);
  };

  const sendOverHttp2 = options.http2Engine === 'node' ? sendOverNodeHttp2 : sendOverRawHttp2;

  const sendTo = (req: AttemptRequest, abort: AbortHook, to: AttemptReceiver): void => {
    if (req.http2) sendOverHttp2(req, abort, to);
    else if (endpoint.protocolHint === 'h2') sendOverHttp2(req, abort, to, HTTP11);
    else sendOverHttp1(req, abort, to);
  };

  return {
    endpoint,
    tls: identity !== undefined,
    sendTo,
    send: (req, abort) => promisedAttempt((to) => sendTo(req, abort, to)),
    async close(graceful = false) {
      closed = true;
      session = undefined;
      sessions?.close(graceful);
      rawSessions?.close(graceful);
      // Idle connections close now; busy ones once their exchanges end (at once unless graceful).
      upstreams?.close();
      if (!graceful) live.terminateAll();
      if (usedPool) await pools.close(graceful);
    },
  };
}
