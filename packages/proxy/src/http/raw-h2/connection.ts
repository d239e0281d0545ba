// An HTTP/2 connection on a socket (RFC 9113), either side: frames parsed from the socket's reads in
// place, HPACK (hpack/), streams as plain objects (stream.ts) whose handlers are called directly,
// flow control both ways, SETTINGS, PING, GOAWAY with a graceful two-step shutdown, and frames sent
// in one socket write per turn of the event loop. node:http2 does this with a Duplex, listeners and
// header conversions per stream; a proxy pays for those on both of its sides.
//
// Errors follow RFC 9113 §5.4: what breaks one stream resets it; what breaks the connection's state
// (framing, HPACK, flow control on the connection) ends it with GOAWAY and the reason, and every
// stream's handler hears h2Reset. Nothing thrown from a read reaches the socket.
import type { Socket } from 'node:net';
import { ByteSink } from './hpack/byte-sink.js';
import { HpackDecoder, HpackEncoder, HpackError, HpackHeaderListTooLargeError } from './hpack/index.js';
import { requestProblem, responseProblem, trailersProblem } from './fields.js';
import { StreamTable } from './stream-table.js';
import {
  CLIENT_PREFACE,
  DEFAULT_MAX_FRAME_SIZE,
  DEFAULT_WINDOW_SIZE,
  Flag,
  FRAME_HEADER_LENGTH,
  FrameType,
  H2Error,
  h2ErrorName,
  MAX_MAX_FRAME_SIZE,
  MAX_STREAM_ID,
  MAX_WINDOW_SIZE,
  Setting,
} from './frames.js';
import {
  H2Stream,
  ResetOrigin,
  STREAM_HIGH_WATER,
  type H2StreamHandler,
  type StreamConnection,
} from './stream.js';

/** What this side advertises. */
export interface H2LocalSettings {
  /** Streams the peer may open at once (server side; a client refuses pushes anyway). */
  maxConcurrentStreams: number;
  /** Each stream's receive window. */
  initialWindowSize: number;
  /** The connection's receive window. */
  connectionWindowSize: number;
  maxHeaderListSize: number;
  headerTableSize: number;
}

export const DEFAULT_LOCAL_SETTINGS: H2LocalSettings = Object.freeze({
  maxConcurrentStreams: 1000,
  initialWindowSize: 256 * 1024,
  connectionWindowSize: 4 * 1024 * 1024,
  maxHeaderListSize: 64 * 1024,
  headerTableSize: 4096,
});

/** What a connection's owner hears. */
export interface H2ConnectionOwner {
  /** A server connection's new stream; set `stream.handler` before returning. */
  h2Stream(connection: H2Connection, stream: H2Stream, fields: string[], endStream: boolean): void;
  /** The peer sent GOAWAY: no new streams on this connection (those above lastStreamId were refused). */
  h2Goaway(connection: H2Connection, code: number, lastStreamId: number): void;
  /** The connection is gone (error: why, when it did not end cleanly). */
  h2Closed(connection: H2Connection, error: Error | undefined): void;
  /** A protocol violation by the peer that reset a stream or ended the connection (for logs and metrics). */
  h2ProtocolError(connection: H2Connection, message: string): void;
}

/**
 * HTTP/2 keep-alive (what linkerd2-proxy's `*_SERVER_HTTP2_KEEP_ALIVE_{INTERVAL,TIMEOUT}` set): a
 * connection that has read nothing for `intervalMs` sends a PING, and one whose PING is not
 * acknowledged within `timeoutMs` is closed — a peer that vanished without a FIN or RST (a node
 * gone, a NAT entry dropped) is found in seconds rather than by TCP's retransmission timeout.
 */
export interface H2KeepAlive {
  readonly intervalMs: number;
  readonly timeoutMs: number;
}

export interface H2ConnectionOptions {
  readonly keepAlive?: H2KeepAlive;
  /**
   * How long the peer has to acknowledge this side's SETTINGS before the connection ends with
   * SETTINGS_TIMEOUT (RFC 9113 §6.5.3); default 10 s.
   */
  readonly settingsTimeoutMs?: number;
}

/** A stream handler for streams nobody claimed: drops what arrives. */
const DISCARD: H2StreamHandler = {
  h2Headers() {},
  h2Data() {},
  h2Trailers() {},
  h2Reset() {},
  h2Drain() {},
};

/** An error ending the connection: the code sent or received and a message saying why. */
export class H2ConnectionError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = 'H2ConnectionError';
  }
}

const OUT_SIZE = 16 * 1024;
/** Batches shorter than this are copied out (node pools allocations under 4 KiB). */
const POOLED_COPY = 4096;
/** Payloads at least this long go to the socket as they are instead of being copied into the batch. */
const DIRECT_PAYLOAD = 2048;
/**
 * Header-block bytes (HEADERS plus CONTINUATIONs, their frame headers included), as a multiple of
 * maxHeaderListSize, accepted before the block must end.
 */
const MAX_BLOCK_FACTOR = 2;

function onSocketData(this: Socket & { [kConnection]?: H2Connection }, chunk: Buffer): void {
  this[kConnection]?.receive(chunk);
}
function onSocketEnd(this: Socket & { [kConnection]?: H2Connection }): void {
  this[kConnection]?.peerEnded();
}
function onSocketError(this: Socket & { [kConnection]?: H2Connection }, err: Error): void {
  this[kConnection]?.socketFailed(err);
}
function onSocketClose(this: Socket & { [kConnection]?: H2Connection }): void {
  this[kConnection]?.socketClosed();
}
function onSocketDrain(this: Socket & { [kConnection]?: H2Connection }): void {
  this[kConnection]?.socketDrained();
}
function flushConnection(connection: H2Connection): void {
  connection.flush();
}
function finalGoawayLater(connection: H2Connection): void {
  connection.shutdownPingTimedOut();
}
/** RFC 9113 §6.5.3 leaves "a reasonable amount of time" to the sender. */
const SETTINGS_TIMEOUT_MS = 10_000;
function settingsTimedOut(connection: H2Connection): void {
  connection.settingsTimedOut();
}
function keepAliveTick(connection: H2Connection): void {
  connection.keepAliveTick();
}
function keepAliveTimedOut(connection: H2Connection): void {
  connection.keepAliveTimedOut();
}
/** The payload of keep-alive PINGs (shutdown's is `tsmeshgo`). */
const KEEP_ALIVE_PING = Buffer.from('tsmeshka', 'latin1');
/** How long shutdown() waits for its PING before the final GOAWAY. */
const SHUTDOWN_PING_MS = 1000;
/** Answers to PING and SETTINGS waiting to be written, in bytes, beyond which the peer is cut off. */
const CONTROL_BACKLOG = 1024 * 1024;
/** Streams a peer may reset: a burst, refilled at a rate per second (rapid-reset attacks, CVE-2023-44487). */
const RESET_BURST = 1000;
const RESETS_PER_SECOND = 100;
function destroySocket(socket: Socket): void {
  socket.destroy();
}
/** How long a failed connection's last frames may take to leave before the socket is cut. */
const LINGER_MS = 1000;
const kConnection = Symbol('tsmesh.h2Connection');

