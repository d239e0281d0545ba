// How an accepted connection finds out its peer is gone: keep-alive PINGs (H2ConnectionOptions
// .keepAlive, set from linkerd2-proxy's *_SERVER_HTTP2_KEEP_ALIVE_{INTERVAL,TIMEOUT}) and the SETTINGS
// acknowledgement timeout (RFC 9113 §6.5.3). A peer that stops answering is cut, one that answers
// stays however long it is idle, one that keeps sending is never pinged — and the server goes on.
import type { ClientHttp2Session } from 'node:http2';
import { afterEach, describe, expect, it } from 'vitest';
import type { H2ConnectionOptions } from './connection.js';
import { Flag, FrameType, H2Error } from './frames.js';
import {
  frame,
  nodeClient,
  rawConnect,
  startServer,
  stillServes,
  withTimeout,
  type Frame,
  type RawPeer,
  type TestServer,
} from './h2-peers.test-support.js';

const KEEP_ALIVE = { intervalMs: 60, timeoutMs: 150 };
const SETTINGS_TIMEOUT_MS = 150;
const isKeepAlivePing = (f: Frame) =>
  f.type === FrameType.Ping && (f.flags & Flag.Ack) === 0 && f.payload.toString('latin1') === 'tsmeshka';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const servers: TestServer[] = [];
const peers: RawPeer[] = [];
const sessions: ClientHttp2Session[] = [];
afterEach(async () => {
  for (const p of peers.splice(0)) p.destroy();
  for (const s of sessions.splice(0)) s.destroy();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
const start = async (options: H2ConnectionOptions) => {
  const srv = await startServer(undefined, undefined, options);
  servers.push(srv);
  return srv;
};
const idleClient = async (srv: TestServer) => {
  const client = await nodeClient(srv.port);
  sessions.push(client.session);
  await sleep(KEEP_ALIVE.intervalMs * 10);
  return client;
};

describe('HTTP/2 keep-alive of accepted connections', () => {
  it('closes a connection whose peer leaves the PING unanswered, and goes on serving others', async () => {
    const srv = await start({ keepAlive: KEEP_ALIVE });
    const { peer, owner } = await rawConnect(srv, peers);
    peer.start();
    await peer.waitFrame(isKeepAlivePing, 'a keep-alive PING', 2000);
    const pinged = Date.now();
    const error = await withTimeout(owner.closed, 'the connection closing', 3000);
    expect(error?.message).toMatch(
      /keep-alive: the peer read nothing for 60ms and left a PING unanswered for 150ms/,
    );
    expect(Date.now() - pinged).toBeGreaterThanOrEqual(KEEP_ALIVE.timeoutMs - 30);
    await withTimeout(peer.closed, 'the socket closing', 3000);
    await stillServes(srv);
  });

  it('keeps a connection whose peer answers, idle for many intervals (node:http2 client)', async () => {
    const srv = await start({ keepAlive: KEEP_ALIVE });
    const { session, pings } = await idleClient(srv);
    expect(pings()).toBeGreaterThanOrEqual(3);
    const req = session.request({ ':path': '/' });
    const status = await new Promise<number>((resolve, reject) => {
      req.once('response', (h) => resolve(Number(h[':status'])));
      req.once('error', reject);
    });
    req.resume();
    expect(status).toBe(200);
    expect(srv.owners[0]!.closedWith).toBeUndefined();
  });

  it('sends no PING while the peer keeps sending', async () => {
    const srv = await start({ keepAlive: KEEP_ALIVE });
    const { peer, owner } = await rawConnect(srv, peers);
    peer.start();
    // The peer's own PINGs every 20 ms: the server reads something in every interval.
    for (let i = 0; i < 25; i++) {
      peer.send(frame(FrameType.Ping, 0, 0, Buffer.from('peerpeer', 'latin1')));
      await sleep(20);
    }
    expect(peer.frames.filter(isKeepAlivePing)).toEqual([]);
    expect(owner.closedWith).toBeUndefined();
    // Once it falls silent, the server asks.
    await peer.waitFrame(isKeepAlivePing, 'a keep-alive PING after the peer fell silent', 2000);
  });
});

describe('SETTINGS acknowledgement timeout', () => {
  it('ends a connection whose peer never acknowledges the SETTINGS, and goes on serving', async () => {
    const srv = await start({ settingsTimeoutMs: SETTINGS_TIMEOUT_MS });
    const { peer, owner } = await rawConnect(srv, peers);
    peer.start();
    const goaway = await peer.goaway(3000);
    expect(goaway.code).toBe(H2Error.SETTINGS_TIMEOUT);
    const error = await withTimeout(owner.closed, 'the connection closing', 3000);
    expect(error?.message).toMatch(
      /SETTINGS_TIMEOUT: no acknowledgement of this side's SETTINGS within 150ms/,
    );
    expect(owner.protocolErrors).toHaveLength(1);
    await stillServes(srv);
  });

  it('keeps peers that acknowledge (a raw peer, node:http2)', async () => {
    const srv = await start({ settingsTimeoutMs: SETTINGS_TIMEOUT_MS });
    const { peer, owner } = await rawConnect(srv, peers);
    peer.start();
    await peer.waitFrame((f) => f.type === FrameType.Settings && (f.flags & Flag.Ack) === 0, 'our SETTINGS');
    peer.send(frame(FrameType.Settings, Flag.Ack, 0, Buffer.alloc(0)));
    const { session } = await idleClient(srv);
    expect(peer.frames.filter((f) => f.type === FrameType.Goaway)).toEqual([]);
    expect(owner.closedWith).toBeUndefined();
    expect(session.closed || session.destroyed).toBe(false);
  });
});
