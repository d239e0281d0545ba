// Interop with nghttp2's HPACK through node:http2: our encoder's blocks must decode there, and its
// blocks must decode here, over several streams so that both dynamic tables come into play.
import http2 from 'node:http2';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ByteSink } from './byte-sink.js';
import { HpackDecoder } from './decoder.js';
import { HpackEncoder } from './encoder.js';
import { huffmanEncode, huffmanEncodedLength } from './huffman.js';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
const HEADERS = 0x1;
const SETTINGS = 0x4;
const CONTINUATION = 0x9;
const END_STREAM = 0x1;
const END_HEADERS = 0x4;
const PADDED = 0x8;
const PRIORITY = 0x20;

function frame(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(streamId, 5);
  return Buffer.concat([head, payload]);
}

interface RawFrame {
  type: number;
  flags: number;
  streamId: number;
  payload: Buffer;
}

/** Splits complete frames off the front of `buf`; returns them and what is left. */
function parseFrames(buf: Buffer): { frames: RawFrame[]; rest: Buffer } {
  const frames: RawFrame[] = [];
  let at = 0;
  while (buf.length - at >= 9) {
    const length = buf.readUIntBE(at, 3);
    if (buf.length - at < 9 + length) break;
    frames.push({
      type: buf[at + 3]!,
      flags: buf[at + 4]!,
      streamId: buf.readUInt32BE(at + 5) & 0x7fffffff,
      payload: buf.subarray(at + 9, at + 9 + length),
    });
    at += 9 + length;
  }
  return { frames, rest: buf.subarray(at) };
}

/** A HEADERS payload without its padding and priority fields: the header block fragment. */
function headerFragment(f: RawFrame): Buffer {
  let start = 0;
  let end = f.payload.length;
  if (f.flags & PADDED) {
    end -= f.payload[0]!;
    start = 1;
  }
  if (f.flags & PRIORITY) start += 5;
  return f.payload.subarray(start, end);
}

const LONG_VALUE = 'the quick brown fox jumps over the lazy dog; '.repeat(6).trim();

let cleanup: (() => void)[] = [];
afterEach(() => {
  for (const fn of cleanup.reverse()) fn();
  cleanup = [];
});

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

