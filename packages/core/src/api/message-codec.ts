// Encoding and decoding of one protobuf message type, with the one error policy of the proxy API:
// decoding never throws anything but a MeshError with code `decode` that names the message type,
// the place and the reason. Bytes come from the network, so a malformed message is an expected
// input, not a bug, and must reach the caller as a clear INVALID_ARGUMENT rather than a crash.
import type { Reader, Writer } from 'protobufjs/minimal.js';
import { MeshError, MeshErrorCode } from '../errors/index.js';

/** The static side of a generated message class. */
export interface MessageClass<Decoded, Properties> {
  encode(message: Properties, writer?: Writer): Writer;
  decode(reader: Reader | Uint8Array, length?: number): Decoded;
}

export interface MessageCodec<Decoded, Properties> {
  /** The fully qualified protobuf name, e.g. `io.linkerd.proxy.destination.Update`. */
  readonly typeName: string;
  /** Encode a message (a generated instance or a plain object of its properties). */
  encode(message: Properties): Buffer;
  /**
   * Decode bytes. Throws only MeshError (code `decode`); `where` says where the bytes came from
   * (for example the gRPC method and direction) and defaults to the type name.
   */
  decode(bytes: Uint8Array, where?: string): Decoded;
}

/** The upstream proxy API release whose wire format proto/*.proto follows. */
export const PROXY_API_VERSION = 'linkerd2-proxy-api v0.20.0';

export function createMessageCodec<Decoded, Properties>(
  type: MessageClass<Decoded, Properties>,
  typeName: string,
): MessageCodec<Decoded, Properties> {
  return Object.freeze({
    typeName,
    encode(message: Properties): Buffer {
      let bytes: Uint8Array;
      try {
        bytes = type.encode(message).finish();
      } catch (err) {
        // The caller built a message of the wrong shape: a bug on our side, not bad input.
        throw new MeshError(MeshErrorCode.Internal, `cannot encode ${typeName}: ${reasonOf(err)}`, {
          cause: err,
          where: typeName,
        });
      }
      return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    },
    decode(bytes: Uint8Array, where: string = typeName): Decoded {
      return decodeMessage(type, typeName, bytes, where);
    },
  });
}

/** Decode `bytes` as `typeName`; any failure becomes a MeshError with code `decode`. */
export function decodeMessage<Decoded>(
  type: Pick<MessageClass<Decoded, never>, 'decode'>,
  typeName: string,
  bytes: Uint8Array,
  where: string = typeName,
): Decoded {
  if (!(bytes instanceof Uint8Array)) {
    throw new MeshError(
      MeshErrorCode.Decode,
      `cannot decode ${typeName}: expected bytes, got ${typeof bytes}`,
      {
        where,
      },
    );
  }
  try {
    return type.decode(bytes);
  } catch (err) {
    throw new MeshError(
      MeshErrorCode.Decode,
      `cannot decode ${typeName} (${bytes.byteLength} bytes): ${reasonOf(err)}`,
      {
        cause: err,
        where,
        hint: `the bytes must be a protobuf-encoded ${typeName}`,
      },
    );
  }
}

function reasonOf(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}
