// The application behind both proxy pairs: HTTP/1.1 and cleartext HTTP/2 on ONE port (as an app
// behind tsmesh's inbound proxy would be), so every path in the benchmark ends at the same server.
// HTTP/1.1 and plain HTTP/2 requests get a 3-byte body; gRPC-like requests (content-type
// application/grpc) get a length-prefixed message and trailers with grpc-status 0.
// Usage: node backend.mjs  → prints {"port":N} and serves until SIGTERM.
import { createServer as createHttp1 } from 'node:http';
import { createServer as createHttp2 } from 'node:http2';
import { createServer } from 'node:net';
import { Duplex } from 'node:stream';

const OK = Buffer.from('ok\n');
// A gRPC message frame: flag 0, length 5, payload "hello".
const GRPC_REPLY = Buffer.from([0, 0, 0, 0, 5, 0x68, 0x65, 0x6c, 0x6c, 0x6f]);
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n');

const h1 = createHttp1({ keepAlive: true, keepAliveTimeout: 60_000, noDelay: true }, (req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': OK.length });
    res.end(OK);
  });
});

const h2 = createHttp2({ settings: { maxConcurrentStreams: 1000 } });
h2.on('stream', (stream, headers) => {
  stream.on('error', () => undefined);
  const grpc = String(headers['content-type'] ?? '').startsWith('application/grpc');
  stream.resume();
  stream.on('end', () => {
    if (stream.closed) return;
    if (grpc) {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0', 'grpc-message': '' }));
      stream.end(GRPC_REPLY);
    } else {
      stream.respond({ ':status': 200, 'content-type': 'text/plain' });
      stream.end(OK);
    }
  });
});
h2.on('sessionError', () => undefined);

// node:http2 reads its socket's handle directly, so sniffed bytes are replayed through a Duplex.
function replay(socket, head) {
  const d = new Duplex({
    read: () => socket.resume(),
    write: (chunk, _e, cb) => socket.write(chunk, cb),
    final: (cb) => {
      socket.end();
      cb();
    },
    destroy: (err, cb) => {
      socket.destroy();
      cb(err);
    },
  });
  d.push(head);
  socket.on('data', (c) => {
    if (!d.push(c)) socket.pause();
  });
  socket.on('end', () => d.push(null));
  socket.on('close', () => d.destroy());
  return d;
}

const server = createServer({ noDelay: true }, (socket) => {
  socket.on('error', () => undefined);
  socket.once('data', (head) => {
    socket.pause();
    if (head.subarray(0, PREFACE.length).equals(PREFACE)) {
      h2.emit('connection', replay(socket, head));
    } else {
      socket.unshift(head);
      h1.emit('connection', socket);
      socket.resume();
    }
  });
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
