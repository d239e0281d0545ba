// Opaque TCP forwarding: two sockets piped both ways, with half-close carried across (a FIN from
// one side ends the write side of the other, and the connection closes when both have ended),
// errors resetting both, and byte counts for tcp_read_bytes_total / tcp_write_bytes_total.
import type { Duplex } from 'node:stream';

export interface ForwardResult {
  /** Bytes read from the client side (and written upstream). */
  readonly bytesFromClient: number;
  /** Bytes read from the server side (and written to the client). */
  readonly bytesFromServer: number;
  /** The first error on either side, if the forward ended by an error. */
  readonly error: Error | undefined;
}

/**
 * Pipes client ⇄ server until both directions have ended or one side fails. Both streams must be
 * created with `allowHalfOpen: true` for half-close to be carried. `initial` is data already read
 * from the client (e.g. by protocol detection) and is written to the server first.
 */
export function forwardTcp(client: Duplex, server: Duplex, initial?: Buffer): Promise<ForwardResult> {
  return new Promise((resolve) => {
    let fromClient = initial?.length ?? 0;
    let fromServer = 0;
    let error: Error | undefined;
    let ended = 0;
    let done = false;

    const finish = () => {
      if (done) return;
      done = true;
      client.off('data', onClientData);
      server.off('data', onServerData);
      resolve({ bytesFromClient: fromClient, bytesFromServer: fromServer, error });
    };
    const fail = (err: Error) => {
      error ??= err;
      client.destroy();
      server.destroy();
      finish();
    };
    const onEnd = () => {
      ended += 1;
      if (ended === 2) {
        // Both directions finished: close once the last writes are flushed.
        client.end();
        server.end();
        finish();
      }
    };
    const onClientData = (chunk: Buffer) => {
      fromClient += chunk.length;
    };
    const onServerData = (chunk: Buffer) => {
      fromServer += chunk.length;
    };

    client.on('data', onClientData);
    server.on('data', onServerData);
    client.on('error', fail);
    server.on('error', fail);
    client.once('close', () => (done ? undefined : ended < 2 ? fail(new Error('client closed')) : finish()));
    server.once('close', () => (done ? undefined : ended < 2 ? fail(new Error('server closed')) : finish()));
    client.once('end', onEnd);
    server.once('end', onEnd);
    if (initial && initial.length > 0) server.write(initial);
    if (client.readableEnded) {
      // The client half-closed while its first bytes were being read (protocol detection).
      client.off('end', onEnd);
      server.end();
      onEnd();
    } else {
      client.pipe(server);
    }
    server.pipe(client);
  });
}
