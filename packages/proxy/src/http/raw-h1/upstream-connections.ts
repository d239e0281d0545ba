// Keep-alive HTTP/1.1 connections to upstream targets for the raw-socket engine: per (server
// identity, host, port) a stack of idle connections (the most recently used first, so the rest
// age out), at most `maxPerTarget` open, requests beyond that waiting in order. With a server
// identity a connection is mesh TLS (ALPN http/1.1) and the peer must present that identity.
// Each connection's socket events go to the exchange that holds it; an idle connection that
// receives bytes or closes is dropped, and one idle longer than `idleTimeoutMs` is closed.
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { MeshError, MeshErrorCode } from '@tsmesh/core/data-plane';
import type { MeshTls } from '../../tls/index.js';
import { connectTcp } from '../../transport/index.js';
import type { UpstreamTarget } from '../upstream-target.js';

/** The exchange holding a connection gets its socket's events. */
export interface UpstreamUser {
  onUpstreamData(data: Buffer): void;
  /** The server ended its side (FIN). */
  onUpstreamEnd(): void;
  /** The socket closed (after an error, a reset, or both sides ending). */
  onUpstreamClose(): void;
}

export class UpstreamConnection {
  user: UpstreamUser | undefined;
  /** Served an exchange before: a close before any response byte may be the server's idle timeout. */
  reused = false;
  idleSince = 0;
  closed = false;

  constructor(
    readonly socket: Socket | TLSSocket,
    readonly pool: TargetConnections,
  ) {
    socket.on('data', this.#onData);
    socket.on('end', this.#onEnd);
    socket.on('close', this.#onClose);
    socket.on('error', ignore);
  }

  readonly #onData = (d: Buffer) => {
    if (this.user !== undefined) this.user.onUpstreamData(d);
    else this.socket.destroy(); // bytes on an idle connection: nothing can be framed after them
  };

  readonly #onEnd = () => {
    if (this.user !== undefined) this.user.onUpstreamEnd();
    else this.socket.destroy();
  };

  readonly #onClose = () => {
    this.closed = true;
    this.pool.closed(this);
    const user = this.user;
    this.user = undefined;
    user?.onUpstreamClose();
  };
}

const ignore = () => undefined;

/** Who waits for a connection (an exchange: no callback made per request). */
export interface UpstreamWaiter {
  upstreamReady(err: Error | undefined, conn: UpstreamConnection | undefined): void;
}
type Waiter = UpstreamWaiter;

export interface UpstreamConnectionsOptions {
  readonly connectTimeoutMs: number;
  /** Idle connections are closed after this (linkerd2-proxy: 3 s). */
  readonly idleTimeoutMs?: number;
  readonly maxConnectionsPerTarget?: number;
  readonly meshTls?: MeshTls;
  /** The error a failed mesh TLS handshake becomes (default: the handshake's own). */
  tlsError?(err: unknown, serverIdentity: string): Error;
}

/** The connections to one target. */
export class TargetConnections {
  readonly idle: UpstreamConnection[] = [];
  open = 0;
  readonly #waiters: Waiter[] = [];
  /** destroy() was called: connections released later are closed, not kept. */
  #destroyed = false;

  constructor(
    readonly target: UpstreamTarget,
    readonly serverIdentity: string | undefined,
    private readonly options: UpstreamConnectionsOptions,
  ) {}

  /** Tells `done` of a connection for one exchange (synchronously when one is idle). */
  acquire(done: Waiter): void {
    if (this.#destroyed) {
      done.upstreamReady(new MeshError(MeshErrorCode.Aborted, 'upstream connections closed'), undefined);
      return;
    }
    const conn = this.idle.pop();
    if (conn !== undefined) {
      done.upstreamReady(undefined, conn);
      return;
    }
    if (this.open < (this.options.maxConnectionsPerTarget ?? 1024)) this.#connect(done);
    else this.#waiters.push(done);
  }

