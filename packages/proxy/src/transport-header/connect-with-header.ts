// The client side of opaque transport: connect to the peer proxy's inbound port, open mesh TLS
// for the peer's identity with ALPN transport.l5d.io/v1, check the peer agreed to it, write the
// header and hand back the TLS socket for the session. The outbound proxy calls this when an
// endpoint's protocol hint says opaque transport (Destination's `ProtocolHint.opaque_transport`).
import type { TLSSocket } from 'node:tls';
import { MeshError, MeshErrorCode, TRANSPORT_HEADER_PROTOCOL } from '@tsmesh/core/data-plane';
import type { MeshTls } from '../tls/index.js';
import { connectTcp } from '../transport/index.js';
import { encodeTransportHeader, type TransportHeader } from './header-codec.js';

export interface ConnectWithHeaderOptions {
  /** The peer proxy's address: the endpoint IP and its inbound port (the hint's inbound_port, 4143). */
  readonly host: string;
  readonly port: number;
  /** The identity the peer proxy must present. */
  readonly serverIdentity: string;
  /** The header: the target port on the peer (the original destination port), name, protocol. */
  readonly header: TransportHeader;
  readonly meshTls: MeshTls;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

export async function connectWithTransportHeader(options: ConnectWithHeaderOptions): Promise<TLSSocket> {
  const frame = encodeTransportHeader(options.header);
  const socket = await connectTcp({
    host: options.host,
    port: options.port,
    timeoutMs: options.timeoutMs,
    signal: options.signal,
  });
  let tls: TLSSocket;
  try {
    tls = await options.meshTls.connect(socket, options.serverIdentity, {
      timeoutMs: options.timeoutMs,
      alpn: [TRANSPORT_HEADER_PROTOCOL],
    });
  } catch (err) {
    socket.destroy();
    throw err;
  }
  if (tls.alpnProtocol !== TRANSPORT_HEADER_PROTOCOL) {
    tls.destroy();
    throw new MeshError(
      MeshErrorCode.Unavailable,
      `${options.serverIdentity} at ${options.host}:${options.port} did not accept opaque transport`,
      {
        hint: `the peer proxy negotiated ALPN ${JSON.stringify(tls.alpnProtocol)} instead of ${TRANSPORT_HEADER_PROTOCOL}`,
      },
    );
  }
  // Resolve only once the header is flushed: node:http2 takes over the socket's native handle,
  // and a JS write still queued on it when it does aborts the process.
  await new Promise<void>((resolve, reject) =>
    tls.write(frame, (err) => {
      if (!err) return resolve();
      tls.destroy();
      reject(
        new MeshError(MeshErrorCode.Unavailable, `writing the transport header failed: ${err.message}`, {
          cause: err,
        }),
      );
    }),
  );
  return tls;
}
