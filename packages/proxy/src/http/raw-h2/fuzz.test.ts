// Property test: after a valid preface and SETTINGS, random frame sequences (well-framed frames of
// every type with random flags, ids and payloads, valid and invalid requests, stray bytes) sent to
// our server over a real socket never throw out of the socket's data handler; the connection either
// keeps going (it answers a PING sent after them) or ends with GOAWAY and a closed socket; and the
// server keeps serving new connections. Fixed seed and run count: deterministic in CI.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { H2ConnectionError } from './connection.js';
import { CLIENT_PREFACE, Flag, FrameType, Setting } from './frames.js';
import {
  frame,
  RawPeer,
  requestHead,
  settingsFrame,
  startServer,
  stillServes,
  u32,
  waitUntil,
  withTimeout,
  type TestServer,
} from './h2-peers.test-support.js';

type Op =
  | { kind: 'raw'; type: number; flags: number; id: number; payload: Uint8Array }
  | { kind: 'headers'; id: number; fields: string[]; flags: number; split: number }
  | { kind: 'data'; id: number; length: number; flags: number }
  | { kind: 'settings'; entries: [number, number][] }
  | { kind: 'window'; id: number; increment: number }
  | { kind: 'bytes'; bytes: Uint8Array };

const streamId = fc.constantFrom(0, 1, 2, 3, 5, 7, 9, 0x7fffffff);
/** Mostly streams the headers below open. */
const openStreamId = fc.constantFrom(1, 1, 1, 3, 3, 5, 0, 2, 9, 0x7fffffff);
const path = fc.constantFrom('/', '/echo', '/hold', '/reset', '/trailers-only', '/grpc', '/sha');
const fieldName = fc.constantFrom(
  ':method',
  ':path',
  ':scheme',
  ':authority',
  ':status',
  'te',
  'connection',
  'x-a',
  'X-B',
  'content-length',
  'grpc-status',
  '',
);
const fieldValue = fc.constantFrom(
  'GET',
  'POST',
  '/',
  'http',
  'trailers',
  'close',
  '1',
  '',
  'a\r\nb',
  'x'.repeat(100),
);
const fields = fc.oneof(
  path.map((p) => requestHead(p, 'POST')),
  path.map((p) => requestHead(p, 'GET')),
  fc.array(fc.tuple(fieldName, fieldValue), { maxLength: 6 }).map((pairs) => pairs.flat()),
);
const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('raw' as const),
      type: fc.integer({ min: 0, max: 12 }),
      flags: fc.integer({ min: 0, max: 255 }),
      id: streamId,
      payload: fc.uint8Array({ maxLength: 24 }),
    }),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('headers' as const),
      id: fc.constantFrom(1, 1, 3, 5, 7, 9, 11, 2, 0),
      fields,
      flags: fc.constantFrom(
        Flag.EndHeaders,
        Flag.EndHeaders | Flag.EndStream,
        Flag.EndHeaders | Flag.Padded,
        Flag.EndStream,
      ),
      split: fc.integer({ min: 0, max: 5 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('data' as const),
      id: openStreamId,
      length: fc.integer({ min: 0, max: 20_000 }),
      flags: fc.constantFrom(0, Flag.EndStream, Flag.Padded),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('settings' as const),
      entries: fc.array(
        fc.tuple(
          fc.integer({ min: 0, max: 9 }),
          fc.oneof(fc.integer({ min: 0, max: 70_000 }), fc.constant(0x7fffffff), fc.constant(0x80000000)),
        ),
        { maxLength: 3 },
      ),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('window' as const),
      id: openStreamId,
      increment: fc.oneof(fc.integer({ min: 0, max: 100_000 }), fc.constant(0x7fffffff)),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('bytes' as const),
      bytes: fc.uint8Array({ minLength: 1, maxLength: 32 }),
    }),
  },
);

