// RFC 9113 §6.5.3: a peer that never acknowledges this side's SETTINGS is cut with SETTINGS_TIMEOUT;
// one that does (node:http2, a raw peer sending the ACK) is not.
import { connect as connectHttp2, type ClientHttp2Session } from 'node:http2';
import { afterEach, describe, expect, it } from 'vitest';
import { Flag, FrameType, H2Error } from './frames.js';
import {
  frame,
  rawConnect,
  startServer,
  stillServes,
  withTimeout,
  type RawPeer,
  type TestServer,
} from './h2-peers.test-support.js';

const SETTINGS_TIMEOUT_MS = 150;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('SETTINGS acknowledgement timeout', () => {
  const servers: TestServer[] = [];
  const peers: RawPeer[] = [];
  const sessions: ClientHttp2Session[] = [];
  afterEach(async () => {
    for (const p of peers.splice(0)) p.destroy();
    for (const s of sessions.splice(0)) s.destroy();
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });
  const start = async () => {
    const srv = await startServer(undefined, undefined, { settingsTimeoutMs: SETTINGS_TIMEOUT_MS });
    servers.push(srv);
    return srv;
  };

  it('ends a connection whose peer never acknowledges the SETTINGS, and goes on serving', async () => {
    const srv = await start();
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

  it('keeps a peer that acknowledges', async () => {
    const srv = await start();
    const { peer, owner } = await rawConnect(srv, peers);
    peer.start();
    await peer.waitFrame((f) => f.type === FrameType.Settings && (f.flags & Flag.Ack) === 0, 'our SETTINGS');
    peer.send(frame(FrameType.Settings, Flag.Ack, 0, Buffer.alloc(0)));
    await sleep(SETTINGS_TIMEOUT_MS * 3);
    expect(peer.frames.filter((f) => f.type === FrameType.Goaway)).toEqual([]);
    expect(owner.closedWith).toBeUndefined();

    const session = connectHttp2(`http://127.0.0.1:${srv.port}`);
    sessions.push(session);
    await new Promise<void>((resolve, reject) =>
      session.once('connect', () => resolve()).once('error', reject),
    );
    await sleep(SETTINGS_TIMEOUT_MS * 3);
    expect(session.closed || session.destroyed).toBe(false);
  });
});
