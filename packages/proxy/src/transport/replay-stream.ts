// A duplex over a socket that first yields bytes already read from it (by protocol detection).
// node:http2 reads its socket's handle directly, so bytes unshifted into the JS stream would be
// lost; through this wrapper (a non-handle stream) it reads them first.
import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';

export function createReplayStream(socket: Socket, head: Buffer): Duplex {
  const stream = new Duplex({
    allowHalfOpen: true,
    read() {
      socket.resume();
    },
    write(chunk: Buffer, _enc, cb) {
      socket.write(chunk, cb);
    },
    final(cb) {
      socket.end();
      cb();
    },
    destroy(err, cb) {
      socket.destroy(err ?? undefined);
      cb(err);
    },
  });
  if (head.length > 0) stream.push(head);
  socket.on('data', (chunk: Buffer) => {
    if (!stream.push(chunk)) socket.pause();
  });
  socket.on('end', () => stream.push(null));
  socket.on('close', () => stream.destroy());
  socket.on('error', (err) => stream.destroy(err));
  return stream;
}
