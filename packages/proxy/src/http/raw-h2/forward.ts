// HTTP/2 forwarding on the raw engine: a client's stream becomes a stream on the target's shared
// upstream connection, and one object relays both ways — it is the handler of both streams. Flow
// control is HTTP/2's own on each side: a side that cannot take more pauses the other (its window
// is then not credited back). Trailers are carried, a trailers-only response stays one HEADERS
// frame, and a reset on either side cancels the other (gRPC cancellation and deadlines).
import { ProxyErrorLabel } from '@tsmesh/core/data-plane';
import { L5D_PROXY_ERROR } from '../headers.js';
import type { HttpRequestContext } from '../request-context.js';
import { MAX_UNPROCESSED_RESENDS } from '../unprocessed-stream.js';
import type { UpstreamTarget } from '../upstream-target.js';
import { H2Error } from './frames.js';
import { fieldValue } from './fields.js';
import { forwardedFields } from './field-list.js';
import type { H2Stream, H2StreamHandler, ResetOrigin } from './stream.js';
import { upstreamResetMessage, type RawH2Sessions, type UpstreamSession } from './upstream-sessions.js';

/** The answer to a request that failed before its response head (with what went wrong). */
export function proxyErrorFields(status: number, message: string): string[] {
  return [':status', String(status), L5D_PROXY_ERROR, message];
}

export class RawH2Forward implements H2StreamHandler {
  status: number | undefined = undefined;
  #grpcStatus: string | undefined = undefined;
  /** The upstream stream of the request's current sending (a resend replaces it). */
  #up: H2Stream | undefined = undefined;
  #session: UpstreamSession | undefined = undefined;
  #reported = false;
  /** The upstream response is complete: nothing to cancel. */
  #upstreamEnded = false;
  #resends = 0;

  constructor(
    readonly down: H2Stream,
    private readonly ctx: HttpRequestContext,
    private readonly target: UpstreamTarget,
    private readonly reqFields: readonly string[],
    private readonly sessions: RawH2Sessions,
    private readonly bodiless: boolean,
  ) {}

  start(): void {
    this.down.handler = this;
    this.#send();
  }

  #send(): void {
    let session: UpstreamSession;
    try {
      session = this.sessions.get(this.target, this.ctx.serverIdentity);
      this.#up = session.connection.request(this.reqFields, this.bodiless, this);
    } catch {
      this.#fail('upstream connection failed', H2Error.CANCEL);
      return;
    }
    this.#session = session;
  }

  #report(error: string | undefined, status = this.status): void {
    if (this.#reported) return;
    this.#reported = true;
    const g = this.#grpcStatus;
    this.ctx.onResponse?.(status, g === undefined ? undefined : Number(g), error);
  }

  /** A 502 before the response head; after it, the client's stream is reset with `code`. */
  #fail(message: string, code: number): void {
    this.#report(ProxyErrorLabel.Io, this.status ?? 502);
    const down = this.down;
    if (down.closed) return;
    if (this.status !== undefined) down.reset(code);
    else down.respond(proxyErrorFields(502, message), true);
  }

  h2Headers(stream: H2Stream, fields: string[], endStream: boolean): void {
    if (stream !== this.#up) return;
    const down = this.down;
    this.status = Number(fields[1]);
    if (endStream) {
      // Trailers-only (a gRPC error, say): one HEADERS frame with END_STREAM.
      this.#grpcStatus = fieldValue(fields, 'grpc-status');
      this.#upstreamEnded = true;
      if (!down.closed) down.respond(forwardedFields(fields), true);
      this.#report(undefined);
      return;
    }
    if (!down.closed) down.respond(forwardedFields(fields), false);
  }

  h2Data(stream: H2Stream, data: Buffer, endStream: boolean): void {
    if (stream === this.down) {
      // Request body (a request with a body is never resent).
      const up = this.#up;
      if (up === undefined || up.closed) return;
      if (endStream) up.end(data.length > 0 ? data : undefined);
      else if (!up.write(data)) this.down.pause();
      return;
    }
    if (stream !== this.#up) return;
    const down = this.down;
    if (endStream) {
      this.#upstreamEnded = true;
      if (!down.closed) down.end(data.length > 0 ? data : undefined);
      this.#report(undefined);
      return;
    }
    if (!down.closed && !down.write(data)) stream.pause();
  }

  h2Trailers(stream: H2Stream, fields: string[]): void {
    if (stream === this.down) {
      const up = this.#up;
      if (up !== undefined && !up.closed) up.sendTrailers(forwardedFields(fields));
      return;
    }
    if (stream !== this.#up) return;
    this.#upstreamEnded = true;
    this.#grpcStatus = fieldValue(fields, 'grpc-status');
    if (!this.down.closed) this.down.sendTrailers(forwardedFields(fields));
    this.#report(undefined);
  }

  h2Drain(stream: H2Stream): void {
    if (stream === this.down) this.#up?.resume();
    else if (stream === this.#up) this.down.resume();
  }

  h2Reset(stream: H2Stream, code: number, origin: ResetOrigin): void {
    if (stream === this.down) {
      // The client went away or cancelled: so does the upstream stream, unless its response is
      // complete (a reset then only costs a frame; resets by the thousand make peers end the
      // connection as a rapid-reset attack).
      const up = this.#up;
      if (up !== undefined && !up.closed && !this.#upstreamEnded) up.reset(H2Error.CANCEL);
      this.#report(code !== 0 || !this.#upstreamEnded ? ProxyErrorLabel.Io : undefined);
      return;
    }
    if (stream !== this.#up) return;
    if (this.#resent(stream, origin)) return;
    // A reset from upstream is passed on; REFUSED_STREAM is not, as the stream was processed once
    // its response began.
    this.#fail(
      upstreamResetMessage(code, origin),
      code === H2Error.REFUSED_STREAM || code === 0 ? H2Error.CANCEL : code,
    );
  }

  /**
   * Sends the request again when the upstream provably did not process it (RFC 9113 §8.7: refused,
   * or never opened on a connection that had connected): only a request without a body, before
   * any response, at most MAX_UNPROCESSED_RESENDS times, and not once the client is gone.
   */
  #resent(up: H2Stream, origin: ResetOrigin): boolean {
    if (!this.bodiless || this.#resends >= MAX_UNPROCESSED_RESENDS || this.status !== undefined) return false;
    if (this.#reported || this.down.closed) return false;
    if (this.#session?.unprocessed(up, origin) !== true) return false;
    this.#resends++;
    this.#send();
    return true;
  }
}
