// Our HTTP/2 client against a raw socket server writing frames by hand: malformed responses reset
// only their stream, connection errors end the connection with GOAWAY, and what we send follows the
// peer's SETTINGS (frame size, windows) and splits large header blocks into CONTINUATIONs.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { H2ConnectionError } from './connection.js';
import { Flag, FrameType, H2Error, Setting } from './frames.js';
import {
  connectPlain,
  frame,
  goawayPayload,
  ourClient,
  pattern,
  requestHead,
  settingsFrame,
  startRawServer,
  u32,
  waitUntil,
  withTimeout,
  type RawPeer,
  type TestClient,
} from './h2-peers.test-support.js';
import { ResetOrigin } from './stream.js';

let raw: Awaited<ReturnType<typeof startRawServer>>;
let client: TestClient;
let peer: RawPeer;

beforeEach(async () => {
  raw = await startRawServer();
  client = ourClient(connectPlain(raw.port));
  await waitUntil(() => raw.peers.length === 1 && raw.peers[0]!.preface === true, 'the client preface');
  peer = raw.peers[0]!;
});
afterEach(async () => {
  client.close();
  await raw.close();
});

/** Server SETTINGS, then waits for the client's first HEADERS on `id`. */
async function serverReady(id = 1, entries: [number, number][] = []): Promise<void> {
  peer.send(settingsFrame(entries));
  await peer.waitFrame((f) => f.type === FrameType.Headers && f.id === id, `HEADERS on ${id}`);
}

