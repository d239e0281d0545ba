// Our HTTP/2 server against a raw socket peer writing frames by hand: what well-behaved clients never
// send. Connection errors (RFC 9113 §5.4.1) must end with GOAWAY and the code, tell the owner why,
// close the socket and leave the server serving; stream errors (§5.4.2) reset only their stream.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { H2ConnectionError } from './connection.js';
import { CLIENT_PREFACE, Flag, FrameType, H2Error, Setting } from './frames.js';
import {
  frame,
  pattern,
  rawConnect,
  requestHead,
  settingsFrame,
  startServer,
  stillServes,
  u32,
  waitUntil,
  withTimeout,
  type RawPeer,
  type RecordingOwner,
  type TestServer,
} from './h2-peers.test-support.js';

let server: TestServer;
const peers: RawPeer[] = [];

beforeAll(async () => {
  server = await startServer();
});
afterEach(() => {
  for (const p of peers.splice(0)) p.destroy();
});
afterAll(async () => {
  await server.close();
});

/** The peer got GOAWAY(code), the socket closed, the owner heard why and that the connection closed. */
async function expectConnectionError(
  peer: RawPeer,
  owner: RecordingOwner,
  code: number,
  message: RegExp,
): Promise<void> {
  const g = await peer.goaway();
  expect(h2Name(g.code)).toBe(h2Name(code));
  await withTimeout(peer.closed, 'the socket closed', 3000);
  const err = await withTimeout(owner.closed, 'h2Closed');
  expect(err).toBeInstanceOf(H2ConnectionError);
  expect((err as H2ConnectionError).code).toBe(code);
  expect(owner.protocolErrors.length).toBeGreaterThan(0);
  expect(owner.protocolErrors.join('\n')).toMatch(message);
  expect(g.debug).toMatch(message);
  await stillServes(server);
}

function h2Name(code: number): string {
  return Object.entries(H2Error).find(([, v]) => v === code)?.[0] ?? String(code);
}

const GET = (path = '/') => requestHead(path, 'GET');