  /** The exchange finished with the connection in a reusable state. */
  release(conn: UpstreamConnection): void {
    conn.user = undefined;
    if (conn.closed) return;
    if (this.#destroyed) {
      conn.socket.destroy();
      return;
    }
    conn.reused = true;
    // An exchange may have paused reading for backpressure and ended before its client drained:
    // the next exchange must read it again.
    if (conn.socket.isPaused()) conn.socket.resume();
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) {
      waiter.upstreamReady(undefined, conn);
      return;
    }
    conn.idleSince = performance.now();
    this.idle.push(conn);
  }

  /** The exchange cannot leave the connection reusable: closed now. */
  discard(conn: UpstreamConnection): void {
    conn.user = undefined;
    conn.socket.destroy();
  }

  closed(conn: UpstreamConnection): void {
    this.open--;
    const i = this.idle.indexOf(conn);
    if (i >= 0) this.idle.splice(i, 1);
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) this.#connect(waiter);
  }

  /** Closes connections idle for longer than the idle timeout. */
  sweep(now: number): void {
    const limit = this.options.idleTimeoutMs ?? 3000;
    // The stack's bottom holds the longest idle.
    while (this.idle.length > 0 && now - (this.idle[0] as UpstreamConnection).idleSince >= limit)
      (this.idle.shift() as UpstreamConnection).socket.destroy();
  }

  /** Closes the idle connections now and busy ones when their exchanges release them. */
  destroy(): void {
    this.#destroyed = true;
    for (const c of this.idle.splice(0)) c.socket.destroy();
    for (const w of this.#waiters.splice(0))
      w.upstreamReady(new MeshError(MeshErrorCode.Aborted, 'proxy closing'), undefined);
  }

  #connect(done: Waiter): void {
    this.open++;
    const { target, serverIdentity } = this;
    const { meshTls, connectTimeoutMs } = this.options;
    connectTcp({ host: target.host, port: target.port, timeoutMs: connectTimeoutMs })
      .then((s): Promise<Socket | TLSSocket> | Socket =>
        serverIdentity !== undefined && meshTls !== undefined
          ? meshTls
              // A busy peer may take a while to answer a handshake: ten times the connect timeout.
              .connect(s, serverIdentity, { alpn: ['http/1.1'], timeoutMs: connectTimeoutMs * 10 })
              .catch((e: unknown) => {
                s.destroy();
                throw this.options.tlsError !== undefined ? this.options.tlsError(e, serverIdentity) : e;
              })
          : s,
      )
      .then(
        (socket) => {
          socket.setNoDelay(true);
          done.upstreamReady(undefined, new UpstreamConnection(socket, this));
        },
        (err: Error) => {
          this.open--;
          done.upstreamReady(err, undefined);
          const waiter = this.#waiters.shift();
          if (waiter !== undefined) this.#connect(waiter);
        },
      );
  }
}

/** identity ('' for plaintext) → host → port → the target's connections (no key built per request). */
export class UpstreamConnections {
  readonly #byIdentity = new Map<string, Map<string, Map<number, TargetConnections>>>();
  readonly #sweeper: NodeJS.Timeout;

  constructor(private readonly options: UpstreamConnectionsOptions) {
    const every = Math.max(100, Math.min(1000, (options.idleTimeoutMs ?? 3000) / 3));
    this.#sweeper = setInterval(() => this.#sweep(), every);
    this.#sweeper.unref();
  }

  for(target: UpstreamTarget, serverIdentity: string | undefined): TargetConnections {
    let byHost = this.#byIdentity.get(serverIdentity ?? '');
    if (byHost === undefined) this.#byIdentity.set(serverIdentity ?? '', (byHost = new Map()));
    let byPort = byHost.get(target.host);
    if (byPort === undefined) byHost.set(target.host, (byPort = new Map()));
    let c = byPort.get(target.port);
    if (c === undefined)
      byPort.set(target.port, (c = new TargetConnections(target, serverIdentity, this.options)));
    return c;
  }

  close(): void {
    clearInterval(this.#sweeper);
    for (const c of this.#all()) c.destroy();
    this.#byIdentity.clear();
  }

  *#all(): Generator<TargetConnections> {
    for (const byHost of this.#byIdentity.values())
      for (const byPort of byHost.values()) yield* byPort.values();
  }

  #sweep(): void {
    const now = performance.now();
    for (const byHost of this.#byIdentity.values())
      for (const [host, byPort] of byHost) {
        for (const [port, c] of byPort) {
          c.sweep(now);
          if (c.open === 0) byPort.delete(port);
        }
        if (byPort.size === 0) byHost.delete(host);
      }
  }
}
