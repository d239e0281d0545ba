// What a hostile or broken peer, or a bug of our own, must not do to a server connection: a peer
// that floods PINGs without reading the answers, resets streams as fast as it opens them (rapid
// reset), never answers the shutdown PING; a stream handler that throws. Each ends that connection
// (or shutdown step) with a reason, and the process keeps serving.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { H2ConnectionError } from './connection.js';
import { Flag, FrameType, H2Error } from './frames.js';
import {
  frame,
  rawConnect,
  requestHead,
  startServer,
  stillServes,
  u32,
  waitUntil,
  withTimeout,
  type RawPeer,
  type TestServer,
} from './h2-peers.test-support.js';

let server: TestServer;
const peers: RawPeer[] = [];

beforeAll(async () => {
  server = await startServer();
});
afterEach(() => {
  server.hook = undefined;
  for (const p of peers.splice(0)) p.destroy();
});
afterAll(async () => {
  await server.close();
});

const GET = (path = '/') => requestHead(path, 'GET');

describe('a server connection under abuse', () => {
  it('ends a connection whose peer sends PINGs without reading the answers (ENHANCE_YOUR_CALM)', async () => {
    const { peer, owner } = await rawConnect(server, peers);
    peer.start();
    peer.socket.pause();
    const ping = frame(FrameType.Ping, 0, 0, Buffer.alloc(8, 1));
    const burst = Buffer.concat(Array<Buffer>(20_000).fill(ping));
    // Up to ~50 MB of PINGs: the kernel's buffers on both sides fill first, then node's.
    for (let i = 0; i < 150 && !owner.protocolErrors.some((e) => /PING/.test(e)); i++) {
      peer.send(burst);
      await new Promise((r) => setTimeout(r, 5));
    }
    const err = await withTimeout(owner.closed, 'h2Closed', 10_000);
    expect((err as H2ConnectionError).code).toBe(H2Error.ENHANCE_YOUR_CALM);
    expect(owner.protocolErrors.join('\n')).toMatch(/answers to PING and SETTINGS the peer has not read/);
    await stillServes(server);
  }, 30_000);

  it('ends a connection whose peer resets streams faster than the reset budget (rapid reset)', async () => {
    const { peer, owner } = await rawConnect(server, peers);
    peer.start();
    const frames: Buffer[] = [];
    for (let id = 1; id < 2 * 1500; id += 2) {
      frames.push(
        peer.headersFrame(id, GET('/hold'), true),
        frame(FrameType.RstStream, 0, id, u32(H2Error.CANCEL)),
      );
    }
    peer.send(...frames);
    const g = await peer.goaway();
    expect(g.code).toBe(H2Error.ENHANCE_YOUR_CALM);
    expect(g.debug).toMatch(/reset streams faster/);
    const err = await withTimeout(owner.closed, 'h2Closed');
    expect((err as H2ConnectionError).code).toBe(H2Error.ENHANCE_YOUR_CALM);
    await stillServes(server);
  });

  it('lets a peer cancel streams at a sustained pace below the budget', async () => {
    const { peer, owner } = await rawConnect(server, peers);
    peer.start();
    let id = 1;
    for (let round = 0; round < 5; round++) {
      const frames: Buffer[] = [];
      for (let i = 0; i < 150; i++, id += 2) {
        frames.push(
          peer.headersFrame(id, GET('/hold'), true),
          frame(FrameType.RstStream, 0, id, u32(H2Error.CANCEL)),
        );
      }
      peer.send(...frames);
      await new Promise((r) => setTimeout(r, 20));
    }
    peer.send(peer.headersFrame(id, GET(), true));
    await peer.waitFrame((f) => f.type === FrameType.Data && f.id === id, 'a response after 750 resets');
    expect(peer.frames.some((f) => f.type === FrameType.Goaway)).toBe(false);
    expect(owner.protocolErrors).toEqual([]);
  });

  it('sends the final GOAWAY of a shutdown when the peer never answers its PING', async () => {
    const { peer, conn } = await rawConnect(server, peers);
    peer.start();
    await peer.waitFrame((f) => f.type === FrameType.Settings && (f.flags & Flag.Ack) !== 0, 'SETTINGS ack');
    const started = performance.now();
    conn.shutdown();
    await waitUntil(
      () => peer.frames.filter((f) => f.type === FrameType.Goaway).length === 2,
      'final GOAWAY',
      5000,
    );
    expect(performance.now() - started).toBeGreaterThanOrEqual(900);
    await withTimeout(peer.closed, 'closed');
  });

  it('ends the connection with INTERNAL_ERROR when a stream handler throws, and keeps serving', async () => {
    const { peer, owner } = await rawConnect(server, peers);
    server.hook = () => {
      throw new Error('a bug in a handler');
    };
    peer.start();
    peer.send(peer.headersFrame(1, GET(), true));
    const g = await peer.goaway();
    expect(g.code).toBe(H2Error.INTERNAL_ERROR);
    const err = await withTimeout(owner.closed, 'h2Closed');
    expect(err).toBeInstanceOf(Error);
    expect(owner.protocolErrors.join('\n')).toMatch(/internal error.*a bug in a handler/);
    server.hook = undefined;
    await stillServes(server);
  });
});
