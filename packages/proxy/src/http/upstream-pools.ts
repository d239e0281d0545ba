// Upstream connections shared by the HTTP forwarders: an undici keep-alive Pool per (identity,
// host, port) for HTTP/1, and one multiplexed node:http2 session per (identity, host, port) for
// HTTP/2. With a server identity the connection is mesh TLS and the peer must present it.
import { connect as h2connect, type ClientHttp2Session, type Settings } from 'node:http2';
import { connect as netConnect, type Socket } from 'node:net';
import { undiciPool, type Pool, type PoolOptions } from './undici-pool.js';
import type { MeshTls } from '../tls/index.js';
import { connectTcp } from '../transport/index.js';
import type { UpstreamTarget } from './upstream-target.js';

const originOf = (t: UpstreamTarget) =>
  t.host.includes(':') ? `http://[${t.host}]:${t.port}` : `http://${t.host}:${t.port}`;

/** identity ('' for plaintext) → host → port → value: found without building a key per request. */
export class TargetMap<V> {
  private readonly byIdentity = new Map<string, Map<string, Map<number, V>>>();

  get(t: UpstreamTarget, identity: string | undefined): V | undefined {
    return this.byIdentity
      .get(identity ?? '')
      ?.get(t.host)
      ?.get(t.port);
  }

  set(t: UpstreamTarget, identity: string | undefined, v: V): void {
    let byHost = this.byIdentity.get(identity ?? '');
    if (!byHost) this.byIdentity.set(identity ?? '', (byHost = new Map()));
    let byPort = byHost.get(t.host);
    if (!byPort) byHost.set(t.host, (byPort = new Map()));
    byPort.set(t.port, v);
  }

  delete(t: UpstreamTarget, identity: string | undefined, v: V): void {
    const byPort = this.byIdentity.get(identity ?? '')?.get(t.host);
    if (byPort?.get(t.port) === v) byPort.delete(t.port);
  }

  values(): V[] {
    return [...this.byIdentity.values()].flatMap((h) => [...h.values()].flatMap((p) => [...p.values()]));
  }

  clear(): void {
    this.byIdentity.clear();
  }
}

export interface Http1PoolsOptions {
  readonly connectTimeoutMs: number;
  /** Idle upstream connections are closed after this (linkerd2-proxy: 3s). */
  readonly idleTimeoutMs?: number;
  /** Most upstream connections per target. */
  readonly maxConnectionsPerTarget?: number;
  readonly meshTls?: MeshTls;
  /** The error a failed mesh TLS handshake becomes (default: the handshake's own). */
  tlsError?(err: unknown, serverIdentity: string): Error;
}

export interface Http1Pools {
  get(target: UpstreamTarget, serverIdentity: string | undefined): Pool;
  /** `graceful` lets requests in flight finish first. */
  close(graceful?: boolean): Promise<void>;
}

export function createHttp1Pools(options: Http1PoolsOptions): Http1Pools {
  const pools = new TargetMap<Pool>();
  const create = (t: UpstreamTarget, serverIdentity: string | undefined): Pool => {
    const meshTls = options.meshTls;
    const connect =
      serverIdentity !== undefined && meshTls !== undefined
        ? (_opts: unknown, cb: (err: Error | null, socket: Socket | null) => void) => {
            connectTcp({ host: t.host, port: t.port, timeoutMs: options.connectTimeoutMs })
              .then((s) =>
                meshTls
                  .connect(s, serverIdentity, {
                    alpn: ['http/1.1'],
                    timeoutMs: options.connectTimeoutMs * 10,
                  })
                  .catch((e: unknown) => {
                    s.destroy();
                    throw options.tlsError ? options.tlsError(e, serverIdentity) : e;
                  }),
              )
              .then(
                (s) => cb(null, s),
                (e: Error) => cb(e, null),
              );
          }
        : { timeout: options.connectTimeoutMs };
    const Pool = undiciPool();
    return new Pool(originOf(t), {
      connections: options.maxConnectionsPerTarget ?? 1024,
      pipelining: 1,
      keepAliveTimeout: options.idleTimeoutMs ?? 3000,
      keepAliveMaxTimeout: options.idleTimeoutMs ?? 3000,
      connect: connect as PoolOptions['connect'],
      headersTimeout: 0,
      bodyTimeout: 0,
    });
  };
  return {
    get(t, serverIdentity) {
      let pool = pools.get(t, serverIdentity);
      if (pool === undefined) pools.set(t, serverIdentity, (pool = create(t, serverIdentity)));
      return pool;
    },
    async close(graceful = false) {
      const all = pools.values();
      pools.clear();
      await Promise.all(all.map((p) => (graceful ? p.close() : p.destroy()).catch(() => undefined)));
    },
  };
}

