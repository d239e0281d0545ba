// One client connection of the raw-socket HTTP/1.1 engine: reads request heads off the socket,
// hands each request to an exchange (one at a time; pipelined requests wait, unread, until the
// one before is answered), feeds it the request body, and answers malformed requests itself. Its
// timeouts are checked by the engine's sweeper: a head that takes longer than `headersTimeoutMs`
// gets 408, a connection idle between requests longer than `keepAliveTimeoutMs` is closed.
import type { Socket } from 'node:net';
import { requestFraming, type MessageFraming } from './framing.js';
import {
  parseRequestHead,
  type HeadIncomplete,
  type HeadParseOptions,
  type RequestHead,
} from './head-parser.js';
import { L5D_PROXY_ERROR } from '../headers.js';
import type { HttpRequestContext } from '../request-context.js';
import { proxyResponse } from './forwarded-head.js';

/** What a client connection needs from the request being served. */
export interface ClientExchange {
  /** Starts forwarding (called once the connection holds the exchange: it may finish at once). */
  start(): void;
  /** The request body was read whole (or there was none). */
  readonly requestDone: boolean;
  /**
   * Request body bytes at `buf[offset…]`: how many belong to this request's body, or -1 when the
   * body was malformed and the connection is being closed.
   */
  requestData(buf: Buffer, offset: number): number;
  /** The client closed or reset the connection before the exchange finished. */
  clientGone(): void;
}

/** What a client connection needs from the engine. */
export interface ClientDispatcher {
  /** The exchange serving a parsed request, not started yet; null when it was answered at once. */
  dispatch(client: ClientConnection, head: RequestHead, framing: MessageFraming): ClientExchange | null;
  /** An Upgrade request: the socket is the dispatcher's from now on; `rest` was read after the head. */
  upgrade(client: ClientConnection, head: RequestHead, rest: Buffer): void;
  /** A malformed request, answered by the connection. */
  clientError(err: Error): void;
  forget(client: ClientConnection): void;
}

const EMPTY = Buffer.alloc(0);
/** The options of a head's first parse (no object per request). */
const FRESH: HeadParseOptions = Object.freeze({});

export class ClientConnection {
  #buf: Buffer | null = null;
  #resume: HeadIncomplete | undefined;
  #exchange: ClientExchange | null = null;
  #parsing = false;
  #closing = false;
  #clientEnded = false;
  /** When the connection last became idle (no exchange), for the keep-alive timeout. */
  idleSince = performance.now();
  /** When the bytes of an unfinished head started arriving (0: none). */
  headSince = 0;

