// The tap server on the control port (:4190, LINKERD2_PROXY_CONTROL_LISTEN_ADDR): gRPC
// io.linkerd.proxy.tap.Tap/Observe over mesh TLS, served only to the tap client identity
// (LINKERD2_PROXY_TAP_SVC_NAME, viz's tap service). The server is node:http2 fed the TLS sockets
// MeshTls accepted, so the client identity is known per connection; any other identity (or none)
// gets PERMISSION_DENIED. Events are written as length-prefixed gRPC messages; when the client
// reads slower than events arrive, events beyond a buffer bound are dropped, not queued.
import { createServer, type Http2Server, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import { GrpcStatus, MeshError, TapService, type tap } from '@tsmesh/core/data-plane';
import { formatGrpcMessage } from '../errors/index.js';
import type { MeshTls } from '../tls/index.js';
import { bindListener, createReplayStream, type ListenAddr } from '../transport/index.js';
import type { TapHub } from './tap-hub.js';

export interface TapServerOptions {
  readonly listenAddr: ListenAddr;
  readonly meshTls: MeshTls;
  /** The only identity allowed to tap (LINKERD2_PROXY_TAP_SVC_NAME). */
  readonly tapIdentity: string;
  readonly hub: TapHub;
  /** Bytes a slow tap client may have unread before events are dropped. */
  readonly maxBufferedBytes?: number;
  /** Largest ObserveRequest accepted. */
  readonly maxRequestBytes?: number;
}

export interface TapServer {
  readonly address: ListenAddr;
  close(): Promise<void>;
}

const OBSERVE_PATH = TapService.observe.path;

function trailersOnly(stream: ServerHttp2Stream, status: number, message: string): void {
  if (stream.destroyed || stream.closed) return;
  stream.respond(
    {
      ':status': 200,
      'content-type': 'application/grpc',
      'grpc-status': String(status),
      'grpc-message': formatGrpcMessage(message),
    },
    { endStream: true },
  );
}

function frame(message: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(message.length, 1);
  return Buffer.concat([head, message]);
}

export async function startTapServer(options: TapServerOptions): Promise<TapServer> {
  const maxBuffered = options.maxBufferedBytes ?? 1 << 20;
  const maxRequest = options.maxRequestBytes ?? 64 * 1024;
  const identities = new WeakMap<object, string | undefined>();
  let pending: { id: string | undefined } | undefined;

  const observe = (stream: ServerHttp2Stream, request: tap.ObserveRequest) => {
    let ended = false;
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': String(GrpcStatus.OK) }));
    const remove = options.hub.observe(request, {
      send(event) {
        if (ended || stream.destroyed) return false;
        if (stream.writableLength > maxBuffered) return false;
        stream.write(frame(TapService.observe.response.encode(event)));
        return true;
      },
      finish() {
        ended = true;
        if (!stream.destroyed) stream.end();
      },
    });
    stream.once('close', remove);
  };

  const onStream = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
    stream.on('error', () => undefined);
    const clientId = identities.get(stream.session as object);
    if (clientId !== options.tapIdentity) {
      trailersOnly(
        stream,
        GrpcStatus.PERMISSION_DENIED,
        `tap is only served to ${options.tapIdentity}; the client is ${clientId ?? 'unauthenticated'}`,
      );
      return;
    }
    if (headers[':path'] !== OBSERVE_PATH) {
      trailersOnly(stream, GrpcStatus.UNIMPLEMENTED, `unknown method ${String(headers[':path'])}`);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= maxRequest + 5) chunks.push(c);
    });
    stream.once('end', () => {
      if (size > maxRequest + 5) {
        trailersOnly(stream, GrpcStatus.RESOURCE_EXHAUSTED, `ObserveRequest larger than ${maxRequest} bytes`);
        return;
      }
      const body = Buffer.concat(chunks);
      if (body.length < 5 || body[0] !== 0 || body.readUInt32BE(1) !== body.length - 5) {
        trailersOnly(stream, GrpcStatus.INVALID_ARGUMENT, 'expected one uncompressed gRPC message');
        return;
      }
      let request: tap.ObserveRequest;
      try {
        request = TapService.observe.request.decode(body.subarray(5), OBSERVE_PATH);
      } catch (err) {
        trailersOnly(
          stream,
          GrpcStatus.INVALID_ARGUMENT,
          err instanceof MeshError ? err.message : String(err),
        );
        return;
      }
      observe(stream, request);
    });
  };

  const server: Http2Server = createServer();
  server.on('stream', onStream);
  server.on('session', (session) => {
    if (pending) identities.set(session, pending.id);
    session.on('error', () => undefined);
  });
  server.on('sessionError', () => undefined);
  const sessions = new Set<{ destroy(): void }>();

  const listener = await bindListener(options.listenAddr, (socket) => {
    socket.on('error', () => undefined);
    options.meshTls.accept(socket, { timeoutMs: 10_000 }).then(
      (accepted) => {
        accepted.socket.on('error', () => undefined);
        sessions.add(accepted.socket);
        accepted.socket.once('close', () => sessions.delete(accepted.socket));
        pending = { id: accepted.clientId };
        try {
          // Through a JS stream: node:http2 would read the TLS handle directly and lose what the
          // TLS socket already buffered (the client's preface often arrives with the handshake).
          server.emit('connection', createReplayStream(accepted.socket, Buffer.alloc(0)));
        } finally {
          pending = undefined;
        }
      },
      () => socket.destroy(),
    );
  });
  return {
    address: listener.address,
    async close() {
      await listener.stopAccepting();
      for (const s of sessions) s.destroy();
      listener.destroyConnections();
    },
  };
}
