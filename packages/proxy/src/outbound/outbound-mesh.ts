// The outbound mesh stack's front: HTTP/1 clients served by the raw-socket engine's client
// connections (or a node:http server with http1Engine 'node') and HTTP/2 by a node:http2 server,
// fed with sockets that detection classified; a logical target per addressed service (created on
// first use, dropped after the discovery idle timeout), and the choice of target per request — in
// explicit mode the Host/:authority, in transparent mode the original destination (looked up by
// address, as Linkerd does); `l5d-dst-override` wins in both (ingress use).
import { createServer as createHttp1Server, type IncomingMessage, type ServerResponse } from 'node:http';
import {
  createServer as createHttp2Server,
  type IncomingHttpHeaders,
  type ServerHttp2Stream,
} from 'node:http2';
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import {
  formatHostPort,
  type Discovery,
  type DiscoveryTarget,
  type Endpoint,
  type HostPort,
} from '../discovery/index.js';
import { connectWithTransportHeader } from '../transport-header/index.js';
import { ProxyError, ProxyErrorCode, toProxyError } from '../errors/index.js';
import { parseAuthority } from '../http/index.js';
import {
  ClientConnection,
  headersObject,
  sweepClients,
  upgradeRequestHead,
  type ClientDispatcher,
  type ClientExchange,
} from '../http/raw-h1/index.js';
import type { ProxyMetrics } from '../metrics/index.js';
import type { TapHub } from '../tap/index.js';
import type { MeshTls } from '../tls/index.js';
import { connectTcp, createReplayStream, forwardTcp, onSocketClose } from '../transport/index.js';
import {
  createLogicalTarget,
  http1Exchange,
  http2Exchange,
  type Exchange,
  type LogicalTarget,
  type Peer,
  type RequestOwner,
} from './logical/index.js';
import { RawHttp1Exchange } from './logical/raw-http1-exchange.js';
import { RawHttp2Exchange } from './logical/raw-http2-exchange.js';
import { H2Connection, type H2ConnectionOwner } from '../http/raw-h2/connection.js';
import type { H2Stream } from '../http/raw-h2/stream.js';
import { outboundEndpointLabels } from './endpoint-labels.js';
import type { Headers } from './endpoint/index.js';
import type { MeshMetrics } from './mesh-metrics.js';

/**
 * A byte stream to an endpoint: opaque transport (mTLS to the peer proxy's inbound port, header
 * naming the target port) when discovery hints it, mesh TLS when the endpoint has an identity,
 * plain TCP otherwise.
 */
async function connectEndpointTcp(
  ep: Endpoint,
  meshTls: MeshTls | undefined,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<Duplex> {
  const identity = meshTls?.isReady() ? ep.identity : undefined;
  if (identity !== undefined && meshTls && ep.opaqueTransportPort !== undefined) {
    // An authority override (a multicluster gateway endpoint) names the remote service: the
    // header carries its name and port, and the gateway resolves it in its own cluster.
    const named = ep.authorityOverride === undefined ? undefined : parseAuthority(ep.authorityOverride);
    return connectWithTransportHeader({
      host: ep.addr.host,
      port: ep.opaqueTransportPort,
      serverIdentity: identity,
      header: named ? { port: named.port, name: named.host } : { port: ep.addr.port },
      meshTls,
      timeoutMs,
      signal,
    });
  }
  const tcp = await connectTcp({ host: ep.addr.host, port: ep.addr.port, timeoutMs, signal });
  if (identity === undefined || !meshTls) return tcp;
  return meshTls.connect(tcp, identity, { timeoutMs: timeoutMs * 10 }).catch((err: unknown) => {
    tcp.destroy();
    throw new ProxyError(
      ProxyErrorCode.IdentityMismatch,
      `mesh TLS with ${ep.key} failed (expected ${identity})`,
      {
        cause: err,
      },
    );
  });
}

/** Request headers for route matching on an Upgrade request. */
const upgradeRequestHeaders = (h: IncomingMessage['headers']): Headers => {
  const out: Headers = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k] = v;
  return out;
};

