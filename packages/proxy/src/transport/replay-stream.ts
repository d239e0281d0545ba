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
    // A write completes once the socket takes it (not once it is flushed), and writes queued
    // meanwhile (e.g. HTTP/2 frames of one response) leave together: one socket write, one TLS
    // record, instead of one flushed write after another.
    write(chunk: Buffer, _enc, cb) {
      if (socket.write(chunk)) cb();
      else socket.once('drain', () => cb());
    },
    writev(chunks, cb) {
      const data =
        chunks.length === 1 ? chunks[0]!.chunk : Buffer.concat(chunks.map((c) => c.chunk as Buffer));
      if (socket.write(data)) cb();
      else socket.once('drain', () => cb());
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