describe('HPACK interop with node:http2 (nghttp2)', () => {
  it('nghttp2 decodes our blocks and we decode its blocks, over several streams', async () => {
    const seen = new Map<number, { headers: http2.IncomingHttpHeaders; sensitive: string[] }>();
    const server = http2.createServer();
    server.on('stream', (stream, headers) => {
      const sensitive =
        ((headers as Record<symbol, unknown>)[http2.sensitiveHeaders] as string[] | undefined) ?? [];
      seen.set(stream.id ?? -1, { headers, sensitive });
      stream.respond(
        {
          ':status': 200,
          'content-type': 'text/plain',
          'x-long': LONG_VALUE,
          'x-same': 'repeated-value',
          'x-stream': String(stream.id),
        },
        { endStream: true },
      );
    });
    server.on('sessionError', () => {});
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanup.push(() => server.close());
    const { port } = server.address() as AddressInfo;

    const socket = net.connect(port, '127.0.0.1');
    cleanup.push(() => socket.destroy());
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('error', reject);
      }),
      5000,
      'connect',
    );

    // Collect the server's header blocks per stream (HEADERS + CONTINUATION) and ack its SETTINGS.
    const blocks: { streamId: number; block: Buffer }[] = [];
    const partial = new Map<number, Buffer[]>();
    let pending: Buffer = Buffer.alloc(0);
    const done = withTimeout(
      new Promise<void>((resolve, reject) => {
        socket.on('error', reject);
        socket.on('close', () => reject(new Error('server closed the connection')));
        socket.on('data', (chunk: Buffer) => {
          const { frames, rest } = parseFrames(Buffer.concat([pending, chunk]));
          pending = rest;
          for (const f of frames) {
            if (f.type === SETTINGS && (f.flags & 0x1) === 0)
              socket.write(frame(SETTINGS, 0x1, 0, Buffer.alloc(0)));
            if (f.type === 0x7) reject(new Error(`GOAWAY: ${f.payload.subarray(8).toString()}`));
            if (f.type !== HEADERS && f.type !== CONTINUATION) continue;
            const parts = partial.get(f.streamId) ?? [];
            parts.push(f.type === HEADERS ? headerFragment(f) : f.payload);
            partial.set(f.streamId, parts);
            if (f.flags & END_HEADERS) {
              blocks.push({ streamId: f.streamId, block: Buffer.concat(parts) });
              partial.delete(f.streamId);
              if (blocks.length === 3) resolve();
            }
          }
        });
      }),
      10_000,
      'three responses',
    );

    const encoder = new HpackEncoder();
    const sink = new ByteSink();
    const requests: string[][] = [1, 3, 5].map((id) => [
      ':method',
      'GET',
      ':scheme',
      'http',
      ':authority',
      'svc.ns.svc.cluster.local:8080',
      ':path',
      `/items/${id}?q=caf\u00e9`,
      'user-agent',
      'tsmesh-hpack-test/1.0',
      'x-repeat',
      'same every time',
      'x-varies',
      `value-${id}`,
      'authorization',
      'Bearer secret-token',
      'cookie',
      'a=1',
      'x-request-id',
      `req-${id}`,
      'accept-encoding',
      'gzip, deflate',
    ]);
    const out: Buffer[] = [PREFACE, frame(SETTINGS, 0, 0, Buffer.alloc(0))];
    const sizes: number[] = [];
    for (const [i, fields] of requests.entries()) {
      encoder.encode(fields, sink);
      const block = sink.take();
      sizes.push(block.length);
      out.push(frame(HEADERS, END_HEADERS | END_STREAM, 1 + 2 * i, block));
    }
    socket.write(Buffer.concat(out));
    await done;

    // nghttp2 saw exactly our fields, with the never-indexed ones flagged as sensitive.
    for (const [i, fields] of requests.entries()) {
      const got = seen.get(1 + 2 * i);
      expect(got, `stream ${1 + 2 * i}`).toBeDefined();
      for (let f = 0; f < fields.length; f += 2) {
        const name = fields[f]!;
        // Node reads field values as latin1 strings.
        expect(got!.headers[name], name).toBe(fields[f + 1]);
      }
      expect(got!.sensitive).toEqual(expect.arrayContaining(['authorization', 'cookie']));
    }
    // The later requests were much smaller: their repeated fields were table references.
    expect(encoder.tableLength).toBeGreaterThan(3);
    expect(sizes[1]).toBeLessThan(sizes[0]! * 0.6);
    expect(sizes[2]).toBe(sizes[1]);

    // We decode nghttp2's responses, in order, with one decoder.
    const longHuffman = Buffer.alloc(huffmanEncodedLength(LONG_VALUE));
    huffmanEncode(LONG_VALUE, longHuffman, 0);
    const decoder = new HpackDecoder();
    for (const [i, { streamId, block }] of blocks.entries()) {
      expect(streamId).toBe(1 + 2 * i);
      const fields: string[] = [];
      decoder.decode(block, fields);
      const byName = new Map<string, string>();
      for (let f = 0; f < fields.length; f += 2) byName.set(fields[f]!, fields[f + 1]!);
      expect(byName.get(':status')).toBe('200');
      expect(byName.get('content-type')).toBe('text/plain');
      expect(byName.get('x-long')).toBe(LONG_VALUE);
      expect(byName.get('x-same')).toBe('repeated-value');
      expect(byName.get('x-stream')).toBe(String(streamId));
      expect(byName.has('date')).toBe(true);
      // nghttp2 Huffman-codes the long value and indexes it: later blocks are a few bytes per field.
      if (i === 0) expect(block.includes(longHuffman), 'x-long Huffman-coded as we would').toBe(true);
      else expect(block.length).toBeLessThan(40);
    }
    expect(decoder.tableLength).toBeGreaterThan(2);
  });
});
