// The request body as the logical stack reads it (a Readable) for the raw engines' exchanges: the
// client side pushes decoded bytes in, and the body pauses its source (the client's socket, or its
// HTTP/2 stream) while the stack's buffer is full, resuming it when the stack reads on.
import { Readable } from 'node:stream';

/** Request body bytes buffered for the stack before the source is paused. */
const BODY_HIGH_WATER_MARK = 64 * 1024;

/** What a body pauses and resumes: a socket, or a raw HTTP/2 stream. */
export interface PausableSource {
  pause(): unknown;
  resume(): unknown;
}

export class RequestBody extends Readable {
  /** This body paused its source (its buffer was full). */
  pausedSource = false;

  constructor(private readonly source: PausableSource) {
    super({ highWaterMark: BODY_HIGH_WATER_MARK });
  }

  /** Pushes client bytes; pauses the source when the buffer is full. */
  pushBody(chunk: Buffer): void {
    if (!this.push(chunk) && !this.pausedSource) {
      this.pausedSource = true;
      this.source.pause();
    }
  }

  override _read(): void {
    if (!this.pausedSource) return;
    this.pausedSource = false;
    this.source.resume();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    // As node:http's IncomingMessage: a body nobody reads does not raise its abort as an error.
    cb(err !== null && this.listenerCount('error') > 0 ? err : null);
  }
}
