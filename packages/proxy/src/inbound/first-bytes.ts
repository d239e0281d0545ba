// The first bytes of a connection whose Server declares its HTTP protocol: Linkerd skips HTTP
// detection for such ports, but a meshed peer still arrives with TLS, so the proxy waits only for
// the first chunk — a TLS handshake record (0x16) goes to full detection, anything else is served
// as the declared protocol at once.
import type { Socket } from 'node:net';

export type FirstBytes =
  | { readonly kind: 'data'; readonly chunk: Buffer }
  /** Nothing arrived within the timeout: serve as declared (the HTTP server has its own timeouts). */
  | { readonly kind: 'timeout' }
  /** The peer ended or failed before sending anything. */
  | { readonly kind: 'closed' };

/** Resolves with the first chunk read (the socket is left paused), a timeout or a close. */
export function firstBytes(socket: Socket, timeoutMs: number): Promise<FirstBytes> {
  return new Promise((resolve) => {
    const finish = (r: FirstBytes) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('error', onEnd);
      socket.pause();
      resolve(r);
    };
    const onData = (chunk: Buffer) => finish({ kind: 'data', chunk });
    const onEnd = () => finish({ kind: 'closed' });
    const timer = setTimeout(() => finish({ kind: 'timeout' }), timeoutMs);
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('error', onEnd);
  });
}
