// TCP listeners: bound once at start-up, with half-open sockets allowed (opaque forwarding carries
// half-close) and Nagle off (the proxy forwards what it reads at once).
import { createServer, type Server, type Socket } from 'node:net';
import { MeshError, MeshErrorCode } from '@tsmesh/core/data-plane';

export interface ListenAddr {
  readonly host: string;
  readonly port: number;
}

export interface Listener {
  /** The bound address (the real port when 0 was asked for). */
  readonly address: ListenAddr;
  /** Sockets accepted and not yet closed. */
  readonly connections: ReadonlySet<Socket>;
  /** Stops accepting; existing connections are left to the caller's drain. */
  stopAccepting(): Promise<void>;
  /** Destroys every open connection. */
  destroyConnections(): void;
}

export interface BindOptions {
  readonly backlog?: number;
}

export async function bindListener(
  addr: ListenAddr,
  onConnection: (socket: Socket) => void,
  options: BindOptions = {},
): Promise<Listener> {
  const connections = new Set<Socket>();
  const server: Server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    connections.add(socket);
    socket.once('close', () => connections.delete(socket));
    onConnection(socket);
  });
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) =>
      reject(
        new MeshError(
          MeshErrorCode.Unavailable,
          `cannot listen on ${addr.host}:${addr.port}: ${err.message}`,
          {
            cause: err,
          },
        ),
      );
    server.once('error', onError);
    server.listen({ host: addr.host, port: addr.port, backlog: options.backlog ?? 511 }, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const bound = server.address();
  if (bound === null || typeof bound === 'string')
    throw new MeshError(MeshErrorCode.Internal, 'listener has no address');
  let stopped: Promise<void> | undefined;
  return {
    address: { host: bound.address, port: bound.port },
    connections,
    stopAccepting() {
      // server.close() stops accepting at once; its callback waits for every connection to
      // close, which is the caller's drain to manage, so it is not awaited here.
      stopped ??= new Promise((resolve) => {
        if (server.listening) server.close();
        setImmediate(resolve);
      });
      return stopped;
    },
    destroyConnections() {
      for (const socket of connections) socket.destroy();
    },
  };
}
