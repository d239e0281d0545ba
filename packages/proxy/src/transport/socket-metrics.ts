// Reports a socket's life to tcp_* metrics when it closes: bytes both ways, duration, errno.
import type { Socket } from 'node:net';
import type { TcpClose } from '../metrics/index.js';

export function onSocketClose(socket: Socket, report: (close: TcpClose) => void): void {
  const started = performance.now();
  let errno = '';
  socket.once('error', (err: Error & { code?: string }) => {
    errno = err.code ?? 'EIO';
  });
  socket.once('close', () =>
    report({
      bytesRead: socket.bytesRead,
      bytesWritten: socket.bytesWritten,
      durationMs: performance.now() - started,
      errno,
    }),
  );
}