export class H2Connection implements StreamConnection {
  readonly isServer: boolean;
  readonly local: H2LocalSettings;
  readonly #socket: Socket & { [kConnection]?: H2Connection };
  readonly #owner: H2ConnectionOwner;
  /** Open streams by id (not a Map: see stream-table.ts). */
  readonly #streams = new StreamTable<H2Stream>();
  readonly #decoder: HpackDecoder;
  readonly #encoder = new HpackEncoder();
  readonly #blockSink = new ByteSink(1024);

  // Peer's settings.
  #peerInitialWindow = DEFAULT_WINDOW_SIZE;
  #peerMaxFrameSize = DEFAULT_MAX_FRAME_SIZE;
  #peerMaxConcurrent = Infinity;

  // Flow control of the connection.
  #sendWindow = DEFAULT_WINDOW_SIZE;
  #recvWindow: number;
  #recvUncredited = 0;

  // Streams: ids, counts, those waiting to open or to send.
  #nextStreamId: number;
  #lastPeerStreamId = 0;
  #active = 0;
  readonly #waitingToOpen: H2Stream[] = [];
  #blocked: H2Stream[] = [];

  // Reading.
  #pending: Buffer | undefined;
  #awaitingPreface: boolean;
  /** The peer's preface ends with a SETTINGS frame, its first (RFC 9113 §3.4). */
  #awaitingSettings = true;
  #blockStream = 0;
  #blockFlags = 0;
  #blockParts: Buffer[] = [];
  #blockLength = 0;

  // Writing.
  #out: Buffer;
  #outLength = 0;
  #outChunks: Buffer[] = [];
  #flushScheduled = false;
  #socketBlocked = false;

  // Streams the peer may still reset (#resetAllowed), as of #resetAt.
  #resetTokens = RESET_BURST;
  #resetAt = 0;

  // Lifetime.
  #goawaySent = false;
  #goawayReceived = false;
  #shutdownPing: Buffer | undefined;
  readonly #keepAlive: H2KeepAlive | undefined;
  /** Runs until the peer acknowledges this side's SETTINGS. */
  #settingsTimer: NodeJS.Timeout | undefined;
  readonly #settingsTimeoutMs: number;
  #keepAliveTimer: NodeJS.Timeout | undefined;
  /** Set by every socket read; the keep-alive timer clears it (a read since: no PING needed). */
  #readSinceTick = false;
  /** The keep-alive PING sent and not yet acknowledged: when it must be. */
  #keepAliveDeadline: NodeJS.Timeout | undefined;
  #closing = false;
  #closed = false;
  #error: Error | undefined;

