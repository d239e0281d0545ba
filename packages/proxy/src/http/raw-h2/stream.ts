// One HTTP/2 stream of the raw-socket engine (connection.ts): a plain object, no EventEmitter and no
// Duplex. What arrives on it is delivered to its handler's methods; what is sent on it is framed by
// its connection, within the peer's flow-control windows, with the rest queued here.

/** Why a stream ended before both of its sides did. */
export const enum ResetOrigin {
  /** The peer sent RST_STREAM. */
  Peer = 0,
  /** The peer's GOAWAY said it never processed the stream (safe to send again elsewhere). */
  Refused = 1,
  /** The connection closed or failed. */
  Connection = 2,
  /** This side reset it after a protocol violation by the peer (the code says which). */
  Protocol = 3,
}

/**
 * What a stream's owner implements. Headers and trailers come as flat lists `name, value, …` with
 * names in lower case (HTTP/2 requires it; the connection checks).
 */
export interface H2StreamHandler {
  /** A client stream's response head (after any 1xx); endStream: no body and no trailers follow. */
  h2Headers(stream: H2Stream, fields: string[], endStream: boolean): void;
  /** Body bytes (a view of the read buffer: keep it only as long as node keeps written buffers). */
  h2Data(stream: H2Stream, data: Buffer, endStream: boolean): void;
  /** Trailers: the peer's side of the stream ends with them. */
  h2Trailers(stream: H2Stream, fields: string[]): void;
  /** The stream ended abnormally; nothing more arrives and nothing more can be sent. */
  h2Reset(stream: H2Stream, code: number, origin: ResetOrigin): void;
  /** Everything queued was framed after write() returned false. */
  h2Drain(stream: H2Stream): void;
}

/** What a stream asks of its connection (connection.ts implements it). */
export interface StreamConnection {
  sendHeaders(stream: H2Stream, fields: readonly string[], endStream: boolean): void;
  sendData(stream: H2Stream, data: Buffer | undefined, end: boolean): boolean;
  sendTrailers(stream: H2Stream, fields: readonly string[]): void;
  resetStream(stream: H2Stream, code: number): void;
  creditStream(stream: H2Stream, bytes: number): void;
}

/** Queued bytes above which write() asks the writer to wait for h2Drain. */
export const STREAM_HIGH_WATER = 64 * 1024;

export class H2Stream {
  /** 0 while a client stream waits for the peer's concurrency limit. */
  id = 0;
  handler: H2StreamHandler;
  /** The headers a client stream opens with, until it is opened. */
  openFields: readonly string[] | undefined;
  openEnd = false;
  /** Peer's window for what this side sends. */
  sendWindow = 0;
  /** Bytes the peer may still send before this side credits more. */
  recvWindow = 0;
  /** Received bytes delivered and not yet credited back. */
  recvUncredited = 0;
  paused = false;
  /** A client stream has its response head (1xx excluded); a server stream always does. */
  headReceived: boolean;
  remoteEnded = false;
  /** END_STREAM was asked for (end() or sendTrailers()); sent once the queue is out. */
  endRequested = false;
  endSent = false;
  closed = false;
  /** Data not yet framed: chunks and their total. */
  queue: Buffer[] | undefined;
  queued = 0;
  trailers: readonly string[] | undefined;
  needDrain = false;
  /** In the connection's list of streams waiting for window or socket. */
  blocked = false;
  /** The owner's slot, free for its use (e.g. the exchange it carries). */
  context: unknown;

  constructor(
    readonly connection: StreamConnection,
    handler: H2StreamHandler,
    headReceived: boolean,
  ) {
    this.handler = handler;
    this.headReceived = headReceived;
  }

  /** A server stream's response head (or a 1xx when the status says so). */
  respond(fields: readonly string[], endStream: boolean): void {
    this.connection.sendHeaders(this, fields, endStream);
  }

  /** Sends body bytes; false when the caller should wait for h2Drain before writing more. */
  write(data: Buffer): boolean {
    return this.connection.sendData(this, data, false);
  }

  /** Ends this side, with last body bytes if given. */
  end(data?: Buffer): void {
    this.connection.sendData(this, data, true);
  }

  /** Ends this side with trailers, after any queued data. */
  sendTrailers(fields: readonly string[]): void {
    this.connection.sendTrailers(this, fields);
  }

  /** Abandons the stream (RST_STREAM with the code); no handler call follows. */
  reset(code: number): void {
    this.connection.resetStream(this, code);
  }

  /** Stops crediting received data back to the peer (receive backpressure). */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.connection.creditStream(this, 0);
  }
}
