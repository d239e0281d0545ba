// Protocol detection on an accepted socket: reads until the first bytes say TLS, HTTP/1, HTTP/2 or
// something else, or until the detection timeout, which (as in linkerd2-proxy) falls back to
// opaque TCP so that server-speaks-first protocols still work, only later. The bytes read are
// returned (the socket is left paused) for the next handler to replay.
import type { Socket } from 'node:net';
import type { ClientHello } from './client-hello.js';
import { MAX_CLIENT_HELLO_BYTES } from './client-hello.js';
import { sniffProtocol, type Protocol } from './sniff.js';

export interface Detection {
  readonly protocol: Protocol;
  readonly clientHello: ClientHello | undefined;
  /** True when the timeout decided (no bytes, or too few to tell). */
  readonly timedOut: boolean;
  /** True when the peer ended (FIN) or failed before detection finished. */
  readonly closed: boolean;
  /** The bytes read, for the next handler to replay (see handOff in the HTTP proxies). */
  readonly buffered: Buffer;
}

export interface DetectOptions {
  readonly timeoutMs: number;
}

export function detectProtocol(socket: Socket, options: DetectOptions): Promise<Detection> {
  return new Promise((resolve) => {
    let buffered: Buffer = Buffer.alloc(0);
    let done = false;
    const finish = (d: Omit<Detection, 'clientHello' | 'buffered'> & { clientHello?: ClientHello }) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('error', onEnd);
      socket.pause();
      resolve({ clientHello: undefined, ...d, buffered });
    };
    const onData = (chunk: Buffer) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      const result = sniffProtocol(buffered);
      if (result.kind === 'done') {
        finish({
          protocol: result.protocol,
          clientHello: result.clientHello,
          timedOut: false,
          closed: false,
        });
      } else if (buffered.length >= MAX_CLIENT_HELLO_BYTES) {
        finish({ protocol: 'opaque', timedOut: false, closed: false });
      }
    };
    const onEnd = () => finish({ protocol: 'opaque', timedOut: false, closed: true });
    const timer = setTimeout(
      () => finish({ protocol: 'opaque', timedOut: true, closed: false }),
      options.timeoutMs,
    );
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('error', onEnd);
  });
}