/** An Upgrade request's head replayed as received (node:http's view), then the bytes after it. */
function receivedHead(req: IncomingMessage, rest: Buffer): Buffer {
  const lines = [`${req.method} ${req.url} HTTP/1.1`];
  for (let i = 0; i < req.rawHeaders.length; i += 2)
    lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), rest]);
}

/** An HTTP/1 request that becomes a tunnel (Upgrade), as both HTTP/1 engines hand it over. */
interface UpgradeRequest {
  readonly method: string;
  readonly target: string;
  /** Lower-case names, node:http's header object (hop-by-hop ones included: routes may match them). */
  readonly headers: Headers;
  /** The request head as received and the bytes read after it: replayed to the endpoint. */
  readonly preamble: Buffer;
}

/** Linkerd's header naming the logical target explicitly (ingress mode). */
export const L5D_DST_OVERRIDE = 'l5d-dst-override';

/**
 * Checks (and may rewrite) each request of one accepted connection before routing: the
 * multicluster gateway's rules. A ProxyError answers the request instead (not counted here).
 */
export type RequestGate = (ex: Exchange) => Exchange | ProxyError;

export interface OutboundMeshOptions {
  readonly discovery: Discovery | undefined;
  readonly meshTls: MeshTls | undefined;
  readonly metrics: MeshMetrics;
  readonly connectTimeoutMs: number;
  /** Logical targets unused this long are dropped (LINKERD2_PROXY_OUTBOUND_DISCOVERY_IDLE_TIMEOUT). */
  readonly idleTimeoutMs: number;
  /** How long a first request waits for the policy (the HTTP fail-fast timeout). */
  readonly discoveryTimeoutMs: number;
  /** LINKERD2_PROXY_DESTINATION_PROFILE_INITIAL_TIMEOUT. */
  readonly profileTimeoutMs: number;
  /** Queue for backends without control-plane settings (capacity, fail-fast timeout). */
  readonly queue?: { readonly capacity: number; readonly failfastMs: number };
  readonly http2?: { readonly initialStreamWindowSize?: number };
  /** Linkerd's request_total/response_total (per endpoint, direction="outbound"). */
  readonly proxyMetrics?: ProxyMetrics;
  /** Live tap: outbound requests are offered per attempt, with the endpoint as destination. */
  readonly tap?: TapHub;
  /**
   * What serves HTTP/1 clients: the raw-socket engine's client connections (default) or a
   * node:http server (TSMESH_PROXY_HTTP1_ENGINE); the logical targets' endpoint side follows it.
   */
  readonly http1Engine?: 'raw' | 'node';
  /** The HTTP/2 engine of the logical targets' endpoint side (TSMESH_PROXY_HTTP2_ENGINE). */
  readonly http2Engine?: 'raw' | 'node';
  /** Raw engine: a request head must be complete this long after its first byte (default 60 s). */
  readonly headersTimeoutMs?: number;
  /** Raw engine: a client connection idle between requests is closed after this (default 60 s). */
  readonly keepAliveTimeoutMs?: number;
  /** Counts a request the mesh could not serve at all (outbound_http_errors_total). */
  onError?(err: ProxyError, layer: 'http' | 'tcp'): void;
  /** A target's policy or profile could not be used (its last good plan stays in force). */
  onPlanError?(authority: string, err: Error): void;
}

export interface OutboundMesh {
  /** Serve a detected HTTP connection; `origDst` is its original destination in transparent mode. */
  accept(
    socket: Socket,
    head: Buffer,
    protocol: 'http1' | 'http2',
    origDst: HostPort | undefined,
    gate?: RequestGate,
  ): void;
  /**
   * Serve an opaque TCP connection to `target` (original destination or forward address): the
   * endpoint comes from discovery; a hint for opaque transport means mTLS to the peer's inbound
   * port with Linkerd's transport header naming the target port.
   */
  forwardOpaque(
    socket: Duplex,
    initial: Buffer | undefined,
    target: HostPort | { readonly name: string },
  ): void;
  /** The logical target for an authority or address, if it is open (tests, admin). */
  target(key: string): LogicalTarget | undefined;
  readonly size: number;
  close(): Promise<void>;
}

