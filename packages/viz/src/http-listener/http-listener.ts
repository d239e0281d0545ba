// An HTTP server on host:port for the viz servers (dashboard, metrics API, admin port): a failure
// to bind is a MeshError naming the flag to change, and close() ends the open connections too
// (a browser's keep-alive or a watching client would hold server.close() otherwise).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { MeshError, MeshErrorCode } from '@tsmesh/core';

export interface HttpListener {
  /** e.g. http://127.0.0.1:8085/ (an IPv6 address in brackets). */
  readonly url: string;
  close(): Promise<void>;
}

/** `where` names the option that chose the address (in the error when it cannot be bound). */
export async function listenHttp(
  address: string,
  port: number,
  where: string,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<HttpListener> {
  const sockets = new Set<Socket>();
  const server = createServer(handler);
  server.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: address, port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (cause) {
    throw new MeshError(
      MeshErrorCode.Unavailable,
      `cannot listen on ${address}:${port}: ${(cause as Error).message}`,
      { cause, where, hint: 'pick another port (0 = any free one)' },
    );
  }
  const host = address.includes(':') ? `[${address}]` : address;
  return {
    url: `http://${host}:${(server.address() as AddressInfo).port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}
