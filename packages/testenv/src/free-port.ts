import { createServer } from 'node:net';

/**
 * A TCP port that is free on 127.0.0.1 right now (the kernel picks it). Another process may take
 * it before ours binds it; the callers retry a failed start once with fresh ports.
 */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}