  constructor(
    socket: Socket,
    owner: H2ConnectionOwner,
    isServer: boolean,
    settings?: Partial<H2LocalSettings>,
    options: H2ConnectionOptions = {},
  ) {
    this.isServer = isServer;
    this.#keepAlive = options.keepAlive;
    this.#settingsTimeoutMs = options.settingsTimeoutMs ?? SETTINGS_TIMEOUT_MS;
    this.local = { ...DEFAULT_LOCAL_SETTINGS, ...settings };
    this.#socket = socket;
    this.#owner = owner;
    this.#decoder = new HpackDecoder({
      maxTableSize: this.local.headerTableSize,
      maxHeaderListSize: this.local.maxHeaderListSize,
    });
    this.#recvWindow = this.local.connectionWindowSize;
    this.#nextStreamId = isServer ? 2 : 1;
    this.#awaitingPreface = isServer;
    this.#out = Buffer.allocUnsafe(OUT_SIZE);
    if (!isServer) this.#bytes(CLIENT_PREFACE);
    this.#writeSettings();
    this.#settingsTimer = setTimeout(settingsTimedOut, this.#settingsTimeoutMs, this);
    this.#settingsTimer.unref();
    if (this.local.connectionWindowSize > DEFAULT_WINDOW_SIZE) {
      this.#windowUpdate(0, this.local.connectionWindowSize - DEFAULT_WINDOW_SIZE);
    }
    this.#socket[kConnection] = this;
    socket.on('data', onSocketData);
    socket.on('end', onSocketEnd);
    socket.on('error', onSocketError);
    socket.on('close', onSocketClose);
    socket.on('drain', onSocketDrain);
    this.#scheduleFlush();
    if (this.#keepAlive !== undefined) {
      this.#keepAliveTimer = setInterval(keepAliveTick, this.#keepAlive.intervalMs, this);
      this.#keepAliveTimer.unref();
    }
  }

  get socket(): Socket {
    return this.#socket;
  }

  /** Streams open or waiting to open. */
  get activeStreams(): number {
    return this.#active + this.#waitingToOpen.length;
  }

  /** New streams may be opened here (no GOAWAY either way, no shutdown begun, not closed, ids left). */
  get available(): boolean {
    return (
      !this.#closed &&
      !this.#closing &&
      !this.#goawayReceived &&
      !this.#goawaySent &&
      this.#shutdownPing === undefined &&
      this.#nextStreamId <= MAX_STREAM_ID
    );
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Why the connection ended, when it did not end cleanly. */
  get error(): Error | undefined {
    return this.#error;
  }

  /** Bytes already read from the socket (e.g. by protocol detection), processed first. */
  receiveInitial(bytes: Buffer): void {
    if (bytes.length > 0) this.receive(bytes);
  }

  // ---- opening streams (client) ----

  /** Opens a stream with a request head; waits, opened in order, while the peer's limit is reached. */
  request(fields: readonly string[], endStream: boolean, handler: H2StreamHandler): H2Stream {
    if (!this.available) {
      throw new H2ConnectionError(H2Error.REFUSED_STREAM, 'the HTTP/2 connection takes no new streams');
    }
    const stream = new H2Stream(this, handler, false);
    stream.openFields = fields;
    stream.openEnd = endStream;
    if (endStream) stream.endRequested = true;
    if (this.#active < this.#peerMaxConcurrent && this.#waitingToOpen.length === 0) this.#open(stream);
    else this.#waitingToOpen.push(stream);
    return stream;
  }

  #open(stream: H2Stream): void {
    const id = this.#nextStreamId;
    this.#nextStreamId += 2;
    stream.id = id;
    stream.sendWindow = this.#peerInitialWindow;
    stream.recvWindow = this.local.initialWindowSize;
    this.#streams.set(id, stream);
    this.#active++;
    const fields = stream.openFields!;
    stream.openFields = undefined;
    this.#headersFrame(id, fields, stream.openEnd);
    if (stream.openEnd) stream.endSent = true;
    else if (stream.queued > 0 || stream.endRequested) this.#sendQueued(stream);
  }

  #openWaiting(): void {
    while (this.#waitingToOpen.length > 0 && this.#active < this.#peerMaxConcurrent && this.available) {
      this.#open(this.#waitingToOpen.shift()!);
    }
  }

  // ---- sending on streams ----

  sendHeaders(stream: H2Stream, fields: readonly string[], endStream: boolean): void {
    if (stream.closed || stream.endRequested) return;
    if (endStream) stream.endRequested = true;
    if (stream.id === 0) return;
    this.#headersFrame(stream.id, fields, endStream);
    if (endStream) this.#endSent(stream);
  }

  sendData(stream: H2Stream, data: Buffer | undefined, end: boolean): boolean {
    if (stream.closed || stream.endRequested) return false;
    if (data !== undefined && data.length > 0) {
      if (stream.queue === undefined) stream.queue = [data];
      else stream.queue.push(data);
      stream.queued += data.length;
    }
    if (end) stream.endRequested = true;
    if (stream.id !== 0 && !stream.blocked) this.#sendQueued(stream);
    if (stream.queued >= STREAM_HIGH_WATER) {
      stream.needDrain = true;
      return false;
    }
    return true;
  }

  sendTrailers(stream: H2Stream, fields: readonly string[]): void {
    if (stream.closed || stream.endRequested) return;
    stream.trailers = fields;
    stream.endRequested = true;
    if (stream.id !== 0 && !stream.blocked) this.#sendQueued(stream);
  }

  resetStream(stream: H2Stream, code: number): void {
    if (stream.closed) return;
    if (stream.id === 0) {
      const i = this.#waitingToOpen.indexOf(stream);
      if (i >= 0) this.#waitingToOpen.splice(i, 1);
      stream.closed = true;
      return;
    }
    this.#rstFrame(stream.id, code);
    this.#close(stream);
  }

  /** Credits `bytes` received on the stream, and what a pause held back once it resumes. */
  creditStream(stream: H2Stream, bytes: number): void {
    stream.recvUncredited += bytes;
    if (stream.paused || stream.remoteEnded || stream.closed) return;
    if (
      stream.recvUncredited >= this.local.initialWindowSize >>> 1 ||
      (bytes === 0 && stream.recvUncredited > 0)
    ) {
      stream.recvWindow += stream.recvUncredited;
      this.#windowUpdate(stream.id, stream.recvUncredited);
      stream.recvUncredited = 0;
    }
  }

  /** Frames what the windows allow of a stream's queue, then its END_STREAM or trailers. */
  #sendQueued(stream: H2Stream): void {
    const queue = stream.queue;
    while (stream.queued > 0) {
      if (this.#socketBlocked || this.#sendWindow <= 0 || stream.sendWindow <= 0) {
        this.#markBlocked(stream);
        return;
      }
      const chunk = queue![0]!;
      const allowed = Math.min(this.#sendWindow, stream.sendWindow, this.#peerMaxFrameSize);
      const last = chunk.length <= allowed && queue!.length === 1;
      const endHere = last && stream.endRequested && stream.trailers === undefined;
      if (chunk.length <= allowed) {
        queue!.shift();
        this.#dataFrame(stream.id, chunk, endHere);
        stream.queued -= chunk.length;
        this.#sendWindow -= chunk.length;
        stream.sendWindow -= chunk.length;
      } else {
        this.#dataFrame(stream.id, chunk.subarray(0, allowed), false);
        queue![0] = chunk.subarray(allowed);
        stream.queued -= allowed;
        this.#sendWindow -= allowed;
        stream.sendWindow -= allowed;
      }
      if (endHere) {
        this.#endSent(stream);
        return;
      }
    }
    if (stream.endRequested && !stream.endSent) {
      if (stream.trailers !== undefined) {
        const trailers = stream.trailers;
        stream.trailers = undefined;
        this.#headersFrame(stream.id, trailers, true);
      } else {
        this.#dataFrame(stream.id, undefined, true);
      }
      this.#endSent(stream);
      return;
    }
    if (stream.needDrain) {
      stream.needDrain = false;
      stream.handler.h2Drain(stream);
    }
  }

  #markBlocked(stream: H2Stream): void {
    if (stream.blocked) return;
    stream.blocked = true;
    this.#blocked.push(stream);
  }

  /** Streams waiting for window or socket, in the order they blocked, while both allow. */
  #sendBlocked(): void {
    if (this.#blocked.length === 0) return;
    const blocked = this.#blocked;
    this.#blocked = [];
    for (let i = 0; i < blocked.length; i++) {
      const stream = blocked[i]!;
      stream.blocked = false;
      if (!stream.closed) this.#sendQueued(stream);
    }
  }

  #endSent(stream: H2Stream): void {
    stream.endSent = true;
    // A server whose response is complete while the request still arrives may stop the body with
    // RST_STREAM(NO_ERROR) (RFC 9113 §8.1); that is left to the handler, which may want the body.
    if (stream.remoteEnded) this.#close(stream);
  }

  #close(stream: H2Stream): void {
    if (stream.closed) return;
    stream.closed = true;
    stream.queue = undefined;
    stream.queued = 0;
    if (this.#streams.delete(stream.id)) this.#active--;
    if (this.#waitingToOpen.length > 0) this.#openWaiting();
    if (
      (this.#goawayReceived || this.#goawaySent) &&
      this.#active === 0 &&
      this.#waitingToOpen.length === 0
    ) {
      this.#finish();
    }
  }

  // ---- lifetime ----

  /**
   * Graceful shutdown: no new streams, the open ones finish. A server first sends GOAWAY with the
   * highest id and a PING, and the real last id once the PING returns, so that requests already in
   * flight towards it are not refused (RFC 9113 §6.8).
   */
  shutdown(): void {
    if (this.#closed || this.#goawaySent) return;
    if (this.isServer && this.#shutdownPing === undefined) {
      this.#goawayFrame(MAX_STREAM_ID, H2Error.NO_ERROR, '');
      this.#shutdownPing = Buffer.from('tsmeshgo', 'latin1');
      this.#pingFrame(this.#shutdownPing, false);
      // A peer that never answers the PING gets the final GOAWAY anyway.
      setTimeout(finalGoawayLater, SHUTDOWN_PING_MS, this).unref();
      return;
    }
    this.#sendFinalGoaway(H2Error.NO_ERROR, '');
  }

  /** The second step of shutdown(), when its PING was not answered in time. */
  shutdownPingTimedOut(): void {
    if (!this.#closed && !this.#goawaySent) this.#sendFinalGoaway(H2Error.NO_ERROR, '');
  }

  /** The peer did not acknowledge this side's SETTINGS in time. */
  settingsTimedOut(): void {
    this.#settingsTimer = undefined;
    if (this.#closed) return;
    this.#connectionError(
      H2Error.SETTINGS_TIMEOUT,
      `no acknowledgement of this side's SETTINGS within ${this.#settingsTimeoutMs}ms`,
    );
  }

  /** Every keep-alive interval: a PING when nothing was read since the last tick. */
  keepAliveTick(): void {
    if (this.#closed || this.#keepAliveDeadline !== undefined) return;
    if (this.#readSinceTick) {
      this.#readSinceTick = false;
      return;
    }
    this.#pingFrame(KEEP_ALIVE_PING, false);
    this.#keepAliveDeadline = setTimeout(keepAliveTimedOut, this.#keepAlive!.timeoutMs, this);
    this.#keepAliveDeadline.unref();
  }

  /** The keep-alive PING went unanswered: the peer is taken for gone. */
  keepAliveTimedOut(): void {
    this.#keepAliveDeadline = undefined;
    if (this.#closed) return;
    const { intervalMs, timeoutMs } = this.#keepAlive!;
    this.destroy(
      new H2ConnectionError(
        H2Error.CANCEL,
        `HTTP/2 keep-alive: the peer read nothing for ${intervalMs}ms and left a PING unanswered for ${timeoutMs}ms`,
      ),
    );
  }

  #sendFinalGoaway(code: number, debug: string): void {
    this.#goawaySent = true;
    this.#goawayFrame(this.#lastPeerStreamId, code, debug);
    // Streams waiting to open never will.
    const waiting = this.#waitingToOpen.splice(0);
    for (const s of waiting) {
      s.closed = true;
      s.handler.h2Reset(s, H2Error.REFUSED_STREAM, ResetOrigin.Refused);
    }
    if (this.#active === 0) this.#finish();
  }

  /** Ends the connection now: every stream hears h2Reset(code, Connection). */
  destroy(error?: Error, code: number = H2Error.CANCEL): void {
    if (this.#closed) return;
    if (!this.#goawaySent && !this.#socket.destroyed) {
      this.#goawaySent = true;
      this.#goawayFrame(this.#lastPeerStreamId, code, error?.message ?? '');
      this.flush();
    }
    this.#teardown(error, code);
  }

  #finish(): void {
    if (this.#closing) return;
    this.#closing = true;
    this.flush();
    // Once all is written, a peer that never closes its side (node:http2 after its own GOAWAY, say)
    // is cut after a while.
    this.#socket.end(() => setTimeout(destroySocket, LINGER_MS, this.#socket).unref());
  }

  #teardown(error: Error | undefined, code: number): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#keepAliveTimer !== undefined) clearInterval(this.#keepAliveTimer);
    if (this.#keepAliveDeadline !== undefined) clearTimeout(this.#keepAliveDeadline);
    if (this.#settingsTimer !== undefined) clearTimeout(this.#settingsTimer);
    this.#error ??= error;
    const socket = this.#socket;
    if (!socket.destroyed) {
      // A socket still connecting has no peer to tell.
      if (!socket.connecting && (socket.writableLength > 0 || this.#outLength > 0)) {
        // What is written (a GOAWAY saying why) goes out first; a peer that never reads is cut.
        this.flush();
        socket.end();
        setTimeout(destroySocket, LINGER_MS, socket).unref();
      } else {
        socket.destroy();
      }
    }
    const streams = [...this.#streams.values(), ...this.#waitingToOpen.splice(0)];
    this.#streams.clear();
    this.#active = 0;
    for (const s of streams) {
      if (s.closed) continue;
      s.closed = true;
      try {
        s.handler.h2Reset(s, code, ResetOrigin.Connection);
      } catch (err) {
        this.#owner.h2ProtocolError(this, `internal error while closing stream ${s.id}: ${String(err)}`);
      }
    }
    this.#owner.h2Closed(this, this.#error);
  }

  /** A violation that ends the connection: GOAWAY with the code and message, then close. */
  #connectionError(code: number, message: string): void {
    this.#owner.h2ProtocolError(this, message);
    this.destroy(new H2ConnectionError(code, `HTTP/2 ${h2ErrorName(code)}: ${message}`), code);
  }

  /** A violation confined to one stream: RST_STREAM with the code; its handler hears it. */
  #streamError(id: number, stream: H2Stream | undefined, code: number, message: string): void {
    this.#owner.h2ProtocolError(this, message);
    this.#rstFrame(id, code);
    if (stream !== undefined && !stream.closed) {
      this.#close(stream);
      stream.handler.h2Reset(stream, code, ResetOrigin.Protocol);
    }
  }

  // ---- socket events ----

  peerEnded(): void {
    if (this.#closed) return;
    const clean = this.#active === 0 && (this.#goawayReceived || this.#goawaySent);
    this.#teardown(
      clean ? undefined : new Error('the peer closed the HTTP/2 connection'),
      H2Error.CONNECT_ERROR,
    );
  }

  socketFailed(error: Error): void {
    this.#teardown(error, H2Error.CONNECT_ERROR);
  }

  socketClosed(): void {
    if (this.#closed) return;
    const clean = this.#closing && this.#active === 0;
    this.#teardown(clean ? undefined : new Error('the HTTP/2 connection closed'), H2Error.CONNECT_ERROR);
  }

  socketDrained(): void {
    if (!this.#socketBlocked) return;
    this.#socketBlocked = false;
    this.#sendBlocked();
  }

  // ---- reading ----

  /**
   * Bytes from the socket. A handler that throws is a bug of this process, not the peer's: the
   * connection ends with INTERNAL_ERROR and the error is reported, and the process goes on.
   */
  receive(chunk: Buffer): void {
    this.#readSinceTick = true;
    try {
      this.#receive(chunk);
    } catch (err) {
      this.#internalError(err);
    }
  }

  #internalError(err: unknown): void {
    const error = err instanceof Error ? err : new Error(String(err));
    this.#owner.h2ProtocolError(this, `internal error while handling the connection: ${error.message}`);
    this.destroy(error, H2Error.INTERNAL_ERROR);
  }

  #receive(chunk: Buffer): void {
    if (this.#closed) return;
    let buf = chunk;
    if (this.#pending !== undefined) {
      buf = Buffer.concat([this.#pending, chunk]);
      this.#pending = undefined;
    }
    let off = 0;
    if (this.#awaitingPreface) {
      const n = Math.min(buf.length, CLIENT_PREFACE.length);
      if (buf.compare(CLIENT_PREFACE, 0, n, 0, n) !== 0) {
        this.#connectionError(
          H2Error.PROTOCOL_ERROR,
          'the connection did not start with the HTTP/2 client preface',
        );
        return;
      }
      if (n < CLIENT_PREFACE.length) {
        this.#pending = buf;
        return;
      }
      this.#awaitingPreface = false;
      off = CLIENT_PREFACE.length;
    }
    const max = DEFAULT_MAX_FRAME_SIZE;
    while (buf.length - off >= FRAME_HEADER_LENGTH) {
      const length = (buf[off]! << 16) | (buf[off + 1]! << 8) | buf[off + 2]!;
      if (length > max) {
        this.#connectionError(
          H2Error.FRAME_SIZE_ERROR,
          `a frame of ${length} bytes, above the ${max} allowed`,
        );
        return;
      }
      const end = off + FRAME_HEADER_LENGTH + length;
      if (end > buf.length) break;
      const type = buf[off + 3]!;
      const flags = buf[off + 4]!;
      const id = buf.readUInt32BE(off + 5) & MAX_STREAM_ID;
      const start = off + FRAME_HEADER_LENGTH;
      off = end;
      this.#frame(type, flags, id, buf, start, end);
      if (this.#closed) return;
    }
    if (off < buf.length) this.#pending = buf.subarray(off);
    this.#scheduleFlush();
  }

  #frame(type: number, flags: number, id: number, buf: Buffer, start: number, end: number): void {
    if (this.#awaitingSettings) {
      if (type !== FrameType.Settings || (flags & Flag.Ack) !== 0) {
        this.#connectionError(
          H2Error.PROTOCOL_ERROR,
          'the connection preface did not continue with SETTINGS',
        );
        return;
      }
      this.#awaitingSettings = false;
    }
    if (this.#blockStream !== 0 && (type !== FrameType.Continuation || id !== this.#blockStream)) {
      this.#connectionError(
        H2Error.PROTOCOL_ERROR,
        `a frame of type ${type} inside the header block of stream ${this.#blockStream}`,
      );
      return;
    }
    switch (type) {
      case FrameType.Data:
        this.#onData(flags, id, buf, start, end);
        return;
      case FrameType.Headers:
        this.#onHeaders(flags, id, buf, start, end);
        return;
      case FrameType.Priority:
        if (id === 0) this.#connectionError(H2Error.PROTOCOL_ERROR, 'PRIORITY on stream 0');
        else if (end - start !== 5)
          this.#streamError(
            id,
            this.#streams.get(id),
            H2Error.FRAME_SIZE_ERROR,
            'a PRIORITY frame not 5 bytes long',
          );
        return;
      case FrameType.RstStream:
        this.#onRstStream(id, buf, start, end);
        return;
      case FrameType.Settings:
        this.#onSettings(flags, id, buf, start, end);
        return;
      case FrameType.PushPromise:
        this.#connectionError(
          H2Error.PROTOCOL_ERROR,
          this.isServer ? 'PUSH_PROMISE from a client' : 'PUSH_PROMISE although push is disabled',
        );
        return;
      case FrameType.Ping:
        this.#onPing(flags, id, buf, start, end);
        return;
      case FrameType.Goaway:
        this.#onGoaway(id, buf, start, end);
        return;
      case FrameType.WindowUpdate:
        this.#onWindowUpdate(id, buf, start, end);
        return;
      case FrameType.Continuation:
        this.#onContinuation(flags, id, buf, start, end);
        return;
      default:
      // Unknown frame types are ignored (RFC 9113 §4.1).
    }
  }

  /** The payload without padding, or -1 after a connection error. */
  #unpadded(flags: number, buf: Buffer, start: number, end: number): number {
    if ((flags & Flag.Padded) === 0) return end;
    if (end - start < 1) {
      this.#connectionError(H2Error.FRAME_SIZE_ERROR, 'a padded frame without its pad length');
      return -1;
    }
    const padding = buf[start]!;
    if (padding >= end - start) {
      this.#connectionError(H2Error.PROTOCOL_ERROR, 'padding as long as the frame or longer');
      return -1;
    }
    return end - padding;
  }

  /** A stream id the peer has not used yet (idle): frames other than HEADERS on it are errors. */
  #idle(id: number): boolean {
    const peerInitiated = (id & 1) === (this.isServer ? 1 : 0);
    return peerInitiated ? id > this.#lastPeerStreamId : id >= this.#nextStreamId;
  }

  #onData(flags: number, id: number, buf: Buffer, start: number, end: number): void {
    if (id === 0) {
      this.#connectionError(H2Error.PROTOCOL_ERROR, 'DATA on stream 0');
      return;
    }
    const length = end - start;
    this.#recvWindow -= length;
    if (this.#recvWindow < 0) {
      this.#connectionError(H2Error.FLOW_CONTROL_ERROR, 'DATA beyond the connection window');
      return;
    }
    // The connection's window is credited as data arrives; each stream's bounds what waits.
    this.#recvUncredited += length;
    if (this.#recvUncredited >= this.local.connectionWindowSize >>> 2) {
      this.#recvWindow += this.#recvUncredited;
      this.#windowUpdate(0, this.#recvUncredited);
      this.#recvUncredited = 0;
    }
    const dataEnd = this.#unpadded(flags, buf, start, end);
    if (dataEnd < 0) return;
    const dataStart = (flags & Flag.Padded) !== 0 ? start + 1 : start;
    const stream = this.#streams.get(id);
    if (stream === undefined) {
      if (this.#idle(id)) this.#connectionError(H2Error.PROTOCOL_ERROR, `DATA on idle stream ${id}`);
      // Otherwise a stream this side closed or reset: frames in flight are dropped.
      return;
    }
    if (stream.remoteEnded) {
      this.#streamError(id, stream, H2Error.STREAM_CLOSED, `DATA after the end of stream ${id}`);
      return;
    }
    if (!stream.headReceived) {
      this.#streamError(id, stream, H2Error.PROTOCOL_ERROR, `DATA before the response head on stream ${id}`);
      return;
    }
    stream.recvWindow -= length;
    if (stream.recvWindow < 0) {
      this.#streamError(id, stream, H2Error.FLOW_CONTROL_ERROR, `DATA beyond the window of stream ${id}`);
      return;
    }
    const endStream = (flags & Flag.EndStream) !== 0;
    if (endStream) {
      stream.remoteEnded = true;
      if (stream.endSent) this.#close(stream);
    }
    stream.handler.h2Data(stream, buf.subarray(dataStart, dataEnd), endStream);
    if (!endStream) this.creditStream(stream, length);
  }

  #onHeaders(flags: number, id: number, buf: Buffer, start: number, end: number): void {
    if (id === 0) {
      this.#connectionError(H2Error.PROTOCOL_ERROR, 'HEADERS on stream 0');
      return;
    }
    let blockStart = start;
    if ((flags & Flag.Padded) !== 0) blockStart++;
    if ((flags & Flag.Priority) !== 0) blockStart += 5;
    const blockEnd = this.#unpadded(flags, buf, start, end);
    if (blockEnd < 0) return;
    if (blockStart > blockEnd) {
      this.#connectionError(
        H2Error.FRAME_SIZE_ERROR,
        'a HEADERS frame shorter than its padding and priority',
      );
      return;
    }
    const block = buf.subarray(blockStart, blockEnd);
    if ((flags & Flag.EndHeaders) !== 0) {
      this.#headerBlock(id, (flags & Flag.EndStream) !== 0, block);
      return;
    }
    this.#blockStream = id;
    this.#blockFlags = flags;
    this.#blockParts = [Buffer.from(block)];
    this.#blockLength = block.length;
  }

  #onContinuation(flags: number, id: number, buf: Buffer, start: number, end: number): void {
    if (this.#blockStream === 0 || id !== this.#blockStream) {
      this.#connectionError(
        H2Error.PROTOCOL_ERROR,
        `CONTINUATION on stream ${id} without a header block in progress`,
      );
      return;
    }
    // Frame headers count too: otherwise empty CONTINUATIONs could go on without end.
    this.#blockLength += FRAME_HEADER_LENGTH + end - start;
    if (this.#blockLength > this.local.maxHeaderListSize * MAX_BLOCK_FACTOR) {
      this.#connectionError(
        H2Error.ENHANCE_YOUR_CALM,
        `a header block over ${this.local.maxHeaderListSize * MAX_BLOCK_FACTOR} bytes`,
      );
      return;
    }
    this.#blockParts.push(Buffer.from(buf.subarray(start, end)));
    if ((flags & Flag.EndHeaders) === 0) return;
    const block = Buffer.concat(this.#blockParts);
    this.#blockParts = [];
    this.#blockStream = 0;
    this.#headerBlock(id, (this.#blockFlags & Flag.EndStream) !== 0, block);
  }

  #headerBlock(id: number, endStream: boolean, block: Buffer): void {
    const fields: string[] = [];
    let tooLarge = false;
    try {
      this.#decoder.decode(block, fields);
    } catch (err) {
      if (err instanceof HpackHeaderListTooLargeError) tooLarge = true;
      else {
        const why = err instanceof HpackError ? err.message : String(err);
        this.#connectionError(
          H2Error.COMPRESSION_ERROR,
          `a header block on stream ${id} failed to decode: ${why}`,
        );
        return;
      }
    }
    const stream = this.#streams.get(id);
    if (stream === undefined) {
      if (this.isServer && (id & 1) === 1 && id > this.#lastPeerStreamId)
        this.#newStream(id, endStream, fields, tooLarge);
      else if (this.#idle(id))
        this.#connectionError(
          H2Error.PROTOCOL_ERROR,
          `HEADERS on stream ${id}, which this side would have opened`,
        );
      // Otherwise a stream this side closed or reset (its trailers in flight, say): dropped.
      return;
    }
    if (tooLarge) {
      this.#streamError(
        id,
        stream,
        H2Error.PROTOCOL_ERROR,
        `a header list on stream ${id} over ${this.local.maxHeaderListSize} bytes`,
      );
      return;
    }
    if (stream.remoteEnded) {
      this.#streamError(id, stream, H2Error.STREAM_CLOSED, `HEADERS after the end of stream ${id}`);
      return;
    }
    if (!stream.headReceived) {
      // A client stream's response head, after any number of 1xx heads.
      const problem = responseProblem(fields);
      if (problem !== undefined) {
        this.#streamError(
          id,
          stream,
          H2Error.PROTOCOL_ERROR,
          `malformed response on stream ${id}: ${problem}`,
        );
        return;
      }
      const status = fields[1]!;
      if (status.charCodeAt(0) === 0x31 /* 1xx */) {
        if (endStream || status === '101') {
          this.#streamError(
            id,
            stream,
            H2Error.PROTOCOL_ERROR,
            `a ${status} response on stream ${id} that ends it`,
          );
        }
        return;
      }
      stream.headReceived = true;
      if (endStream) {
        stream.remoteEnded = true;
        if (stream.endSent) this.#close(stream);
      }
      stream.handler.h2Headers(stream, fields, endStream);
      return;
    }
    if (!endStream) {
      this.#streamError(id, stream, H2Error.PROTOCOL_ERROR, `trailers without END_STREAM on stream ${id}`);
      return;
    }
    const problem = trailersProblem(fields);
    if (problem !== undefined) {
      this.#streamError(id, stream, H2Error.PROTOCOL_ERROR, `malformed trailers on stream ${id}: ${problem}`);
      return;
    }
    stream.remoteEnded = true;
    if (stream.endSent) this.#close(stream);
    stream.handler.h2Trailers(stream, fields);
  }

  #newStream(id: number, endStream: boolean, fields: string[], tooLarge: boolean): void {
    this.#lastPeerStreamId = id;
    if (this.#goawaySent) {
      this.#rstFrame(id, H2Error.REFUSED_STREAM);
      return;
    }
    if (this.#active >= this.local.maxConcurrentStreams) {
      this.#owner.h2ProtocolError(
        this,
        `stream ${id} above the ${this.local.maxConcurrentStreams} concurrent streams allowed`,
      );
      this.#rstFrame(id, H2Error.REFUSED_STREAM);
      return;
    }
    if (tooLarge) {
      // The head is not known, so no 431 can be routed; the client learns it from the reset.
      this.#owner.h2ProtocolError(
        this,
        `a request header list on stream ${id} over ${this.local.maxHeaderListSize} bytes`,
      );
      this.#headersFrame(id, [':status', '431'], true);
      if (!endStream) this.#rstFrame(id, H2Error.NO_ERROR);
      return;
    }
    const problem = requestProblem(fields);
    if (problem !== undefined) {
      this.#owner.h2ProtocolError(this, `malformed request on stream ${id}: ${problem}`);
      this.#rstFrame(id, H2Error.PROTOCOL_ERROR);
      return;
    }
    const stream = new H2Stream(this, DISCARD, true);
    stream.id = id;
    stream.sendWindow = this.#peerInitialWindow;
    stream.recvWindow = this.local.initialWindowSize;
    stream.remoteEnded = endStream;
    this.#streams.set(id, stream);
    this.#active++;
    this.#owner.h2Stream(this, stream, fields, endStream);
  }

  /** Whether the peer may reset one more stream (a token bucket: RESET_BURST, RESETS_PER_SECOND). */
  #resetAllowed(): boolean {
    const now = performance.now();
    this.#resetTokens = Math.min(
      RESET_BURST,
      this.#resetTokens + ((now - this.#resetAt) / 1000) * RESETS_PER_SECOND,
    );
    this.#resetAt = now;
    if (--this.#resetTokens >= 0) return true;
    this.#connectionError(
      H2Error.ENHANCE_YOUR_CALM,
      `the peer reset streams faster than ${RESETS_PER_SECOND} a second after a burst of ${RESET_BURST}`,
    );
    return false;
  }

  #onRstStream(id: number, buf: Buffer, start: number, end: number): void {
    if (id === 0) {
      this.#connectionError(H2Error.PROTOCOL_ERROR, 'RST_STREAM on stream 0');
      return;
    }
    if (end - start !== 4) {
      this.#connectionError(H2Error.FRAME_SIZE_ERROR, 'an RST_STREAM frame not 4 bytes long');
      return;
    }
    const stream = this.#streams.get(id);
    if (stream === undefined) {
      if (this.#idle(id)) this.#connectionError(H2Error.PROTOCOL_ERROR, `RST_STREAM on idle stream ${id}`);
      return;
    }
    const code = buf.readUInt32BE(start);
    if (this.isServer && !this.#resetAllowed()) return;
    this.#close(stream);
    stream.handler.h2Reset(
      stream,
      code,
      code === H2Error.REFUSED_STREAM ? ResetOrigin.Refused : ResetOrigin.Peer,
    );
  }

  #onSettings(flags: number, id: number, buf: Buffer, start: number, end: number): void {
    if (id !== 0) {
      this.#connectionError(H2Error.PROTOCOL_ERROR, `SETTINGS on stream ${id}`);
      return;
    }
    if ((flags & Flag.Ack) !== 0) {
      if (end !== start) {
        this.#connectionError(H2Error.FRAME_SIZE_ERROR, 'a SETTINGS acknowledgement with a payload');
        return;
      }
      clearTimeout(this.#settingsTimer);
      this.#settingsTimer = undefined;
      return;
    }
    if ((end - start) % 6 !== 0) {
      this.#connectionError(H2Error.FRAME_SIZE_ERROR, 'a SETTINGS frame whose length is not a multiple of 6');
      return;
    }
    for (let p = start; p < end; p += 6) {
      const setting = buf.readUInt16BE(p);
      const value = buf.readUInt32BE(p + 2);
      switch (setting) {
        case Setting.HeaderTableSize:
          this.#encoder.setMaxTableSize(value);
          break;
        case Setting.EnablePush:
          if (value > 1) {
            this.#connectionError(H2Error.PROTOCOL_ERROR, `SETTINGS_ENABLE_PUSH ${value}`);
            return;
          }
          break;
        case Setting.MaxConcurrentStreams:
          this.#peerMaxConcurrent = value;
          break;
        case Setting.InitialWindowSize: {
          if (value > MAX_WINDOW_SIZE) {
            this.#connectionError(H2Error.FLOW_CONTROL_ERROR, `SETTINGS_INITIAL_WINDOW_SIZE ${value}`);
            return;
          }
          const delta = value - this.#peerInitialWindow;
          this.#peerInitialWindow = value;
          for (const s of this.#streams.values()) {
            s.sendWindow += delta;
            if (s.sendWindow > MAX_WINDOW_SIZE) {
              // RFC 9113 §6.9.2: a connection error, not one of the stream.
              this.#connectionError(
                H2Error.FLOW_CONTROL_ERROR,
                `SETTINGS_INITIAL_WINDOW_SIZE ${value} takes stream ${s.id}'s window above 2^31-1`,
              );
              return;
            }
          }
          break;
        }
        case Setting.MaxFrameSize:
          if (value < DEFAULT_MAX_FRAME_SIZE || value > MAX_MAX_FRAME_SIZE) {
            this.#connectionError(H2Error.PROTOCOL_ERROR, `SETTINGS_MAX_FRAME_SIZE ${value}`);
            return;
          }
          this.#peerMaxFrameSize = value;
          break;
        default:
        // MAX_HEADER_LIST_SIZE is advisory; unknown settings are ignored (RFC 9113 §6.5.2).
      }
    }
    if (this.#controlBacklogged()) return;
    this.#frameHeader(0, FrameType.Settings, Flag.Ack, 0);
    this.#openWaiting();
    this.#sendBlocked();
  }

  /** The peer asks for answers faster than it reads them: ends the connection. */
  #controlBacklogged(): boolean {
    if (this.#socket.writableLength + this.#outLength <= CONTROL_BACKLOG) return false;
    this.#connectionError(
      H2Error.ENHANCE_YOUR_CALM,
      `over ${CONTROL_BACKLOG} bytes of answers to PING and SETTINGS the peer has not read`,
    );
    return true;
  }

  #onPing(flags: number, id: number, buf: Buffer, start: number, end: number): void {
    if (id !== 0) {
      this.#connectionError(H2Error.PROTOCOL_ERROR, `PING on stream ${id}`);
      return;
    }
    if (end - start !== 8) {
      this.#connectionError(H2Error.FRAME_SIZE_ERROR, 'a PING frame not 8 bytes long');
      return;
    }
    const payload = buf.subarray(start, end);
    if ((flags & Flag.Ack) === 0) {
      if (this.#controlBacklogged()) return;
      this.#pingFrame(payload, true);
      return;
    }
    if (this.#keepAliveDeadline !== undefined && payload.equals(KEEP_ALIVE_PING)) {
      clearTimeout(this.#keepAliveDeadline);
      this.#keepAliveDeadline = undefined;
      return;
    }
    if (this.#shutdownPing !== undefined && payload.equals(this.#shutdownPing) && !this.#goawaySent) {
      this.#sendFinalGoaway(H2Error.NO_ERROR, '');
    }
  }

  #onGoaway(id: number, buf: Buffer, start: number, end: number): void {
    if (id !== 0) {
      this.#connectionError(H2Error.PROTOCOL_ERROR, `GOAWAY on stream ${id}`);
      return;
    }
    if (end - start < 8) {
      this.#connectionError(H2Error.FRAME_SIZE_ERROR, 'a GOAWAY frame shorter than 8 bytes');
      return;
    }
    const lastStreamId = buf.readUInt32BE(start) & MAX_STREAM_ID;
    const code = buf.readUInt32BE(start + 4);
    this.#goawayReceived = true;
    // Streams this side opened above the last id were never processed: safe to send elsewhere.
    const refused: H2Stream[] = [];
    for (const s of this.#streams.values()) {
      if ((s.id & 1) === (this.isServer ? 0 : 1) && s.id > lastStreamId) refused.push(s);
    }
    refused.push(...this.#waitingToOpen.splice(0));
    for (const s of refused) {
      this.#close(s);
      s.closed = true;
      s.handler.h2Reset(s, H2Error.REFUSED_STREAM, ResetOrigin.Refused);
    }
    this.#owner.h2Goaway(this, code, lastStreamId);
    if (this.#active === 0) this.#finish();
  }

  #onWindowUpdate(id: number, buf: Buffer, start: number, end: number): void {
    if (end - start !== 4) {
      this.#connectionError(H2Error.FRAME_SIZE_ERROR, 'a WINDOW_UPDATE frame not 4 bytes long');
      return;
    }
    const increment = buf.readUInt32BE(start) & MAX_WINDOW_SIZE;
    if (id === 0) {
      if (increment === 0) {
        this.#connectionError(H2Error.PROTOCOL_ERROR, 'a WINDOW_UPDATE of 0 on the connection');
        return;
      }
      this.#sendWindow += increment;
      if (this.#sendWindow > MAX_WINDOW_SIZE) {
        this.#connectionError(H2Error.FLOW_CONTROL_ERROR, 'a connection window above 2^31-1');
        return;
      }
      this.#sendBlocked();
      return;
    }
    const stream = this.#streams.get(id);
    if (stream === undefined) {
      if (this.#idle(id)) this.#connectionError(H2Error.PROTOCOL_ERROR, `WINDOW_UPDATE on idle stream ${id}`);
      return;
    }
    if (increment === 0) {
      this.#streamError(id, stream, H2Error.PROTOCOL_ERROR, `a WINDOW_UPDATE of 0 on stream ${id}`);
      return;
    }
    stream.sendWindow += increment;
    if (stream.sendWindow > MAX_WINDOW_SIZE) {
      this.#streamError(id, stream, H2Error.FLOW_CONTROL_ERROR, `a window above 2^31-1 on stream ${id}`);
      return;
    }
    if (stream.blocked && !this.#socketBlocked && this.#sendWindow > 0) {
      // Leaves the blocked list lazily: #sendBlocked skips streams no longer blocked.
      const i = this.#blocked.indexOf(stream);
      if (i >= 0) this.#blocked.splice(i, 1);
      stream.blocked = false;
      this.#sendQueued(stream);
    }
  }

  // ---- writing frames ----

  #reserve(n: number): void {
    if (this.#outLength + n <= this.#out.length) return;
    let size = this.#out.length * 2;
    while (size < this.#outLength + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.#out.copy(next, 0, 0, this.#outLength);
    this.#out = next;
  }

  #frameHeader(length: number, type: number, flags: number, id: number): void {
    this.#reserve(FRAME_HEADER_LENGTH);
    const out = this.#out;
    let o = this.#outLength;
    out[o++] = length >>> 16;
    out[o++] = (length >>> 8) & 0xff;
    out[o++] = length & 0xff;
    out[o++] = type;
    out[o++] = flags;
    out.writeUInt32BE(id, o);
    this.#outLength = o + 4;
    this.#scheduleFlush();
  }

  #bytes(src: Buffer): void {
    this.#reserve(src.length);
    src.copy(this.#out, this.#outLength);
    this.#outLength += src.length;
  }

  #uint32(value: number): void {
    this.#reserve(4);
    this.#out.writeUInt32BE(value >>> 0, this.#outLength);
    this.#outLength += 4;
  }

  /** A payload too large to copy: what is batched so far, then the payload, as separate writes. */
  #direct(payload: Buffer): void {
    if (this.#outLength > 0) {
      this.#outChunks.push(this.#out.subarray(0, this.#outLength));
      this.#out = Buffer.allocUnsafe(OUT_SIZE);
      this.#outLength = 0;
    }
    this.#outChunks.push(payload);
  }

  #writeSettings(): void {
    const entries: [number, number][] = [];
    const l = this.local;
    if (this.isServer) entries.push([Setting.MaxConcurrentStreams, l.maxConcurrentStreams]);
    else entries.push([Setting.EnablePush, 0]);
    if (l.initialWindowSize !== DEFAULT_WINDOW_SIZE)
      entries.push([Setting.InitialWindowSize, l.initialWindowSize]);
    entries.push([Setting.MaxHeaderListSize, l.maxHeaderListSize]);
    if (l.headerTableSize !== 4096) entries.push([Setting.HeaderTableSize, l.headerTableSize]);
    this.#frameHeader(entries.length * 6, FrameType.Settings, 0, 0);
    for (const [k, v] of entries) {
      this.#reserve(6);
      this.#out.writeUInt16BE(k, this.#outLength);
      this.#out.writeUInt32BE(v, this.#outLength + 2);
      this.#outLength += 6;
    }
  }

  #headersFrame(id: number, fields: readonly string[], endStream: boolean): void {
    const block = this.#blockSink;
    block.reset();
    this.#encoder.encode(fields, block);
    const max = this.#peerMaxFrameSize;
    const length = block.length;
    let first = Math.min(length, max);
    this.#frameHeader(
      first,
      FrameType.Headers,
      (endStream ? Flag.EndStream : 0) | (length <= max ? Flag.EndHeaders : 0),
      id,
    );
    this.#reserve(first);
    block.buf.copy(this.#out, this.#outLength, 0, first);
    this.#outLength += first;
    while (first < length) {
      const n = Math.min(length - first, max);
      this.#frameHeader(n, FrameType.Continuation, first + n === length ? Flag.EndHeaders : 0, id);
      this.#reserve(n);
      block.buf.copy(this.#out, this.#outLength, first, first + n);
      this.#outLength += n;
      first += n;
    }
  }

  #dataFrame(id: number, payload: Buffer | undefined, endStream: boolean): void {
    const length = payload === undefined ? 0 : payload.length;
    this.#frameHeader(length, FrameType.Data, endStream ? Flag.EndStream : 0, id);
    if (length === 0) return;
    if (length >= DIRECT_PAYLOAD) this.#direct(payload!);
    else this.#bytes(payload!);
  }

  #rstFrame(id: number, code: number): void {
    this.#frameHeader(4, FrameType.RstStream, 0, id);
    this.#uint32(code);
  }

  #windowUpdate(id: number, increment: number): void {
    this.#frameHeader(4, FrameType.WindowUpdate, 0, id);
    this.#uint32(increment);
  }

  #pingFrame(payload: Buffer, ack: boolean): void {
    this.#frameHeader(8, FrameType.Ping, ack ? Flag.Ack : 0, 0);
    this.#bytes(payload);
  }

  #goawayFrame(lastStreamId: number, code: number, debug: string): void {
    const debugBytes = Buffer.from(debug.slice(0, 256), 'utf8');
    this.#frameHeader(8 + debugBytes.length, FrameType.Goaway, 0, 0);
    this.#uint32(lastStreamId);
    this.#uint32(code);
    this.#bytes(debugBytes);
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(flushConnection, this);
  }

  /** Writes what is batched, in one write (several, corked, when payloads went direct). */
  flush(): void {
    this.#flushScheduled = false;
    const socket = this.#socket;
    if (socket.destroyed || !socket.writable) {
      this.#outLength = 0;
      this.#outChunks = [];
      return;
    }
    const chunks = this.#outChunks;
    if (chunks.length === 0) {
      const n = this.#outLength;
      if (n === 0) return;
      // Small batches are copied into a slice of node's buffer pool and the batch buffer is kept.
      let batch: Buffer;
      if (n < POOLED_COPY) {
        batch = Buffer.allocUnsafe(n);
        this.#out.copy(batch, 0, 0, n);
      } else {
        batch = this.#out.subarray(0, n);
        this.#out = Buffer.allocUnsafe(OUT_SIZE);
      }
      this.#outLength = 0;
      if (!socket.write(batch)) this.#socketBlocked = true;
      return;
    }
    if (this.#outLength > 0) {
      chunks.push(this.#out.subarray(0, this.#outLength));
      this.#out = Buffer.allocUnsafe(OUT_SIZE);
      this.#outLength = 0;
    }
    this.#outChunks = [];
    socket.cork();
    let ok = true;
    for (let i = 0; i < chunks.length; i++) ok = socket.write(chunks[i]!);
    socket.uncork();
    if (!ok) this.#socketBlocked = true;
  }
}
