import { MeshError } from '@tsmesh/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  encodeTransportHeader,
  parseTransportHeader,
  TRANSPORT_HEADER_PREFACE,
  type TransportHeader,
} from './header-codec.js';

const headerArb: fc.Arbitrary<TransportHeader> = fc.record(
  {
    port: fc.integer({ min: 1, max: 65535 }),
    name: fc.domain(),
    protocol: fc.constantFrom('http1' as const, 'http2' as const),
  },
  { requiredKeys: ['port'] },
);

/** Linkerd's own bytes, written out by hand from the proto (field numbers and wire types). */
function linkerdBytes(port: number, name: string, http2: boolean): Buffer {
  const varint = (n: number) => {
    const out: number[] = [];
    while (n > 0x7f) {
      out.push((n & 0x7f) | 0x80);
      n >>>= 7;
    }
    out.push(n);
    return out;
  };
  const body = Buffer.from([
    0x08,
    ...varint(port),
    0x12,
    ...varint(name.length),
    ...Buffer.from(name),
    ...(http2 ? [0x1a, 0x02, 0x12, 0x00] : []),
  ]);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  return Buffer.concat([Buffer.from('transport.l5d.io/v1\r\n\r\n'), len, body]);
}

describe('transport header codec', () => {
  it('writes exactly the bytes linkerd2-proxy writes', () => {
    expect(encodeTransportHeader({ port: 4040, name: 'foo.bar.example.com', protocol: 'http2' })).toEqual(
      linkerdBytes(4040, 'foo.bar.example.com', true),
    );
  });

  it('round-trips any header, leaving the session bytes after it', () => {
    fc.assert(
      fc.property(headerArb, fc.uint8Array({ maxLength: 64 }), (header, tail) => {
        const frame = encodeTransportHeader(header);
        const parsed = parseTransportHeader(Buffer.concat([frame, tail]));
        expect(parsed).toEqual({ kind: 'header', header, consumed: frame.length });
      }),
    );
  });

  it('asks for more bytes on every proper prefix of a header', () => {
    fc.assert(
      fc.property(headerArb, (header) => {
        const frame = encodeTransportHeader(header);
        for (let n = 0; n < frame.length; n++) {
          expect(parseTransportHeader(frame.subarray(0, n)).kind).toBe('incomplete');
        }
      }),
    );
  });

  it('never throws anything but a MeshError on random bytes, with or without a preface', () => {
    const check = (bytes: Buffer) => {
      try {
        parseTransportHeader(bytes);
      } catch (err) {
        expect(MeshError.is(err)).toBe(true);
        expect((err as MeshError).message).toMatch(/^invalid transport header: /);
      }
    };
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (b) => check(Buffer.from(b))));
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (b) =>
        check(Buffer.concat([TRANSPORT_HEADER_PREFACE, Buffer.from(b)])),
      ),
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 300 }), fc.uint8Array({ maxLength: 300 }), (len, b) => {
        const length = Buffer.alloc(4);
        length.writeUInt32BE(len);
        check(Buffer.concat([TRANSPORT_HEADER_PREFACE, length, Buffer.from(b)]));
      }),
    );
  });

  it('refuses what Linkerd refuses: no preface, port 0 or above 65535, a non-DNS name, an oversized length', () => {
    const reason = (bytes: Buffer) => {
      try {
        parseTransportHeader(bytes);
        return 'accepted';
      } catch (err) {
        return (err as Error).message;
      }
    };
    expect(reason(Buffer.from('GET / HTTP/1.1\r\n\r\n'))).toMatch(/no transport.l5d.io\/v1 preface/);
    expect(reason(linkerdBytes(0, 'a.b', false))).toMatch(/port 0/);
    expect(reason(linkerdBytes(70000, 'a.b', false))).toMatch(/port 70000/);
    expect(reason(linkerdBytes(80, 'bad name!', false))).toMatch(/not a DNS name/);
    const huge = Buffer.concat([TRANSPORT_HEADER_PREFACE, Buffer.from([0xff, 0xff, 0xff, 0xff])]);
    expect(reason(huge)).toMatch(/exceeds/);
  });
});