describe('our client against a hand-written server', () => {
  it('starts with the preface and a SETTINGS frame without push', async () => {
    const first = await peer.waitFrame(() => true, 'a frame');
    expect(first.type).toBe(FrameType.Settings);
    const entries = new Map<number, number>();
    for (let p = 0; p < first.payload.length; p += 6)
      entries.set(first.payload.readUInt16BE(p), first.payload.readUInt32BE(p + 2));
    expect(entries.get(Setting.EnablePush)).toBe(0);
    peer.send(settingsFrame());
    await peer.waitFrame((f) => f.type === FrameType.Settings && f.flags === Flag.Ack, 'SETTINGS ACK');
  });

  const badHeads: [string, string[], boolean][] = [
    ['no :status', ['content-type', 'x'], false],
    ['a two-digit :status', [':status', '20'], false],
    ['a request pseudo-field', [':status', '200', ':path', '/'], false],
    ['an upper-case name', [':status', '200', 'Content-Type', 'x'], false],
    ['a connection-specific field', [':status', '200', 'keep-alive', '5'], false],
    ['101 Switching Protocols', [':status', '101'], false],
    ['a 1xx ending the stream', [':status', '103'], true],
  ];
  it.each(badHeads)(
    'a response with %s → RST_STREAM PROTOCOL_ERROR, h2Reset(Protocol)',
    async (_n, head, end) => {
      const x = client.fetch(requestHead('/'));
      await serverReady();
      peer.send(peer.headersFrame(1, head, end));
      const r = await withTimeout(x.done, 'reset');
      expect(r.reset).toEqual({ code: H2Error.PROTOCOL_ERROR, origin: ResetOrigin.Protocol });
      const rst = await peer.waitFrame((f) => f.type === FrameType.RstStream && f.id === 1, 'RST_STREAM');
      expect(rst.payload.readUInt32BE(0)).toBe(H2Error.PROTOCOL_ERROR);
      expect(client.owner.protocolErrors.join()).toMatch(/stream 1/);
      // The connection goes on.
      const y = client.fetch(requestHead('/'));
      await peer.waitFrame((f) => f.type === FrameType.Headers && f.id === 3, 'HEADERS on 3');
      peer.send(peer.headersFrame(3, [':status', '204'], true));
      expect((await withTimeout(y.done, 'second')).head).toEqual([':status', '204']);
    },
  );

  it('DATA before the response head → RST_STREAM PROTOCOL_ERROR', async () => {
    const x = client.fetch(requestHead('/'));
    await serverReady();
    peer.send(frame(FrameType.Data, 0, 1, Buffer.from('early')));
    expect((await withTimeout(x.done, 'reset')).reset).toEqual({
      code: H2Error.PROTOCOL_ERROR,
      origin: ResetOrigin.Protocol,
    });
  });

  it('a padded response body arrives without its padding', async () => {
    const x = client.fetch(requestHead('/'));
    await serverReady();
    peer.send(
      peer.headersFrame(1, [':status', '200'], false),
      frame(
        FrameType.Data,
        Flag.Padded,
        1,
        Buffer.concat([Buffer.from([3]), Buffer.from('body'), Buffer.alloc(3)]),
      ),
      frame(FrameType.Data, Flag.Padded | Flag.EndStream, 1, Buffer.from([0])),
    );
    const r = await withTimeout(x.done, 'response');
    expect(r.body.toString()).toBe('body');
    expect(r.ended).toBe(true);
  });

  const connectionErrors: [string, (p: RawPeer) => Buffer[], number, RegExp][] = [
    [
      'PUSH_PROMISE',
      (p) => [
        frame(
          FrameType.PushPromise,
          Flag.EndHeaders,
          1,
          Buffer.concat([u32(2), p.block(requestHead('/pushed'))]),
        ),
      ],
      H2Error.PROTOCOL_ERROR,
      /PUSH_PROMISE/,
    ],
    [
      'HEADERS on an even stream id',
      (p) => [p.headersFrame(2, [':status', '200'], true)],
      H2Error.PROTOCOL_ERROR,
      /stream 2/,
    ],
    [
      'HEADERS on a stream the client never opened',
      (p) => [p.headersFrame(5, [':status', '200'], true)],
      H2Error.PROTOCOL_ERROR,
      /stream 5/,
    ],
    [
      'an HPACK error',
      () => [frame(FrameType.Headers, Flag.EndHeaders, 1, [0x80])],
      H2Error.COMPRESSION_ERROR,
      /HPACK/,
    ],
  ];
  it.each(connectionErrors)(
    '%s → GOAWAY, every stream h2Reset(Connection), h2Closed',
    async (_n, build, code, message) => {
      const x = client.fetch(requestHead('/'));
      await serverReady();
      peer.send(...build(peer));
      const g = goawayPayload(await peer.waitFrame((f) => f.type === FrameType.Goaway, 'GOAWAY'));
      expect(g.code).toBe(code);
      expect(g.debug).toMatch(message);
      const r = await withTimeout(x.done, 'stream reset');
      expect(r.reset).toEqual({ code, origin: ResetOrigin.Connection });
      const err = await withTimeout(client.owner.closed, 'h2Closed');
      expect((err as H2ConnectionError).code).toBe(code);
      expect(client.connection.available).toBe(false);
      await withTimeout(peer.closed, 'socket closed');
    },
  );

  it('GOAWAY with an error and last id 0: every stream refused, the connection closes', async () => {
    const a = client.fetch(requestHead('/'));
    const b = client.fetch(requestHead('/', 'POST'), Buffer.from('x'));
    await serverReady(3);
    peer.send(
      frame(FrameType.Goaway, 0, 0, Buffer.concat([u32(0, H2Error.ENHANCE_YOUR_CALM), Buffer.from('calm')])),
    );
    for (const x of [a, b]) {
      expect((await withTimeout(x.done, 'refused')).reset).toEqual({
        code: H2Error.REFUSED_STREAM,
        origin: ResetOrigin.Refused,
      });
    }
    expect(client.owner.goaways).toEqual([{ code: H2Error.ENHANCE_YOUR_CALM, lastStreamId: 0 }]);
    await withTimeout(client.owner.closed, 'h2Closed');
  });

  it('frames DATA up to the peer SETTINGS_MAX_FRAME_SIZE and within its windows', async () => {
    const body = pattern(400_000, 6);
    const x = client.fetch(requestHead('/', 'POST'), body);
    // A 64 KiB frame size, a 100 000-byte stream window, and the connection window raised to match.
    await serverReady(1, [
      [Setting.MaxFrameSize, 65536],
      [Setting.InitialWindowSize, 100_000],
    ]);
    peer.send(frame(FrameType.WindowUpdate, 0, 0, u32(1_000_000)));
    const dataOn1 = () => peer.frames.filter((f) => f.type === FrameType.Data && f.id === 1);
    const sent = () => dataOn1().reduce((n, f) => n + f.payload.length, 0);
    await waitUntil(() => sent() === 100_000, 'one stream window of DATA');
    await new Promise((r) => setTimeout(r, 50));
    expect(sent()).toBe(100_000);
    peer.send(frame(FrameType.WindowUpdate, 0, 1, u32(300_000)));
    await waitUntil(() => dataOn1().some((f) => (f.flags & Flag.EndStream) !== 0), 'END_STREAM');
    const sizes = dataOn1().map((f) => f.payload.length);
    expect(Math.max(...sizes)).toBe(65536);
    expect(Buffer.concat(dataOn1().map((f) => f.payload)).equals(body)).toBe(true);
    peer.send(peer.headersFrame(1, [':status', '200'], true));
    expect((await withTimeout(x.done, 'response')).head).toEqual([':status', '200']);
  });

  it('stops at a zero window and resumes when SETTINGS raise it', async () => {
    peer.send(settingsFrame([[Setting.InitialWindowSize, 4]]));
    await peer.waitFrame((f) => f.type === FrameType.Settings && f.flags === Flag.Ack, 'SETTINGS ACK');
    const x = client.fetch(requestHead('/', 'POST'), Buffer.from('0123456789'));
    const dataOn1 = () => peer.frames.filter((f) => f.type === FrameType.Data && f.id === 1);
    await waitUntil(() => dataOn1().length === 1, 'first DATA');
    await new Promise((r) => setTimeout(r, 30));
    expect(dataOn1().map((f) => f.payload.toString())).toEqual(['0123']);
    // Lowering below what was sent makes the window negative: still nothing.
    peer.send(settingsFrame([[Setting.InitialWindowSize, 0]]));
    await new Promise((r) => setTimeout(r, 30));
    expect(dataOn1().length).toBe(1);
    peer.send(frame(FrameType.WindowUpdate, 0, 1, u32(2)));
    await new Promise((r) => setTimeout(r, 30));
    expect(dataOn1().length).toBe(1);
    peer.send(settingsFrame([[Setting.InitialWindowSize, 100]]));
    await waitUntil(() => dataOn1().some((f) => (f.flags & Flag.EndStream) !== 0), 'the rest');
    expect(Buffer.concat(dataOn1().map((f) => f.payload)).toString()).toBe('0123456789');
    peer.send(peer.headersFrame(1, [':status', '200'], true));
    await withTimeout(x.done, 'response');
  });

  it('splits a header block above the frame size into HEADERS + CONTINUATION', async () => {
    const big = 'v'.repeat(40_000);
    const x = client.fetch(requestHead('/', 'GET', ['x-big', big]));
    await serverReady();
    await peer.waitFrame(
      (f) => f.type === FrameType.Continuation && (f.flags & Flag.EndHeaders) !== 0,
      'last CONTINUATION',
    );
    const h = peer.frames.find((f) => f.type === FrameType.Headers)!;
    expect(h.flags & Flag.EndHeaders).toBe(0);
    expect(h.flags & Flag.EndStream).toBe(Flag.EndStream);
    const parts = peer.frames.filter(
      (f) => f.id === 1 && (f.type === FrameType.Headers || f.type === FrameType.Continuation),
    );
    for (const f of parts) expect(f.payload.length).toBeLessThanOrEqual(16384);
    expect(parts.length).toBeGreaterThanOrEqual(3);
    expect(peer.headers.get(1)).toEqual([requestHead('/', 'GET', ['x-big', big])]);
    x.stream.reset(H2Error.CANCEL);
  });

  it('a PING from the server is acknowledged with its payload', async () => {
    peer.send(settingsFrame(), frame(FrameType.Ping, 0, 0, Buffer.from('abcdefgh')));
    const ack = await peer.waitFrame((f) => f.type === FrameType.Ping, 'PING ACK');
    expect(ack.flags).toBe(Flag.Ack);
    expect(ack.payload.toString()).toBe('abcdefgh');
  });

  it('RST_STREAM(NO_ERROR) after a complete response stops the request body', async () => {
    const x = client.fetch(requestHead('/', 'POST'), pattern(1 << 20));
    await serverReady();
    peer.send(
      peer.headersFrame(1, [':status', '413'], true),
      frame(FrameType.RstStream, 0, 1, u32(H2Error.NO_ERROR)),
    );
    const r = await withTimeout(x.done, 'response');
    expect(r.head).toEqual([':status', '413']);
    await waitUntil(() => x.stream.closed, 'stream closed');
    expect(x.collector.reset).toEqual({ code: H2Error.NO_ERROR, origin: ResetOrigin.Peer });
    expect(client.connection.activeStreams).toBe(0);
  });
});
