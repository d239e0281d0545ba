// Reads the transport header from the start of an accepted stream (the TLS socket the inbound
// proxy terminated), with a deadline: the bytes after the header are handed back untouched and the
// stream is paused, so the caller forwards the session without losing a byte.
import type { Duplex } from 'node:stream';
import { MeshError, MeshErrorCode } from '@tsmesh/core/data-plane';
import { MAX_TRANSPORT_HEADER_BYTES, parseTransportHeader, type TransportHeader } from './header-codec.js';

export interface ReadHeaderOptions {
  readonly timeoutMs: number;
  readonly maxBytes?: number;
}

export interface ReadHeaderResult {
  readonly header: TransportHeader;
  /** Session bytes read past the header. */
  readonly rest: Buffer;
}

export function readTransportHeader(stream: Duplex, options: ReadHeaderOptions): Promise<ReadHeaderResult> {
  const maxBytes = options.maxBytes ?? MAX_TRANSPORT_HEADER_BYTES;
  return new Promise((resolve, reject) => {
    let buffered: Buffer = Buffer.alloc(0);
    const finish = (err: MeshError | undefined, result?: ReadHeaderResult) => {
      clearTimeout(timer);
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      stream.off('close', onEnd);
      stream.pause();
      if (err) reject(err);
      else resolve(result as ReadHeaderResult);
    };
    const onData = (chunk: Buffer) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      let parsed;
      try {
        parsed = parseTransportHeader(buffered, maxBytes);
      } catch (err) {
        finish(err as MeshError);
        return;
      }
      if (parsed.kind === 'header')
        finish(undefined, { header: parsed.header, rest: buffered.subarray(parsed.consumed) });
    };
    const onEnd = () =>
      finish(new MeshError(MeshErrorCode.Decode, 'the peer closed before sending a whole transport header'));
    const onError = (err: Error) =>
      finish(
        new MeshError(MeshErrorCode.Unavailable, `reading the transport header failed: ${err.message}`, {
          cause: err,
        }),
      );
    const timer = setTimeout(
      () => finish(new MeshError(MeshErrorCode.Timeout, `no transport header within ${options.timeoutMs}ms`)),
      options.timeoutMs,
    );
    stream.on('data', onData);
    stream.once('end', onEnd);
    stream.once('close', onEnd);
    stream.once('error', onError);
    stream.resume();
  });
}