describe('connection errors: GOAWAY with the code, the socket closed, the server still serving', () => {
  it('a bad preface → PROTOCOL_ERROR', async () => {
    const { peer, owner } = await rawConnect(server, peers);
    peer.send(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    await expectConnectionError(peer, owner, H2Error.PROTOCOL_ERROR, /preface/);
  });

  it('accepts a preface that arrives a byte at a time', async () => {
    const { peer, owner } = await rawConnect(server, peers);
    const bytes = Buffer.concat([CLIENT_PREFACE, settingsFrame(), peer.headersFrame(1, GET(), true)]);
    for (let i = 0; i < bytes.length; i++) {
      peer.send(bytes.subarray(i, i + 1));
      if (i % 8 === 0) await new Promise((r) => setImmediate(r));
    }
    await peer.waitFrame(
      (f) => f.type === FrameType.Data && f.id === 1 && (f.flags & Flag.EndStream) !== 0,
      'the response',
    );
    expect(peer.headers.get(1)![0]!.slice(0, 2)).toEqual([':status', '200']);
    expect(owner.protocolErrors).toEqual([]);
  });

  // Frames after a valid preface and SETTINGS, each ending the connection.
  const cases: [string, (p: RawPeer) => Buffer[], number, RegExp][] = [
    [
      'a frame above 16384 bytes → FRAME_SIZE_ERROR',
      () => [frame(FrameType.Data, 0, 1, Buffer.alloc(16385))],
      H2Error.FRAME_SIZE_ERROR,
      /16385 bytes/,
    ],
    [
      'DATA on stream 0 → PROTOCOL_ERROR',
      () => [frame(FrameType.Data, 0, 0, Buffer.from('x'))],
      H2Error.PROTOCOL_ERROR,
      /DATA on stream 0/,
    ],
    [
      'HEADERS on stream 0 → PROTOCOL_ERROR',
      (p) => [p.headersFrame(0, GET(), true)],
      H2Error.PROTOCOL_ERROR,
      /HEADERS on stream 0/,
    ],
    [
      'HEADERS with HPACK index 0 → COMPRESSION_ERROR',
      () => [frame(FrameType.Headers, Flag.EndHeaders | Flag.EndStream, 1, [0x80])],
      H2Error.COMPRESSION_ERROR,
      /decode.*index 0/,
    ],
    [
      'HEADERS with an HPACK index beyond the tables → COMPRESSION_ERROR',
      () => [frame(FrameType.Headers, Flag.EndHeaders, 1, [0xff, 0x00])],
      H2Error.COMPRESSION_ERROR,
      /decode/,
    ],
    [
      'HEADERS on an even (server) stream id → PROTOCOL_ERROR',
      (p) => [p.headersFrame(2, GET(), true)],
      H2Error.PROTOCOL_ERROR,
      /stream 2/,
    ],
    [
      'WINDOW_UPDATE of 0 on stream 0 → PROTOCOL_ERROR',
      () => [frame(FrameType.WindowUpdate, 0, 0, u32(0))],
      H2Error.PROTOCOL_ERROR,
      /WINDOW_UPDATE of 0/,
    ],
    [
      'a connection window above 2^31-1 → FLOW_CONTROL_ERROR',
      () => [frame(FrameType.WindowUpdate, 0, 0, u32(0x7fffffff))],
      H2Error.FLOW_CONTROL_ERROR,
      /above 2\^31-1/,
    ],
    [
      'WINDOW_UPDATE not 4 bytes → FRAME_SIZE_ERROR',
      () => [frame(FrameType.WindowUpdate, 0, 0, [0, 0, 1])],
      H2Error.FRAME_SIZE_ERROR,
      /not 4 bytes/,
    ],
    [
      'SETTINGS_INITIAL_WINDOW_SIZE 2^31 → FLOW_CONTROL_ERROR',
      () => [settingsFrame([[Setting.InitialWindowSize, 0x80000000]])],
      H2Error.FLOW_CONTROL_ERROR,
      /INITIAL_WINDOW_SIZE/,
    ],
    [
      'SETTINGS_MAX_FRAME_SIZE 100 → PROTOCOL_ERROR',
      () => [settingsFrame([[Setting.MaxFrameSize, 100]])],
      H2Error.PROTOCOL_ERROR,
      /MAX_FRAME_SIZE/,
    ],
    [
      'SETTINGS_ENABLE_PUSH 2 → PROTOCOL_ERROR',
      () => [settingsFrame([[Setting.EnablePush, 2]])],
      H2Error.PROTOCOL_ERROR,
      /ENABLE_PUSH/,
    ],
    [
      'SETTINGS of 7 bytes → FRAME_SIZE_ERROR',
      () => [frame(FrameType.Settings, 0, 0, Buffer.alloc(7))],
      H2Error.FRAME_SIZE_ERROR,
      /multiple of 6/,
    ],
    [
      'a SETTINGS ACK with a payload → FRAME_SIZE_ERROR',
      () => [frame(FrameType.Settings, Flag.Ack, 0, Buffer.alloc(6))],
      H2Error.FRAME_SIZE_ERROR,
      /acknowledgement/,
    ],
    [
      'SETTINGS on stream 1 → PROTOCOL_ERROR',
      () => [frame(FrameType.Settings, 0, 1)],
      H2Error.PROTOCOL_ERROR,
      /SETTINGS on stream 1/,
    ],
    [
      'PING of 7 bytes → FRAME_SIZE_ERROR',
      () => [frame(FrameType.Ping, 0, 0, Buffer.alloc(7))],
      H2Error.FRAME_SIZE_ERROR,
      /PING/,
    ],
    [
      'PING on stream 1 → PROTOCOL_ERROR',
      () => [frame(FrameType.Ping, 0, 1, Buffer.alloc(8))],
      H2Error.PROTOCOL_ERROR,
      /PING on stream 1/,
    ],
    [
      'PUSH_PROMISE from a client → PROTOCOL_ERROR',
      (p) => [
        p.headersFrame(1, GET('/hold'), true),
        frame(FrameType.PushPromise, Flag.EndHeaders, 1, Buffer.concat([u32(2), p.block(GET())])),
      ],
      H2Error.PROTOCOL_ERROR,
      /PUSH_PROMISE/,
    ],
    [
      'RST_STREAM on stream 0 → PROTOCOL_ERROR',
      () => [frame(FrameType.RstStream, 0, 0, u32(8))],
      H2Error.PROTOCOL_ERROR,
      /RST_STREAM on stream 0/,
    ],
    [
      'RST_STREAM on an idle stream → PROTOCOL_ERROR',
      () => [frame(FrameType.RstStream, 0, 5, u32(8))],
      H2Error.PROTOCOL_ERROR,
      /idle stream 5/,
    ],
    [
      'RST_STREAM of 3 bytes → FRAME_SIZE_ERROR',
      (p) => [p.headersFrame(1, GET('/hold'), true), frame(FrameType.RstStream, 0, 1, [0, 0, 8])],
      H2Error.FRAME_SIZE_ERROR,
      /RST_STREAM/,
    ],
    [
      'DATA on an idle stream → PROTOCOL_ERROR',
      () => [frame(FrameType.Data, 0, 7, Buffer.from('x'))],
      H2Error.PROTOCOL_ERROR,
      /idle stream 7/,
    ],
    [
      'WINDOW_UPDATE on an idle stream → PROTOCOL_ERROR',
      () => [frame(FrameType.WindowUpdate, 0, 9, u32(1))],
      H2Error.PROTOCOL_ERROR,
      /idle stream 9/,
    ],
    [
      'PRIORITY on stream 0 → PROTOCOL_ERROR',
      () => [frame(FrameType.Priority, 0, 0, Buffer.alloc(5))],
      H2Error.PROTOCOL_ERROR,
      /PRIORITY on stream 0/,
    ],
    [
      'GOAWAY on stream 1 → PROTOCOL_ERROR',
      () => [frame(FrameType.Goaway, 0, 1, u32(0, 0))],
      H2Error.PROTOCOL_ERROR,
      /GOAWAY on stream 1/,
    ],
    [
      'CONTINUATION without a header block → PROTOCOL_ERROR',
      (p) => [frame(FrameType.Continuation, Flag.EndHeaders, 1, p.block(GET()))],
      H2Error.PROTOCOL_ERROR,
      /CONTINUATION/,
    ],
    [
      'another frame inside a header block → PROTOCOL_ERROR',
      (p) => [frame(FrameType.Headers, 0, 1, p.block(GET())), frame(FrameType.Ping, 0, 0, Buffer.alloc(8))],
      H2Error.PROTOCOL_ERROR,
      /inside the header block/,
    ],
    [
      'CONTINUATION on another stream → PROTOCOL_ERROR',
      (p) => [
        frame(FrameType.Headers, 0, 1, p.block(GET())),
        frame(FrameType.Continuation, Flag.EndHeaders, 3),
      ],
      H2Error.PROTOCOL_ERROR,
      /inside the header block/,
    ],
    [
      'padding as long as the frame → PROTOCOL_ERROR',
      (p) => [
        p.headersFrame(1, requestHead('/hold', 'POST'), false),
        frame(FrameType.Data, Flag.Padded, 1, [4, 1, 2, 3]),
      ],
      H2Error.PROTOCOL_ERROR,
      /padding/,
    ],
    [
      'a HEADERS frame shorter than its priority fields → FRAME_SIZE_ERROR',
      () => [frame(FrameType.Headers, Flag.EndHeaders | Flag.Priority, 1, [0, 0, 0])],
      H2Error.FRAME_SIZE_ERROR,
      /shorter/,
    ],
  ];
  it.each(cases)('%s', async (_name, build, code, message) => {
    const { peer, owner } = await rawConnect(server, peers);
    peer.start();
    peer.send(...build(peer));
    await expectConnectionError(peer, owner, code, message);
  });

  it('a preface not followed by SETTINGS → PROTOCOL_ERROR', async () => {
    const { peer, owner } = await rawConnect(server, peers);
    peer.send(CLIENT_PREFACE, frame(FrameType.Ping, 0, 0, Buffer.alloc(8)));
    await expectConnectionError(peer, owner, H2Error.PROTOCOL_ERROR, /SETTINGS/);
  });

  it('SETTINGS_INITIAL_WINDOW_SIZE pushing an open stream window above 2^31-1 → FLOW_CONTROL_ERROR', async () => {
    const { peer, owner } = await rawConnect(server, peers);
    peer.start();
    peer.send(
      peer.headersFrame(1, GET('/hold'), true),
      // 65535 + 0x7fff0000 = 2^31-1 exactly: allowed.
      frame(FrameType.WindowUpdate, 0, 1, u32(0x7fff0000)),
    );
    await new Promise((r) => setTimeout(r, 20));
    expect(owner.protocolErrors).toEqual([]);
    peer.send(settingsFrame([[Setting.InitialWindowSize, 65536]]));
    await expectConnectionError(peer, owner, H2Error.FLOW_CONTROL_ERROR, /INITIAL_WINDOW_SIZE/);
  });

  it('a CONTINUATION flood beyond 2 × maxHeaderListSize → ENHANCE_YOUR_CALM', async () => {
    const { peer, owner } = await rawConnect(server, peers);
    peer.start();
    const filler = Buffer.alloc(16384, 0x61);
    const frames = [frame(FrameType.Headers, Flag.EndStream, 1, peer.block(GET()))];
    for (let i = 0; i < 10; i++) frames.push(frame(FrameType.Continuation, 0, 1, filler));
    peer.send(...frames);
    await expectConnectionError(peer, owner, H2Error.ENHANCE_YOUR_CALM, /header block over/);
  });

  it('a flood of empty CONTINUATION frames → ENHANCE_YOUR_CALM', async () => {
    const { peer, owner } = await rawConnect(server, peers);
    peer.start();
    const empty = frame(FrameType.Continuation, 0, 1);
    peer.send(
      frame(FrameType.Headers, Flag.EndStream, 1, peer.block(GET())),
      Buffer.concat(Array(50_000).fill(empty)),
    );
    await expectConnectionError(peer, owner, H2Error.ENHANCE_YOUR_CALM, /header block over/);
  });
});

describe('stream errors: RST_STREAM on that stream, the connection keeps serving', () => {
  async function expectStreamReset(peer: RawPeer, id: number, code: number): Promise<void> {
    const rst = await peer.waitFrame(
      (f) => f.type === FrameType.RstStream && f.id === id,
      `RST_STREAM on ${id}`,
    );
    expect(h2Name(rst.payload.readUInt32BE(0))).toBe(h2Name(code));
  }
  async function expectServed(peer: RawPeer, id: number): Promise<void> {
    peer.send(peer.headersFrame(id, GET(), true));
    await peer.waitFrame(
      (f) => f.type === FrameType.Data && f.id === id && (f.flags & Flag.EndStream) !== 0,
      `response on ${id}`,
    );
    expect(peer.headers.get(id)![0]!.slice(0, 2)).toEqual([':status', '200']);
    expect(peer.frames.some((f) => f.type === FrameType.Goaway)).toBe(false);
  }

  const malformed: [string, string[], RegExp][] = [
    ['an upper-case field name', [...GET(), 'X-Upper', '1'], /X-Upper/],
    ['no :path', [':method', 'GET', ':scheme', 'http', ':authority', 'a'], /without :path/],
    ['no :method', [':scheme', 'http', ':path', '/', ':authority', 'a'], /without :method/],
    ['no :scheme', [':method', 'GET', ':path', '/'], /without :scheme/],
    ['an empty :path', [':method', 'GET', ':scheme', 'http', ':path', ''], /empty :path/],
    ['connection: close', [...GET(), 'connection', 'close'], /connection-specific/],
    ['transfer-encoding', [...GET(), 'transfer-encoding', 'chunked'], /connection-specific/],
    ['te: gzip', [...GET(), 'te', 'gzip'], /te may only be/],
    [
      'a pseudo-field after a regular one',
      [':method', 'GET', ':scheme', 'http', 'x-a', '1', ':path', '/'],
      /after a regular field|without :path/,
    ],
    [
      'a pseudo-field twice',
      [':method', 'GET', ':method', 'POST', ':scheme', 'http', ':path', '/'],
      /:method twice/,
    ],
    [
      'an unknown pseudo-field',
      [':method', 'GET', ':scheme', 'http', ':path', '/', ':status', '200'],
      /unknown pseudo-field/,
    ],
    ['a response pseudo-field', [':status', '200'], /unknown pseudo-field :status/],
    ['a value with LF', [...GET(), 'x-a', 'a\nb'], /NUL, CR or LF/],
    [
      'CONNECT with :path',
      [':method', 'CONNECT', ':authority', 'a:443', ':path', '/', ':scheme', 'http'],
      /CONNECT/,
    ],
  ];
  it.each(malformed)('a request with %s → RST_STREAM PROTOCOL_ERROR', async (_name, fields, message) => {
    const { peer, owner, conn } = await rawConnect(server, peers);
    peer.start();
    peer.send(peer.headersFrame(1, fields, true));
    await expectStreamReset(peer, 1, H2Error.PROTOCOL_ERROR);
    expect(owner.protocolErrors.join('\n')).toMatch(message);
    await expectServed(peer, 3);
    expect(server.streams.some((s) => s.stream.connection === conn && s.stream.id === 1)).toBe(false);
    expect(owner.closedWith).toBeUndefined();
  });

  it('WINDOW_UPDATE of 0 on a stream → RST_STREAM PROTOCOL_ERROR; the handler hears it', async () => {
    const { peer, conn } = await rawConnect(server, peers);
    peer.start();
    peer.send(peer.headersFrame(1, GET('/hold'), false));
    await waitUntil(() => server.streams.some((s) => s.stream.connection === conn), 'the stream');
    peer.send(frame(FrameType.WindowUpdate, 0, 1, u32(0)));
    await expectStreamReset(peer, 1, H2Error.PROTOCOL_ERROR);
    const rec = server.streams.find((s) => s.stream.connection === conn)!;
    const r = await withTimeout(rec.collector.done, 'handler reset');
    expect(r.reset).toEqual({ code: H2Error.PROTOCOL_ERROR, origin: 3 /* ResetOrigin.Protocol */ });
    await expectServed(peer, 3);
  });

  it('a stream window above 2^31-1 → RST_STREAM FLOW_CONTROL_ERROR', async () => {
    const { peer } = await rawConnect(server, peers);
    peer.start();
    peer.send(
      peer.headersFrame(1, GET('/hold'), false),
      frame(FrameType.WindowUpdate, 0, 1, u32(0x7fffffff)),
    );
    await expectStreamReset(peer, 1, H2Error.FLOW_CONTROL_ERROR);
    await expectServed(peer, 3);
  });

  it('DATA beyond the stream window (handler paused) → RST_STREAM FLOW_CONTROL_ERROR', async () => {
    server.hook = (_c, stream, _f, _e, rec) => {
      if (rec.path !== '/paused') return false;
      stream.pause();
      return true;
    };
    try {
      const { peer } = await rawConnect(server, peers);
      peer.start();
      const chunk = frame(FrameType.Data, 0, 1, Buffer.alloc(16384));
      // 17 × 16 KiB > the 256 KiB window we advertised.
      peer.send(
        peer.headersFrame(1, requestHead('/paused', 'POST'), false),
        ...Array<Buffer>(17).fill(chunk),
      );
      await expectStreamReset(peer, 1, H2Error.FLOW_CONTROL_ERROR);
      await expectServed(peer, 3);
    } finally {
      server.hook = undefined;
    }
  });

  it('DATA after END_STREAM → RST_STREAM STREAM_CLOSED', async () => {
    const { peer } = await rawConnect(server, peers);
    peer.start();
    peer.send(peer.headersFrame(1, GET('/hold'), true), frame(FrameType.Data, 0, 1, Buffer.from('late')));
    await expectStreamReset(peer, 1, H2Error.STREAM_CLOSED);
    await expectServed(peer, 3);
  });

  it('trailers without END_STREAM → RST_STREAM PROTOCOL_ERROR', async () => {
    const { peer } = await rawConnect(server, peers);
    peer.start();
    peer.send(
      peer.headersFrame(1, requestHead('/hold', 'POST'), false),
      peer.headersFrame(1, ['x-t', '1'], false),
    );
    await expectStreamReset(peer, 1, H2Error.PROTOCOL_ERROR);
    await expectServed(peer, 3);
  });

  it('trailers with a pseudo-field → RST_STREAM PROTOCOL_ERROR', async () => {
    const { peer } = await rawConnect(server, peers);
    peer.start();
    peer.send(
      peer.headersFrame(1, requestHead('/hold', 'POST'), false),
      peer.headersFrame(1, [':path', '/x'], true),
    );
    await expectStreamReset(peer, 1, H2Error.PROTOCOL_ERROR);
    await expectServed(peer, 3);
  });

  it('PRIORITY of 4 bytes → RST_STREAM FRAME_SIZE_ERROR', async () => {
    const { peer } = await rawConnect(server, peers);
    peer.start();
    peer.send(peer.headersFrame(1, GET('/hold'), true), frame(FrameType.Priority, 0, 1, Buffer.alloc(4)));
    await expectStreamReset(peer, 1, H2Error.FRAME_SIZE_ERROR);
    await expectServed(peer, 3);
  });

  it('a header list over maxHeaderListSize → 431 on that stream, the HPACK state kept', async () => {
    const { peer, owner } = await rawConnect(server, peers);
    peer.start();
    const block = peer.block([...requestHead('/', 'GET'), 'x-big', 'v'.repeat(70_000)]);
    const frames = [frame(FrameType.Headers, Flag.EndStream, 1, block.subarray(0, 16384))];
    for (let o = 16384; o < block.length; o += 16384) {
      const end = Math.min(o + 16384, block.length);
      frames.push(
        frame(FrameType.Continuation, end === block.length ? Flag.EndHeaders : 0, 1, block.subarray(o, end)),
      );
    }
    peer.send(...frames);
    await peer.waitFrame((f) => f.type === FrameType.Headers && f.id === 1, '431');
    expect(peer.headers.get(1)![0]).toEqual([':status', '431']);
    expect(owner.protocolErrors.join('\n')).toMatch(/over 65536 bytes/);
    await expectServed(peer, 3);
  });

  it('ignores an unknown frame type and PRIORITY, and answers PING with the same payload', async () => {
    const { peer, owner } = await rawConnect(server, peers);
    peer.start();
    const payload = Buffer.from('12345678');
    peer.send(
      frame(0xfa, 0xff, 0, Buffer.from('whatever')),
      frame(0xfb, 0, 1, Buffer.alloc(100)),
      frame(FrameType.Priority, 0, 11, Buffer.alloc(5)),
      frame(FrameType.Ping, 0, 0, payload),
    );
    const ack = await peer.waitFrame((f) => f.type === FrameType.Ping, 'PING ACK');
    expect(ack.flags & Flag.Ack).toBe(Flag.Ack);
    expect(ack.payload).toEqual(payload);
    await expectServed(peer, 1);
    expect(owner.protocolErrors).toEqual([]);
  });

  it('acknowledges SETTINGS and opens with its own SETTINGS', async () => {
    const { peer } = await rawConnect(server, peers);
    peer.start([
      [Setting.HeaderTableSize, 0],
      [Setting.MaxFrameSize, 1 << 20],
      [0x99, 7],
    ]);
    await peer.waitFrame((f) => f.type === FrameType.Settings && (f.flags & Flag.Ack) !== 0, 'SETTINGS ACK');
    expect(peer.frames[0]!.type).toBe(FrameType.Settings);
    expect(peer.frames[0]!.flags).toBe(0);
    // With HEADER_TABLE_SIZE 0 the server's encoder must not index (our decoder would fail otherwise).
    peer.decoder.setMaxTableSize(0);
    await expectServed(peer, 1);
    await expectServed(peer, 3);
  });
});

describe('limits and shutdown', () => {
  it('refuses streams above maxConcurrentStreams with REFUSED_STREAM', async () => {
    const small = await startServer({ maxConcurrentStreams: 2 });
    try {
      const { peer, owner } = await rawConnect(small, peers);
      peer.start();
      peer.send(
        peer.headersFrame(1, GET('/hold'), true),
        peer.headersFrame(3, GET('/hold'), true),
        peer.headersFrame(5, GET(), true),
      );
      const rst = await peer.waitFrame((f) => f.type === FrameType.RstStream, 'RST');
      expect(rst.id).toBe(5);
      expect(rst.payload.readUInt32BE(0)).toBe(H2Error.REFUSED_STREAM);
      expect(owner.protocolErrors.join()).toMatch(/concurrent/);
      // Finishing one stream makes room.
      small.streams[0]!.stream.respond([':status', '204'], true);
      peer.send(peer.headersFrame(7, GET(), true));
      await peer.waitFrame((f) => f.type === FrameType.Data && f.id === 7, 'response on 7');
    } finally {
      await small.close();
    }
  });

  it('shuts down in two steps: streams sent before the PING round trip are served, later ones refused', async () => {
    const { peer, owner, conn } = await rawConnect(server, peers);
    peer.start();
    peer.send(peer.headersFrame(1, GET('/hold'), true));
    await waitUntil(() => server.streams.some((s) => s.stream.connection === conn), 'stream 1');
    conn.shutdown();
    const first = await peer.goaway();
    expect(first).toMatchObject({ lastStreamId: 0x7fffffff, code: 0 });
    const ping = await peer.waitFrame((f) => f.type === FrameType.Ping && f.flags === 0, 'shutdown PING');
    // A request racing the GOAWAY is still served; then the PING is acknowledged.
    peer.send(peer.headersFrame(3, GET(), true));
    await peer.waitFrame((f) => f.type === FrameType.Data && f.id === 3, 'response on 3');
    peer.send(frame(FrameType.Ping, Flag.Ack, 0, ping.payload));
    await waitUntil(
      () => peer.frames.filter((f) => f.type === FrameType.Goaway).length === 2,
      'final GOAWAY',
    );
    const finalGoaway = peer.frames.filter((f) => f.type === FrameType.Goaway)[1]!;
    expect(finalGoaway.payload.readUInt32BE(0)).toBe(3);
    peer.send(peer.headersFrame(5, GET(), true));
    const rst = await peer.waitFrame((f) => f.type === FrameType.RstStream && f.id === 5, 'refused 5');
    expect(rst.payload.readUInt32BE(0)).toBe(H2Error.REFUSED_STREAM);
    // Stream 1 still completes; then the connection ends cleanly.
    const rec = server.streams.find((s) => s.stream.connection === conn && s.stream.id === 1)!;
    rec.stream.respond([':status', '200'], false);
    rec.stream.end(Buffer.from('last'));
    await peer.waitFrame(
      (f) => f.type === FrameType.Data && f.id === 1 && (f.flags & Flag.EndStream) !== 0,
      'stream 1 done',
    );
    await withTimeout(peer.closed, 'closed');
    expect(await withTimeout(owner.closed, 'h2Closed')).toBeUndefined();
  });

  it('a peer that stops reading: socket backpressure holds the frames, nothing is lost', async () => {
    const { peer, owner } = await rawConnect(server, peers);
    // Windows as large as allowed, so that only the socket holds the sender back.
    peer.start([[Setting.InitialWindowSize, 0x7fffffff]]);
    peer.send(frame(FrameType.WindowUpdate, 0, 0, u32(0x7fffffff - 65535)));
    peer.socket.pause();
    const size = 8 << 20;
    for (const id of [1, 3, 5])
      peer.send(peer.headersFrame(id, requestHead('/big', 'GET', ['x-size', String(size)]), true));
    await new Promise((r) => setTimeout(r, 200));
    peer.socket.resume();
    for (const id of [1, 3, 5]) {
      await peer.waitFrame(
        (f) => f.type === FrameType.Data && f.id === id && (f.flags & Flag.EndStream) !== 0,
        `end of ${id}`,
        10_000,
      );
      const body = Buffer.concat(
        peer.frames.filter((f) => f.type === FrameType.Data && f.id === id).map((f) => f.payload),
      );
      expect(body.length).toBe(size);
      expect(body.equals(pattern(size, 7))).toBe(true);
    }
    expect(owner.protocolErrors).toEqual([]);
  });

  it('closing after GOAWAY does not cut a slow reader off before the last frames are written', async () => {
    const { peer, owner } = await rawConnect(server, peers);
    peer.start([[Setting.InitialWindowSize, 0x7fffffff]]);
    peer.send(frame(FrameType.WindowUpdate, 0, 0, u32(0x7fffffff - 65535)));
    const size = 16 << 20;
    peer.send(peer.headersFrame(1, requestHead('/big', 'GET', ['x-size', String(size)]), true));
    await waitUntil(() => peer.frames.some((f) => f.type === FrameType.Data), 'the first DATA');
    peer.socket.pause();
    // The response is framed; our GOAWAY leaves the server nothing to wait for but the socket.
    peer.send(frame(FrameType.Goaway, 0, 0, u32(1, 0)));
    await new Promise((r) => setTimeout(r, 1500));
    peer.socket.resume();
    await peer.waitFrame(
      (f) => f.type === FrameType.Data && f.id === 1 && (f.flags & Flag.EndStream) !== 0,
      'the end',
      10_000,
    );
    const body = Buffer.concat(peer.frames.filter((f) => f.type === FrameType.Data).map((f) => f.payload));
    expect(body.length).toBe(size);
    await withTimeout(owner.closed, 'h2Closed', 5000);
    expect(owner.closedWith!.error).toBeUndefined();
  });

  it("a peer's GOAWAY: the server finishes its streams and closes", async () => {
    const { peer, owner, conn } = await rawConnect(server, peers);
    peer.start();
    peer.send(peer.headersFrame(1, GET('/wait'), true), frame(FrameType.Goaway, 0, 0, u32(1, 0)));
    await peer.waitFrame(
      (f) => f.type === FrameType.Data && f.id === 1 && (f.flags & Flag.EndStream) !== 0,
      'response',
    );
    expect(owner.goaways).toEqual([{ code: 0, lastStreamId: 1 }]);
    expect(conn.available).toBe(false);
    await withTimeout(owner.closed, 'h2Closed');
  });

  it('a peer vanishing mid-stream: handlers hear h2Reset (Connection), the owner h2Closed with an error', async () => {
    const { peer, owner, conn } = await rawConnect(server, peers);
    peer.start();
    peer.send(peer.headersFrame(1, GET('/hold'), false));
    await waitUntil(() => server.streams.some((s) => s.stream.connection === conn), 'stream');
    const rec = server.streams.find((s) => s.stream.connection === conn)!;
    peer.destroy();
    const r = await withTimeout(rec.collector.done, 'reset');
    expect(r.reset?.origin).toBe(2 /* ResetOrigin.Connection */);
    expect(await withTimeout(owner.closed, 'h2Closed')).toBeInstanceOf(Error);
  });
});
