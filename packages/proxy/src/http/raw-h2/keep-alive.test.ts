// HTTP/2 keep-alive on accepted connections (H2ConnectionOptions.keepAlive, set from linkerd2-proxy's
// *_SERVER_HTTP2_KEEP_ALIVE_{INTERVAL,TIMEOUT}): a peer that stops answering is cut after the
// interval and the timeout, one that answers stays however long it is idle, and one that keeps
// sending is never pinged.
import { connect as connectHttp2, type ClientHttp2Session } from 'node:http2';
import { afterEach, describe, expect, it } from 'vitest';
import { Flag, FrameType } from './frames.js';
import {
  frame,
  rawConnect,
  startServer,
  stillServes,
  withTimeout,
  type Frame,
  type RawPeer,
  type TestServer,
} from './h2-peers.test-support.js';

const KEEP_ALIVE = { intervalMs: 60, timeoutMs: 150 };
const isKeepAlivePing = (f: Frame) =>
  f.type === FrameType.Ping && (f.flags & Flag.Ack) === 0 && f.payload.toString('latin1') === 'tsmeshka';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('HTTP/2 keep-alive of accepted connections', () => {
  const servers: TestServer[] = [];
  const peers: RawPeer[] = [];
  const sessions: ClientHttp2Session[] = [];
  afterEach(async () => {
    for (const p of peers.splice(0)) p.destroy();
    for (const s of sessions.splice(0)) s.destroy();
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });
  const start = async () => {
    const srv = await startServer(undefined, undefined, { keepAlive: KEEP_ALIVE });
    servers.push(srv);
    return srv;
  };

  it('closes a connection whose peer leaves the PING unanswered, and goes on serving others', async () => {
    const srv = await start();
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
    const srv = await start();
    const session = connectHttp2(`http://127.0.0.1:${srv.port}`);
    sessions.push(session);
    let pings = 0;
    session.on('ping', () => pings++);
    await new Promise<void>((resolve, reject) =>
      session.once('connect', () => resolve()).once('error', reject),
    );
    await sleep(KEEP_ALIVE.intervalMs * 10);
    expect(pings).toBeGreaterThanOrEqual(3);
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
    const srv = await start();
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