/** A logical target with what the idle sweep needs: requests and connections in flight, last use. */
class Entry implements RequestOwner {
  lastUsed = Date.now();
  inFlight = 0;

  constructor(readonly target: LogicalTarget) {}

  /** A request or connection of this target is over (RequestOwner). */
  requestEnded(): void {
    this.inFlight--;
    this.lastUsed = Date.now();
  }
}

export function createOutboundMesh(options: OutboundMeshOptions): OutboundMesh {
  const targets = new Map<string, Entry>();
  /** What an accepted connection (HTTP/1 socket, HTTP/2 session) gives each of its requests. */
  interface Conn {
    readonly orig: HostPort | undefined;
    readonly gate: RequestGate | undefined;
    /** The client's address, for HTTP/2 (its socket is wrapped in a replay stream). */
    readonly peer: Peer | undefined;
  }
  const NO_CONN: Conn = { orig: undefined, gate: undefined, peer: undefined };
  const conns = new WeakMap<object, Conn>();
  const accepted = new Set<Duplex>();

  const sweep = setInterval(
    () => {
      const cutoff = Date.now() - options.idleTimeoutMs;
      for (const [key, e] of targets) {
        if (e.inFlight === 0 && e.lastUsed < cutoff) {
          targets.delete(key);
          void e.target.close();
        }
      }
    },
    Math.max(50, Math.min(10_000, options.idleTimeoutMs / 2)),
  );
  sweep.unref();

  const keyOfAuthority = new Map<string, string>();
  const targetFor = (
    authority: string | undefined,
    override: string | undefined,
    orig: HostPort | undefined,
  ) => {
    let dt: DiscoveryTarget;
    let key: string;
    if (override) {
      const parsed = parseAuthority(override);
      if (!parsed) return undefined;
      key = formatHostPort(parsed);
      dt = { kind: 'name', authority: key };
    } else if (orig) {
      key = formatHostPort(orig);
      dt = { kind: 'addr', addr: orig };
    } else {
      // Most requests name an authority seen before: its key without parsing it again.
      const known = authority === undefined ? undefined : keyOfAuthority.get(authority);
      if (known !== undefined) {
        const hit = targets.get(known);
        // Its lastUsed moves when the request ends (Entry.requestEnded).
        if (hit) return hit;
      }
      const parsed = parseAuthority(authority);
      if (!parsed) return undefined;
      key = formatHostPort(parsed);
      dt = { kind: 'name', authority: key };
      // Bounded: authorities come from clients.
      if (keyOfAuthority.size >= 1024) keyOfAuthority.clear();
      keyOfAuthority.set(authority as string, key);
    }
    let e = targets.get(key);
    if (!e) {
      e = new Entry(
        createLogicalTarget({
          target: dt,
          authority: key,
          discovery: options.discovery,
          meshTls: options.meshTls,
          connectTimeoutMs: options.connectTimeoutMs,
          metrics: options.metrics,
          discoveryTimeoutMs: options.discoveryTimeoutMs,
          profileTimeoutMs: options.profileTimeoutMs,
          queue: options.queue,
          onError: (err) => options.onError?.(err, 'http'),
          onPlanError: (err) => options.onPlanError?.(key, err),
          proxyMetrics: options.proxyMetrics,
          tap: options.tap,
          http1Engine: options.http1Engine,
          http2Engine: options.http2Engine,
          // A tenth of the idle timeout, at most a second: watches in use stay fresh.
          discoveryTouchMs: Math.min(1000, options.idleTimeoutMs / 10),
        }),
      );
      targets.set(key, e);
    }
    // Its lastUsed moves when the request ends (Entry.requestEnded).
    return e;
  };

  const dispatch = (ex: Exchange, orig: HostPort | undefined, gate: RequestGate | undefined) => {
    if (gate) {
      const gated = gate(ex);
      if (ProxyError.is(gated)) {
        ex.fail(gated); // counted by the gate's owner (inbound_http_errors_total in gateway mode)
        return;
      }
      ex = gated;
    }
    const override = ex.headers[L5D_DST_OVERRIDE];
    const e = targetFor(ex.authority, Array.isArray(override) ? override[0] : override, orig);
    if (!e) {
      const err = new ProxyError(
        ProxyErrorCode.NoTarget,
        'no target for this request (missing or invalid Host/:authority)',
      );
      options.onError?.(err, 'http');
      ex.fail(err);
      return;
    }
    e.inFlight++;
    try {
      e.target.handle(ex, e);
    } catch (err) {
      const pe = ProxyError.is(err)
        ? err
        : new ProxyError(ProxyErrorCode.Unexpected, String(err), { cause: err });
      options.onError?.(pe, 'http');
      ex.fail(pe);
      e.requestEnded();
    }
  };

  /**
   * An Upgrade request (e.g. WebSocket): routed like any request to one endpoint, its head
   * replayed there as received, then the connection is a byte tunnel.
   */
  const tunnel = (socket: Duplex, u: UpgradeRequest, conn: Conn) => {
    socket.on('error', () => undefined);
    const override = u.headers[L5D_DST_OVERRIDE];
    const host = u.headers.host;
    const e = targetFor(
      Array.isArray(host) ? host[0] : host,
      Array.isArray(override) ? override[0] : override,
      conn.orig,
    );
    const refuse = (err: ProxyError) => {
      options.onError?.(err, 'http');
      socket.end(
        `HTTP/1.1 ${err.httpStatus} Proxy Error\r\nconnection: close\r\ncontent-length: 0\r\nl5d-proxy-error: ${err.headerValue()}\r\n\r\n`,
      );
      // A raw client connection handed the socket over paused: read to its end so it closes.
      socket.resume();
    };
    if (!e) {
      refuse(new ProxyError(ProxyErrorCode.NoTarget, 'no target for this request (missing or invalid Host)'));
      return;
    }
    if (conn.gate) {
      refuse(new ProxyError(ProxyErrorCode.NoTarget, 'HTTP upgrades are not forwarded through the gateway'));
      return;
    }
    const abort = new AbortController();
    socket.once('close', () => abort.abort(new Error('the client went away')));
    e.inFlight++;
    e.target
      .leaseForUpgrade(u.method, u.target, u.headers, abort.signal)
      .then(async (lease) => {
        const ep = lease.client.endpoint;
        const started = performance.now();
        try {
          const tcp = await connectTcp({
            host: ep.addr.host,
            port: ep.addr.port,
            timeoutMs: options.connectTimeoutMs,
          });
          const upstream: Duplex =
            lease.client.tls && ep.identity !== undefined && options.meshTls
              ? await options.meshTls.connect(tcp, ep.identity, {
                  alpn: ['http/1.1'],
                  timeoutMs: options.connectTimeoutMs * 10,
                })
              : tcp;
          lease.release(false, performance.now() - started);
          await forwardTcp(socket, upstream, u.preamble);
        } catch (err) {
          lease.release(!abort.signal.aborted, undefined);
          throw err;
        }
      })
      .catch((err: unknown) => refuse(toProxyError(err)))
      .finally(() => e.requestEnded());
  };

  const http1 = createHttp1Server(
    { keepAlive: true, noDelay: true, requestTimeout: 0 },
    (req: IncomingMessage, res: ServerResponse) => {
      const c = conns.get(req.socket) ?? NO_CONN;
      dispatch(http1Exchange(req, res), c.orig, c.gate);
    },
  );
  http1.keepAliveTimeout = 60_000;
  http1.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    tunnel(
      socket,
      {
        method: req.method ?? 'GET',
        target: req.url ?? '/',
        headers: upgradeRequestHeaders(req.headers),
        preamble: receivedHead(req, head),
      },
      conns.get(req.socket) ?? NO_CONN,
    );
  });
  http1.on('clientError', (_err, socket: Duplex) => {
    if ((socket as { writable?: boolean }).writable)
      socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    else socket.destroy();
  });

  // The raw-socket engine: one ClientConnection per HTTP/1 client, requests as RawHttp1Exchange.
  const rawEngine = options.http1Engine !== 'node';
  const rawClients = new Set<ClientConnection>();
  const stopSweeper = rawEngine
    ? sweepClients(
        rawClients,
        { headersTimeoutMs: options.headersTimeoutMs, keepAliveTimeoutMs: options.keepAliveTimeoutMs },
        undefined,
      )
    : undefined;
  /** A raw client connection's Conn, with the exchange it serves. */
  interface RawConn extends Conn {
    current: RawHttp1Exchange | undefined;
  }
  const startRaw = (ex: RawHttp1Exchange) => {
    const c = ex.client.conn as RawConn;
    c.current = ex;
    dispatch(ex, c.orig, c.gate);
  };
  const rawDispatcher: ClientDispatcher = {
    dispatch(client, head, framing): ClientExchange {
      return new RawHttp1Exchange(client, head, framing, startRaw);
    },
    upgrade(client, head, rest) {
      const preamble = Buffer.concat([
        Buffer.from(upgradeRequestHead(head, undefined, undefined), 'latin1'),
        rest,
      ]);
      const u = {
        method: head.method,
        target: head.target,
        headers: headersObject(head.headers) as Headers,
        preamble,
      };
      tunnel(client.socket, u, client.conn as Conn);
    },
    // A malformed request is answered by the connection; the node:http server does not count
    // them either.
    clientError: () => undefined,
    forget(client) {
      rawClients.delete(client);
    },
  };

  // The raw HTTP/2 engine (with the raw HTTP/1 one): one H2Connection per HTTP/2 client, each
  // stream a RawHttp2Exchange.
  const rawHttp2 = rawEngine && options.http2Engine !== 'node';
  const h2Clients = new Set<H2Connection>();
  const h2Settings = { initialWindowSize: options.http2?.initialStreamWindowSize ?? 65_535 };
  class MeshH2Client implements H2ConnectionOwner {
    constructor(readonly conn: Conn) {}

    h2Stream(_c: H2Connection, stream: H2Stream, fields: string[], endStream: boolean): void {
      const ex = new RawHttp2Exchange(stream, fields, endStream, this.conn.peer ?? { ip: '', port: 0 });
      // A request with a body goes on once this read's frames are handled (its DATA is usually
      // among them): a whole body then reaches the stack as a Buffer.
      if (endStream) this.started(ex);
      else process.nextTick(startH2Exchange, this, ex);
    }

    started(ex: RawHttp2Exchange): void {
      ex.start();
      dispatch(ex, this.conn.orig, this.conn.gate);
    }

    h2Goaway(): void {}

    h2Closed(connection: H2Connection): void {
      h2Clients.delete(connection);
    }

    h2ProtocolError(): void {
      // A client's protocol errors are answered on its connection (GOAWAY or RST_STREAM).
    }
  }

  const startH2Exchange = (client: MeshH2Client, ex: RawHttp2Exchange) => client.started(ex);

  const http2 = createHttp2Server({
    settings: { initialWindowSize: options.http2?.initialStreamWindowSize ?? 65_535 },
  });
  /** The connection being handed to the HTTP/2 server, until its 'session' event takes it. */
  let pending: Conn | undefined;
  http2.on('session', (session) => {
    if (pending) conns.set(session, pending);
    session.on('error', () => undefined);
  });
  http2.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
    const c = conns.get(stream.session as object) ?? NO_CONN;
    dispatch(http2Exchange(stream, headers, c.peer), c.orig, c.gate);
  });

  return {
    get size() {
      return targets.size;
    },
    target: (key) => targets.get(key)?.target,
    forwardOpaque(socket, initial, target) {
      socket.on('error', () => undefined);
      const e =
        'name' in target
          ? targetFor(target.name, undefined, undefined)
          : targetFor(undefined, undefined, target);
      if (!e) {
        socket.destroy();
        return;
      }
      const abort = new AbortController();
      socket.once('close', () => abort.abort(new Error('the client went away')));
      e.inFlight++;
      e.target
        .leaseForOpaque(abort.signal)
        .then(async (lease) => {
          const ep = lease.client.endpoint;
          const started = performance.now();
          let upstream: Duplex;
          try {
            upstream = await connectEndpointTcp(ep, options.meshTls, options.connectTimeoutMs, abort.signal);
          } catch (err) {
            lease.release(!abort.signal.aborted, undefined);
            throw err;
          }
          lease.release(false, performance.now() - started);
          // tcp_* of the endpoint connection (peer="dst") with the endpoint's dst_* labels.
          const closed = options.proxyMetrics?.tcpOpen(
            outboundEndpointLabels(
              undefined,
              ep,
              ep.identity !== undefined && options.meshTls?.isReady() === true,
            ),
            'dst',
          );
          if (closed && upstream instanceof Socket) onSocketClose(upstream, closed);
          await forwardTcp(socket, upstream, initial);
        })
        .catch((err: unknown) => {
          options.onError?.(toProxyError(err), 'tcp');
          socket.destroy();
        })
        .finally(() => e.requestEnded());
    },
    accept(socket, head, protocol, origDst, gate) {
      // Sockets come from our own listener, so the servers' noDelay option does not apply.
      socket.setNoDelay(true);
      if (protocol === 'http1' && rawEngine) {
        const conn: RawConn = { orig: origDst, gate, peer: undefined, current: undefined };
        const client = new ClientConnection(socket, conn, rawDispatcher);
        rawClients.add(client);
        // As node:http's server (and Linkerd's): a client that half-closes while its response is
        // pending has gone away; the request is cancelled rather than answered into the void.
        socket.once('end', () => {
          const ex = conn.current;
          if (ex === undefined || ex.over) return;
          ex.clientGone();
          client.destroy();
        });
        client.start(head);
        return;
      }
      if (protocol === 'http1') {
        if (origDst !== undefined || gate !== undefined)
          conns.set(socket, { orig: origDst, gate, peer: undefined });
        if (head.length > 0) socket.unshift(head);
        http1.emit('connection', socket);
        socket.resume();
        return;
      }
      if (rawHttp2) {
        const owner = new MeshH2Client({
          orig: origDst,
          gate,
          peer: { ip: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 },
        });
        const connection = new H2Connection(socket, owner, true, h2Settings);
        h2Clients.add(connection);
        connection.receiveInitial(head);
        socket.resume();
        return;
      }
      const stream = createReplayStream(socket, head);
      accepted.add(stream);
      stream.once('close', () => accepted.delete(stream));
      pending = {
        orig: origDst,
        gate,
        peer: { ip: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 },
      };
      try {
        http2.emit('connection', stream);
      } finally {
        pending = undefined;
      }
    },
    async close() {
      clearInterval(sweep);
      http1.closeAllConnections();
      stopSweeper?.();
      for (const c of rawClients) c.destroy();
      rawClients.clear();
      for (const s of accepted) s.destroy();
      for (const c of h2Clients) c.destroy();
      h2Clients.clear();
      const all = [...targets.values()];
      targets.clear();
      await Promise.all(all.map((e) => e.target.close()));
    },
  };
}
