// Decoding bytes from the network never throws anything but MeshError(decode): checked with
// fast-check over every message type, for random bytes and for truncated valid messages.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GrpcStatus, MeshError, MeshErrorCode, toGrpcStatus } from '../errors/index.js';
import { createMessageCodec, decodeMessage, type MessageCodec } from './message-codec.js';
import { destination, identity } from './messages.js';
import {
  allMessageTypes,
  fullName,
  generatedClass,
  loadProtoRoot,
  sampleMessages,
} from './proto-reflection.test-support.js';

const types = allMessageTypes(loadProtoRoot());
const codecs = types.map((type) => {
  const name = fullName(type);
  const generated = generatedClass(name);
  return { name, generated, codec: createMessageCodec(generated, name), samples: sampleMessages(type) };
});

/** Decode, and fail the property if anything but MeshError(decode) is thrown. */
function decodeOrDecodeError(codec: MessageCodec<object, object>, bytes: Uint8Array): boolean {
  try {
    codec.decode(bytes);
    return true;
  } catch (err) {
    if (!(err instanceof MeshError) || err.code !== MeshErrorCode.Decode) throw err;
    expect(err.message).toContain(codec.typeName);
    return false;
  }
}

describe('decoding untrusted bytes', () => {
  it('yields a message or MeshError(decode) for random bytes, for every message type', () => {
    const anyType = fc.constantFrom(...codecs);
    fc.assert(
      fc.property(anyType, fc.uint8Array({ maxLength: 96 }), ({ codec }, bytes) => {
        decodeOrDecodeError(codec, bytes);
      }),
      { numRuns: 20_000 },
    );
  });

  it('yields a message or MeshError(decode) for every truncation of a valid message', () => {
    let rejected = 0;
    for (const { codec, generated, samples } of codecs) {
      for (const sample of samples) {
        const bytes = codec.encode(generated.fromObject(sample));
        for (let end = 0; end < bytes.length; end++) {
          if (!decodeOrDecodeError(codec, bytes.subarray(0, end))) rejected++;
        }
      }
    }
    // Most cuts land inside a field; those must have been reported, not silently accepted.
    expect(rejected).toBeGreaterThan(1000);
  });

  it('yields a message or MeshError(decode) for valid messages with random corruption', () => {
    const withSample = fc
      .constantFrom(...codecs.filter(({ samples }) => samples.length > 0))
      .chain((entry) => fc.tuple(fc.constant(entry), fc.nat(entry.samples.length - 1)));
    fc.assert(
      fc.property(
        withSample,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        ([{ codec, generated, samples }, index], edits) => {
          const bytes = Buffer.from(codec.encode(generated.fromObject(samples[index]!)));
          for (const [at, value] of edits) if (bytes.length > 0) bytes[at % bytes.length] = value;
          decodeOrDecodeError(codec, bytes);
        },
      ),
      { numRuns: 5_000 },
    );
  });

  it('rejects absurdly deep nesting with MeshError(decode) instead of overflowing the stack', () => {
    // RequestMatch { not: RequestMatch { not: ... } }, far past protobufjs' limit of 100 levels.
    let inner: Buffer = Buffer.alloc(0);
    for (let depth = 0; depth < 5_000; depth++) {
      inner = Buffer.concat([Buffer.from([0x1a]), varint(inner.length), inner]);
    }
    const codec = createMessageCodec(destination.RequestMatch, 'io.linkerd.proxy.destination.RequestMatch');
    expect(() => codec.decode(inner)).toThrow(MeshError);
  });

  it('describes what failed and where, and maps to INVALID_ARGUMENT', () => {
    const codec = createMessageCodec(identity.CertifyRequest, 'io.linkerd.proxy.identity.CertifyRequest');
    let caught: unknown;
    try {
      // Field 1 (identity) claims 5 bytes; 1 follows.
      codec.decode(Buffer.from([0x0a, 0x05, 0x41]), '/io.linkerd.proxy.identity.Identity/Certify request');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(MeshError);
    const err = caught as MeshError;
    expect(err.code).toBe(MeshErrorCode.Decode);
    expect(err.where).toBe('/io.linkerd.proxy.identity.Identity/Certify request');
    expect(err.describe()).toMatch(
      /^\/io\.linkerd\.proxy\.identity\.Identity\/Certify request: cannot decode io\.linkerd\.proxy\.identity\.CertifyRequest \(3 bytes\): .+ \(the bytes must be a protobuf-encoded io\.linkerd\.proxy\.identity\.CertifyRequest\)$/,
    );
    expect(err.cause).toBeInstanceOf(Error);
    expect(toGrpcStatus(err).code).toBe(GrpcStatus.INVALID_ARGUMENT);
  });

  it('rejects input that is not bytes', () => {
    expect(() =>
      decodeMessage(
        identity.CertifyRequest,
        'io.linkerd.proxy.identity.CertifyRequest',
        'x' as unknown as Uint8Array,
      ),
    ).toThrow(/expected bytes, got string/);
  });
});

describe('encoding', () => {
  it('returns a Buffer, as grpc-js serializers must', () => {
    const codec = createMessageCodec(identity.CertifyRequest, 'io.linkerd.proxy.identity.CertifyRequest');
    const bytes = codec.encode({ identity: 'a', token: Buffer.from('t') });
    expect(Buffer.isBuffer(bytes)).toBe(true);
    expect(codec.decode(bytes).identity).toBe('a');
  });

  it('reports a message it cannot write as MeshError(internal), not a bare TypeError', () => {
    const codec = createMessageCodec(destination.Update, 'io.linkerd.proxy.destination.Update');
    const broken = { add: { addrs: [null] } } as unknown as destination.Update.$Properties;
    expect(() => codec.encode(broken)).toThrow(MeshError);
    try {
      codec.encode(broken);
    } catch (err) {
      expect((err as MeshError).code).toBe(MeshErrorCode.Internal);
      expect((err as MeshError).message).toMatch(/^cannot encode io\.linkerd\.proxy\.destination\.Update: /);
    }
  });
});

function varint(value: number): Buffer {
  const out: number[] = [];
  let v = value;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return Buffer.from(out);
}