export interface Http2SessionsOptions {
  readonly connectTimeoutMs: number;
  readonly settings?: Settings;
  /** The connection-level receive window once connected (the stream window is in settings). */
  readonly initialConnectionWindowSize?: number;
  readonly meshTls?: MeshTls;
}

export interface Http2Sessions {
  /** The live session to the target, connecting one when there is none. Throws when it cannot start. */
  get(target: UpstreamTarget, serverIdentity: string | undefined): ClientHttp2Session;
  /** `graceful` lets streams in flight finish first. */
  close(graceful?: boolean): void;
}

export function createHttp2Sessions(options: Http2SessionsOptions): Http2Sessions {
  const sessions = new TargetMap<ClientHttp2Session>();
  const create = (t: UpstreamTarget, serverIdentity: string | undefined): ClientHttp2Session => {
    const meshTls = options.meshTls;
    const origin = originOf(t);
    const session =
      serverIdentity !== undefined && meshTls !== undefined
        ? h2connect(origin, {
            settings: options.settings,
            createConnection: () =>
              meshTls.wrapClient(
                netConnect({ host: t.host, port: t.port, noDelay: true }),
                serverIdentity,
                ['h2'],
                `${t.host}:${t.port}`,
              ),
          })
        : h2connect(origin, { settings: options.settings });
    const forget = () => sessions.delete(t, serverIdentity, session);
    session.on('error', forget);
    session.on('close', forget);
    session.on('goaway', forget);
    // TCP connect and, for mesh TLS, the handshake: as the HTTP/1 pools, the handshake gets ten
    // times the connect timeout (a busy peer may take a while to answer it).
    const setupMs =
      serverIdentity !== undefined && meshTls !== undefined
        ? options.connectTimeoutMs * 10
        : options.connectTimeoutMs;
    session.setTimeout(setupMs, () => {
      if (!session.socket || session.connecting) session.destroy(new Error('connect timed out'));
    });
    session.once('connect', () => {
      session.setTimeout(0);
      if (options.initialConnectionWindowSize)
        session.setLocalWindowSize(options.initialConnectionWindowSize);
    });
    return session;
  };
  return {
    get(t, serverIdentity) {
      let s = sessions.get(t, serverIdentity);
      if (s === undefined || s.closed || s.destroyed)
        sessions.set(t, serverIdentity, (s = create(t, serverIdentity)));
      return s;
    },
    close(graceful = false) {
      const all = sessions.values();
      sessions.clear();
      for (const s of all) {
        if (graceful) s.close();
        else s.destroy();
      }
    },
  };
}

/** Where HTTP/1 requests carried over HTTP/2 go: sessions created on first use. */
export interface CarriageSessions {
  get(): Http2Sessions;
  close(): void;
}

/**
 * The HTTP/2 sessions an HTTP/1 forwarder uses to carry requests to peers that accept HTTP/2
 * (`l5d-orig-proto`), created on first use: most forwarders never carry any.
 */
export function carriageSessions(options: {
  readonly connectTimeoutMs: number;
  readonly meshTls?: MeshTls | undefined;
  readonly initialStreamWindowSize?: number | undefined;
  readonly initialConnectionWindowSize?: number | undefined;
}): CarriageSessions {
  let sessions: Http2Sessions | undefined;
  return {
    get: () =>
      (sessions ??= createHttp2Sessions({
        connectTimeoutMs: options.connectTimeoutMs,
        meshTls: options.meshTls,
        settings: { initialWindowSize: options.initialStreamWindowSize ?? 65_535, enablePush: false },
        initialConnectionWindowSize: options.initialConnectionWindowSize,
      })),
    close: () => sessions?.close(),
  };
}
