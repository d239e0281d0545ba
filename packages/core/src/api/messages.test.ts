// Every message type of the proxy API round-trips through the generated code, and the generated
// code agrees byte for byte with protobufjs' own reading of the .proto files.
import { describe, expect, it } from 'vitest';
import {
  allMessageTypes,
  COMPARABLE,
  fullName,
  generatedClass,
  loadProtoRoot,
  sampleMessages,
} from './proto-reflection.test-support.js';
import { createMessageCodec } from './message-codec.js';
import {
  destination,
  grpcRoute,
  httpRoute,
  httpTypes,
  identity,
  inbound,
  meta,
  net,
  opaqueRoute,
  outbound,
  tap,
  tlsRoute,
  transportHeader,
  wellKnown,
} from './messages.js';

const root = loadProtoRoot();
const types = allMessageTypes(root);

describe('proxy API message types', () => {
  it('covers every package and message of the .proto files', () => {
    const packages = new Set(types.map((type) => fullName(type.parent!).split('.').slice(0, 4).join('.')));
    expect(types.length).toBeGreaterThan(150);
    for (const name of [
      'io.linkerd.proxy.destination',
      'io.linkerd.proxy.identity',
      'io.linkerd.proxy.inbound',
      'io.linkerd.proxy.outbound',
      'io.linkerd.proxy.tap',
    ]) {
      expect(packages).toContain(name);
    }
    for (const type of types) expect(() => generatedClass(fullName(type))).not.toThrow();
  });

  it('exports one short-named namespace per protobuf package', () => {
    expect(destination.Update).toBe(generatedClass('io.linkerd.proxy.destination.Update'));
    const namespaces = {
      destination,
      identity,
      inbound,
      outbound,
      tap,
      net,
      meta,
      httpTypes,
      httpRoute,
      grpcRoute,
      opaqueRoute,
      tlsRoute,
      transportHeader,
      wellKnown,
    };
    for (const [alias, ns] of Object.entries(namespaces)) {
      expect(Object.keys(ns as object).length, alias).toBeGreaterThan(0);
    }
    expect(transportHeader.Header).toBe(generatedClass('transport.l5d.io.Header'));
    expect(wellKnown.Duration).toBe(generatedClass('google.protobuf.Duration'));
  });

  describe.each(types.map((type) => [fullName(type), type] as const))('%s', (name, type) => {
    const generated = generatedClass(name);
    const codec = createMessageCodec(generated, name);

    it('round-trips sample messages (encode → decode → equal, byte-stable)', () => {
      for (const sample of sampleMessages(type)) {
        const expected = generated.toObject(generated.fromObject(sample), COMPARABLE);
        const bytes = codec.encode(generated.fromObject(sample));
        const decoded = codec.decode(bytes);
        expect(generated.toObject(decoded, COMPARABLE)).toEqual(expected);
        expect(Buffer.from(codec.encode(decoded))).toEqual(Buffer.from(bytes));
      }
    });

    it('encodes exactly as protobufjs reads the .proto file', () => {
      for (const sample of sampleMessages(type)) {
        const reflected = Buffer.from(type.encode(type.fromObject(sample)).finish());
        expect(codec.encode(generated.fromObject(sample))).toEqual(reflected);
      }
    });

    it('decodes the empty message to defaults', () => {
      expect(generated.toObject(codec.decode(new Uint8Array()), COMPARABLE)).toEqual({});
    });
  });
});
