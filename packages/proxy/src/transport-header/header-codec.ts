// Linkerd's opaque-transport header (linkerd2-proxy's transport-header crate): inside mesh TLS
// negotiated with ALPN `transport.l5d.io/v1`, the client proxy first writes the preface
// `transport.l5d.io/v1\r\n\r\n`, a 4-byte big-endian length, then the protobuf
// `transport.l5d.io.Header { int32 port = 1; string name = 2; SessionProtocol session_protocol = 3 }`.
// Decoding is incremental (bytes arrive in pieces) and strict as Linkerd's: no preface, a length
// over the limit, bad protobuf, a port outside 1-65535 or a name that is not a DNS name is an error.
import {
  MeshError,
  MeshErrorCode,
  TRANSPORT_HEADER_PROTOCOL,
  TransportHeaderCodec,
} from '@tsmesh/core/data-plane';

export type SessionProtocol = 'http1' | 'http2';

export interface TransportHeader {
  /** The target port on the peer (1-65535). */
  readonly port: number;
  /** The logical name of the target (a service), when known. */
  readonly name?: string;
  /** The protocol of the session, when the client proxy knows it (HTTP is then not re-detected). */
  readonly protocol?: SessionProtocol;
}

export const TRANSPORT_HEADER_PREFACE = Buffer.from(`${TRANSPORT_HEADER_PROTOCOL}\r\n\r\n`, 'latin1');
const PREFACE_AND_LENGTH = TRANSPORT_HEADER_PREFACE.length + 4;
/** Largest header body accepted (a port, a DNS name and a flag fit in far less). */
export const MAX_TRANSPORT_HEADER_BYTES = 8192;

const DNS_NAME =
  /^(?=.{1,253}\.?$)[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*\.?$/i;

function invalid(reason: string): MeshError {
  return new MeshError(MeshErrorCode.Decode, `invalid transport header: ${reason}`, {
    where: 'transport.l5d.io/v1',
    hint: 'the peer must send the transport.l5d.io/v1 preface, a 4-byte length and a transport.l5d.io.Header',
  });
}

/** Preface, length and protobuf body of a header, ready to write. */
export function encodeTransportHeader(header: TransportHeader): Buffer {
  if (!Number.isInteger(header.port) || header.port < 1 || header.port > 65535) {
    throw new MeshError(MeshErrorCode.InvalidArgument, `transport header port ${header.port} is not 1-65535`);
  }
  const body = TransportHeaderCodec.encode({
    port: header.port,
    name: header.name ?? '',
    sessionProtocol:
      header.protocol === undefined ? null : header.protocol === 'http1' ? { http1: {} } : { http2: {} },
  });
  const length = Buffer.alloc(4);
  length.writeUInt32BE(body.length);
  return Buffer.concat([TRANSPORT_HEADER_PREFACE, length, body]);
}

export type HeaderParse =
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'header'; readonly header: TransportHeader; readonly consumed: number };

/**
 * Parses a header from the start of `bytes`. 'incomplete' asks for more bytes; a header comes
 * with how many bytes it took (what follows is the session's data). Throws MeshError (decode).
 */
export function parseTransportHeader(bytes: Buffer, maxBytes = MAX_TRANSPORT_HEADER_BYTES): HeaderParse {
  const prefaceSeen = Math.min(bytes.length, TRANSPORT_HEADER_PREFACE.length);
  if (bytes.compare(TRANSPORT_HEADER_PREFACE, 0, prefaceSeen, 0, prefaceSeen) !== 0) {
    throw invalid('no transport.l5d.io/v1 preface');
  }
  if (bytes.length < PREFACE_AND_LENGTH) return { kind: 'incomplete' };
  const length = bytes.readUInt32BE(TRANSPORT_HEADER_PREFACE.length);
  if (length > maxBytes) throw invalid(`header length ${length} exceeds ${maxBytes} bytes`);
  if (bytes.length < PREFACE_AND_LENGTH + length) return { kind: 'incomplete' };
  const body = bytes.subarray(PREFACE_AND_LENGTH, PREFACE_AND_LENGTH + length);
  let decoded;
  try {
    decoded = TransportHeaderCodec.decode(body, 'transport.l5d.io/v1 header');
  } catch (err) {
    throw invalid(err instanceof Error ? err.message : String(err));
  }
  const port = decoded.port ?? 0;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw invalid(`port ${port} is not 1-65535`);
  const name = decoded.name ?? '';
  if (name !== '' && !DNS_NAME.test(name))
    throw invalid(`name ${JSON.stringify(name.slice(0, 80))} is not a DNS name`);
  const session = decoded.sessionProtocol;
  const protocol: SessionProtocol | undefined = session?.http1
    ? 'http1'
    : session?.http2
      ? 'http2'
      : undefined;
  const header: TransportHeader = {
    port,
    ...(name === '' ? {} : { name: name.replace(/\.$/, '') }),
    ...(protocol === undefined ? {} : { protocol }),
  };
  return { kind: 'header', header, consumed: PREFACE_AND_LENGTH + length };
}
