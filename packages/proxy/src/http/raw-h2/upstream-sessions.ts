// The raw engine's upstream HTTP/2 connections: one multiplexed connection per (identity, host,
// port), mesh TLS with ALPN h2 when the target has a server identity. A connection that received
// GOAWAY, failed or ran out of stream ids is replaced on the next request; its streams in flight
// finish on it.
import { connect as netConnect, type Socket } from 'node:net';
import type { MeshTls } from '../../tls/index.js';
import { TargetMap } from '../upstream-pools.js';
import type { UpstreamTarget } from '../upstream-target.js';
import { H2Connection, type H2ConnectionOwner, type H2LocalSettings } from './connection.js';
import { ResetOrigin, type H2Stream } from './stream.js';

/** What a proxy's client is told (l5d-proxy-error) when its upstream stream ended before a response. */
export function upstreamResetMessage(code: number, origin: ResetOrigin): string {
  if (origin === ResetOrigin.Refused)
    return 'upstream refused the stream without processing it (REFUSED_STREAM)';
  if (origin === ResetOrigin.Connection) return 'upstream connection failed';
  return `upstream reset the stream (code ${code})`;
}

export interface RawH2SessionsOptions {
  readonly connectTimeoutMs: number;
  readonly meshTls?: MeshTls | undefined;
  readonly settings?: Partial<H2LocalSettings>;
  onError?(err: Error): void;
}

/** One upstream connection and where it is kept. */
export class UpstreamSession implements H2ConnectionOwner {
  readonly connection: H2Connection;
  /** The socket connected (and, for mesh TLS, its handshake passed). */
  connected = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    readonly pool: RawH2Sessions,
    readonly target: UpstreamTarget,
    readonly serverIdentity: string | undefined,
    socket: Socket,
    secure: boolean,
    setupMs: number,
  ) {
    this.connection = new H2Connection(socket, this, false, pool.options.settings);
    socket.once(secure ? 'secureConnect' : 'connect', onConnected);
    (socket as Socket & { [kSession]?: UpstreamSession })[kSession] = this;
    this.#timer = setTimeout(setupTimedOut, setupMs, this);
  }

  /**
   * Whether a stream of this connection that ended with `origin` provably never reached the peer,
   * so that sending its request again is safe (RFC 9113 §8.7): refused by the peer, or never
   * opened on a connection that had connected (one that never connected is a failed connect).
   */
  unprocessed(stream: H2Stream, origin: ResetOrigin): boolean {
    return (
      origin === ResetOrigin.Refused ||
      (origin === ResetOrigin.Connection && stream.id === 0 && this.connected)
    );
  }

  established(): void {
    this.connected = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  setupTimedOut(): void {
    this.#timer = undefined;
    if (!this.connected) this.connection.destroy(new Error('connect timed out'));
  }

  h2Stream(): void {
    // A client connection has no peer-initiated streams (push is disabled).
  }

  h2Goaway(): void {
    this.pool.forget(this);
  }

  h2Closed(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.pool.forget(this);
  }

  h2ProtocolError(_connection: H2Connection, message: string): void {
    this.pool.options.onError?.(new Error(`upstream HTTP/2: ${message}`));
  }
}

const kSession = Symbol('tsmesh.h2UpstreamSession');
function onConnected(this: Socket & { [kSession]?: UpstreamSession }): void {
  this[kSession]?.established();
}
function setupTimedOut(session: UpstreamSession): void {
  session.setupTimedOut();
}

export class RawH2Sessions {
  readonly #sessions = new TargetMap<UpstreamSession>();

  constructor(readonly options: RawH2SessionsOptions) {}

  /** The target's connection that takes new streams, connecting one when there is none. */
  get(target: UpstreamTarget, serverIdentity: string | undefined): UpstreamSession {
    const current = this.#sessions.get(target, serverIdentity);
    if (current !== undefined && current.connection.available) return current;
    const session = this.#create(target, serverIdentity);
    this.#sessions.set(target, serverIdentity, session);
    return session;
  }

  #create(t: UpstreamTarget, serverIdentity: string | undefined): UpstreamSession {
    const { meshTls, connectTimeoutMs } = this.options;
    const tcp = netConnect({ host: t.host, port: t.port, noDelay: true });
    if (serverIdentity !== undefined && meshTls !== undefined) {
      const authority = t.host.includes(':') ? `[${t.host}]:${t.port}` : `${t.host}:${t.port}`;
      const tls = meshTls.wrapClient(tcp, serverIdentity, ['h2'], authority);
      // The handshake gets ten times the connect timeout, as the HTTP/1 pools give it.
      return new UpstreamSession(this, t, serverIdentity, tls, true, connectTimeoutMs * 10);
    }
    return new UpstreamSession(this, t, serverIdentity, tcp, false, connectTimeoutMs);
  }

  forget(session: UpstreamSession): void {
    this.#sessions.delete(session.target, session.serverIdentity, session);
  }

  /** `graceful`: streams in flight finish first. */
  close(graceful = false): void {
    const all = this.#sessions.values();
    this.#sessions.clear();
    for (const s of all) {
      if (graceful) s.connection.shutdown();
      else s.connection.destroy();
    }
  }
}
