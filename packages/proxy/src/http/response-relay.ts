// The part undici dispatch handlers share when they relay an upstream response to a client-side
// writable (an HTTP/1 ServerResponse, an HTTP/2 stream): the abort handle, backpressure through
// undici's resume, and reporting the outcome exactly once. No promise, stream pipeline or abort
// controller per request; a client that goes away aborts the upstream request.
import type { Writable } from 'node:stream';
import { ProxyErrorLabel } from '@tsmesh/core/data-plane';
import type { HttpRequestContext } from './request-context.js';

export abstract class ResponseRelay<W extends Writable> {
  protected abort: ((err?: Error) => void) | undefined;
  protected resume: (() => void) | undefined;
  protected status: number | undefined;
  protected grpcStatus: string | undefined;
  protected done = false;

  constructor(
    protected readonly out: W,
    protected readonly ctx: HttpRequestContext,
  ) {
    out.once('close', this.onOutClose);
  }

  private readonly onOutClose = () => {
    if (this.done) return;
    this.done = true;
    this.ctx.onResponse?.(this.status, undefined, ProxyErrorLabel.Io);
    this.abort?.();
  };

  private readonly onDrain = () => this.resume?.();

  onConnect(abort: (err?: Error) => void) {
    // The client may have gone while the request waited for a pooled connection.
    if (this.done) abort();
    else this.abort = abort;
  }

  onData(chunk: Buffer): boolean {
    if (this.out.write(chunk)) return true;
    this.out.once('drain', this.onDrain);
    return false;
  }

  /** Marks the exchange done and reports it; false when it was already. */
  protected finish(error: string | undefined, status = this.status): boolean {
    if (this.done) return false;
    this.done = true;
    this.ctx.onResponse?.(
      status,
      error === undefined && this.grpcStatus !== undefined ? Number(this.grpcStatus) : undefined,
      error,
    );
    return true;
  }
}
