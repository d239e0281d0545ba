// Outgoing TCP connections with a connect timeout and an abort signal.
import { connect as netConnect, type Socket } from 'node:net';
import { MeshError, MeshErrorCode } from '@tsmesh/core/data-plane';

export interface ConnectOptions {
  readonly host: string;
  readonly port: number;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

export function connectTcp(options: ConnectOptions): Promise<Socket> {
  const { host, port, timeoutMs, signal } = options;
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new MeshError(MeshErrorCode.Aborted, `connect to ${host}:${port} aborted`));
      return;
    }
    const socket = netConnect({ host, port, allowHalfOpen: true, noDelay: true });
    const cleanup = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.off('error', onError);
      socket.off('connect', onConnect);
    };
    const fail = (err: MeshError) => {
      cleanup();
      socket.destroy();
      reject(err);
    };
    const onError = (err: Error) =>
      fail(
        new MeshError(MeshErrorCode.Unavailable, `connect to ${host}:${port} failed: ${err.message}`, {
          cause: err,
        }),
      );
    const onAbort = () => fail(new MeshError(MeshErrorCode.Aborted, `connect to ${host}:${port} aborted`));
    const onConnect = () => {
      cleanup();
      resolve(socket);
    };
    const timer = setTimeout(
      () =>
        fail(
          new MeshError(MeshErrorCode.Timeout, `connect to ${host}:${port} timed out after ${timeoutMs}ms`),
        ),
      timeoutMs,
    );
    socket.once('error', onError);
    socket.once('connect', onConnect);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