  constructor(
    readonly socket: Socket,
    readonly conn: unknown,
    private readonly dispatcher: ClientDispatcher,
  ) {
    socket.on('data', this.#onData);
    socket.on('end', this.#onEnd);
    socket.on('close', this.#onClose);
    socket.on('error', ignore);
  }

  get closing(): boolean {
    return this.#closing;
  }

  get busy(): boolean {
    return this.#exchange !== null;
  }

  /** Bytes already read from the socket (by protocol detection), then the socket's own. */
  start(initial: Buffer): void {
    if (initial.length > 0) this.#onData(initial);
    this.socket.resume();
  }

  readonly #onData = (d: Buffer): void => {
    if (this.#closing) return;
    const ex = this.#exchange;
    if (ex !== null && !ex.requestDone) {
      const n = ex.requestData(d, 0);
      if (n < 0 || n === d.length) return;
      d = d.subarray(n);
    }
    this.#buf = this.#buf === null ? d : Buffer.concat([this.#buf, d]);
    // A pipelined request waits unread until the one before it is answered.
    if (this.#exchange !== null) this.socket.pause();
    else this.#next();
  };

  readonly #onEnd = (): void => {
    this.#clientEnded = true;
    const ex = this.#exchange;
    if (ex === null) this.end();
    else if (!ex.requestDone) {
      // The body was cut short: nothing sensible can be forwarded.
      this.#exchange = null;
      ex.clientGone();
      this.socket.destroy();
    }
  };

  readonly #onClose = (): void => {
    this.#closing = true;
    const ex = this.#exchange;
    this.#exchange = null;
    ex?.clientGone();
    this.dispatcher.forget(this);
  };

  /** Parses and dispatches buffered requests while no exchange is in progress. */
  #next(): void {
    if (this.#parsing) return;
    this.#parsing = true;
    try {
      while (this.#buf !== null && this.#exchange === null && !this.#closing) {
        const buf = this.#buf;
        const r = parseRequestHead(buf, this.#resume === undefined ? FRESH : { resume: this.#resume });
        if (r.kind === 'incomplete') {
          this.#resume = r;
          if (this.headSince === 0) this.headSince = performance.now();
          return;
        }
        this.#resume = undefined;
        this.headSince = 0;
        if (r.kind === 'error') {
          this.refuse(r);
          return;
        }
        const framing = requestFraming(r);
        if (framing.kind === 'error') {
          this.refuse(framing);
          return;
        }
        const rest = r.consumed < buf.length ? buf.subarray(r.consumed) : EMPTY;
        this.#buf = null;
        if (r.method === 'CONNECT') {
          this.refuse({
            code: 'CONNECT',
            status: 501,
            message: 'CONNECT is not supported by this proxy: send requests to their origin',
          });
          return;
        }
        if (isUpgrade(r, framing)) {
          this.#detach();
          this.dispatcher.upgrade(this, r, rest);
          return;
        }
        const ex = this.dispatcher.dispatch(this, r, framing);
        if (ex === null) {
          // Answered by the proxy: a body it did not read leaves the connection unusable.
          if (framing.body.kind !== 'none' || !framing.keepAlive) this.end();
          else if (rest.length > 0) this.#buf = rest;
          continue;
        }
        this.#exchange = ex;
        ex.start();
        if (rest.length === 0 || this.#closing) continue;
        let left = rest;
        if (this.#exchange === ex && !ex.requestDone) {
          const n = ex.requestData(rest, 0);
          if (n < 0) return;
          left = rest.subarray(n);
        }
        if (left.length > 0) {
          this.#buf = left;
          if (this.#exchange !== null) this.socket.pause();
        }
      }
    } finally {
      this.#parsing = false;
    }
  }

  /** The exchange is over; `close` when the connection cannot carry another request. */
  finished(ex: ClientExchange, close: boolean): void {
    if (this.#exchange !== ex) return;
    this.#exchange = null;
    if (close || this.#clientEnded) {
      this.end();
      return;
    }
    this.idleSince = performance.now();
    if (this.#buf !== null) this.#next();
    // Paused only while a pipelined request waits behind the exchange in progress.
    if (this.#exchange === null || this.#buf === null) this.socket.resume();
  }

  /** Hands the socket over (an Upgrade tunnel): this connection no longer reads it. */
  #detach(): void {
    this.#closing = true;
    this.socket.off('data', this.#onData);
    this.socket.off('end', this.#onEnd);
    this.socket.off('close', this.#onClose);
    this.socket.pause();
    this.dispatcher.forget(this);
  }

  /** Writes bytes to the client. False when the socket's buffer is full (wait for 'drain'). */
  write(data: string | Buffer): boolean {
    return typeof data === 'string' ? this.socket.write(data, 'latin1') : this.socket.write(data);
  }

  /**
   * Ends an exchange that failed, reporting it once. When no response head reached the client
   * (`sent` undefined) it gets `status` and the message (with `l5d-proxy-error` when `proxyError`)
   * and the connection ends; otherwise the connection is cut so the client sees a broken response.
   */
  failExchange(
    ex: ClientExchange,
    ctx: HttpRequestContext,
    sent: number | undefined,
    status: number,
    message: string,
    label: string,
    proxyError: boolean,
  ): void {
    if (sent !== undefined) {
      ctx.onResponse?.(sent, undefined, label);
      this.destroy();
      return;
    }
    ctx.onResponse?.(status, undefined, label);
    const headers: Record<string, string> = { 'content-type': 'text/plain' };
    if (proxyError) headers[L5D_PROXY_ERROR] = message;
    this.write(proxyResponse(status, headers, `${message}\n`, true));
    this.finished(ex, true);
  }

  /** A malformed request: its status and why, then the connection ends. */
  refuse(err: { readonly code: string; readonly status: number; readonly message: string }): void {
    this.dispatcher.clientError(new Error(`${err.code}: ${err.message}`));
    this.write(proxyResponse(err.status, { 'content-type': 'text/plain' }, `${err.message}\n`, true));
    this.end();
  }

  /** Ends the connection once what was written is flushed (destroyed if the client lingers). */
  end(): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#buf = null;
    this.socket.end();
    setTimeout(destroyLingering, 5000, this.socket).unref();
  }

  destroy(): void {
    this.#closing = true;
    this.socket.destroy();
  }
}

const ignore = () => undefined;

/** A request asking to switch protocols (RFC 9110 §7.8): `Connection: upgrade` and an Upgrade header. */
function isUpgrade(head: RequestHead, framing: MessageFraming): boolean {
  if (!framing.connectionOptions.includes('upgrade')) return false;
  const h = head.headers;
  for (let i = 0; i < h.length; i += 2) if ((h[i] as string).toLowerCase() === 'upgrade') return true;
  return false;
}

function destroyLingering(socket: Socket): void {
  if (!socket.destroyed) socket.destroy();
}