function build(peer: RawPeer, o: Op): Buffer {
  switch (o.kind) {
    case 'raw':
      return frame(o.type, o.flags, o.id, Buffer.from(o.payload));
    case 'headers': {
      const block = peer.block(o.fields);
      if (o.split === 0 || o.split > 3 || block.length < 2)
        return frame(FrameType.Headers, o.flags, o.id, block);
      // The block in two: HEADERS without END_HEADERS, then a CONTINUATION with the flag as drawn.
      const cut = Math.floor(block.length / 2);
      return Buffer.concat([
        frame(FrameType.Headers, o.flags & ~Flag.EndHeaders, o.id, block.subarray(0, cut)),
        frame(
          FrameType.Continuation,
          o.split === 3 ? 0 : Flag.EndHeaders,
          o.split === 2 ? o.id + 2 : o.id,
          block.subarray(cut),
        ),
      ]);
    }
    case 'data': {
      const body = Buffer.alloc(Math.min(o.length, 16_384), 0x62);
      if ((o.flags & Flag.Padded) !== 0 && body.length > 0) body[0] = body.length - 1;
      return frame(FrameType.Data, o.flags, o.id, body);
    }
    case 'settings':
      return settingsFrame(o.entries);
    case 'window':
      return frame(FrameType.WindowUpdate, 0, o.id, u32(o.increment));
    case 'bytes':
      return Buffer.from(o.bytes);
  }
}

let server: TestServer;
const uncaught: unknown[] = [];
const onUncaught = (e: unknown) => uncaught.push(e);

beforeAll(async () => {
  process.on('uncaughtException', onUncaught);
  server = await startServer({ initialWindowSize: 65_535, connectionWindowSize: 65_535 });
});
afterAll(async () => {
  process.off('uncaughtException', onUncaught);
  await server.close();
});

const PROBE = Buffer.from('fuzzprob');

describe('random frames after a valid preface', () => {
  it('never throw, end with GOAWAY or keep going, and leave the server serving', async () => {
    const outcomes = { alive: 0, goaway: 0, stalled: 0, peerGoaway: 0 };
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 6 }), async (ops) => {
        const before = server.owners.length;
        const peer = new RawPeer(server.port);
        try {
          await peer.connected();
          await waitUntil(() => server.owners.length > before, 'server connection');
          const owner = server.owners[before]!;
          peer.send(
            CLIENT_PREFACE,
            settingsFrame([[Setting.InitialWindowSize, 1 << 20]]),
            ...ops.map((o) => build(peer, o)),
            frame(FrameType.Ping, 0, 0, PROBE),
          );
          let closed = false;
          void peer.closed.then(() => (closed = true));
          const acked = () =>
            peer.frames.some(
              (f) => f.type === FrameType.Ping && f.flags === Flag.Ack && f.payload.equals(PROBE),
            );
          try {
            await waitUntil(() => acked() || closed, 'the PING answer or the end', 1000);
          } catch {
            // Stray bytes may have started a frame that swallows the PING: the connection waits for more.
            expect(ops.some((o) => o.kind === 'bytes')).toBe(true);
            outcomes.stalled++;
            return;
          }
          expect(uncaught).toEqual([]);
          const goaway = peer.frames.find((f) => f.type === FrameType.Goaway);
          if (acked() && goaway === undefined) {
            outcomes.alive++;
            expect(owner.closedWith).toBeUndefined();
            return;
          }
          await withTimeout(peer.closed, 'the socket closed', 3000);
          await withTimeout(owner.closed, 'h2Closed', 3000);
          if (goaway !== undefined) {
            outcomes.goaway++;
            expect(owner.closedWith!.error).toBeInstanceOf(H2ConnectionError);
            expect(owner.protocolErrors.length).toBeGreaterThan(0);
          } else {
            // The peer's own GOAWAY (a raw frame of type 7) let the server close gracefully.
            expect(ops.some((o) => o.kind === 'raw' && o.type === FrameType.Goaway && o.id === 0)).toBe(true);
            outcomes.peerGoaway++;
          }
        } finally {
          peer.destroy();
        }
      }),
      { numRuns: 400, seed: 0x5eed_42, endOnFailure: true },
    );
    expect(uncaught).toEqual([]);
    // Both outcomes were exercised.
    expect(outcomes.alive).toBeGreaterThan(15);
    expect(outcomes.goaway).toBeGreaterThan(100);
    await stillServes(server);
  }, 30_000);
});
