// Both HTTP/2 engines' proxies with Http2ProxyOptions.keepAlive: an accepted connection whose peer
// never acknowledges a PING is closed; one whose peer answers stays open while idle.
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttp2Proxy, type Http2Proxy, type Http2ProxyOptions } from './http2-proxy.js';
import { createRawHttp2Proxy } from './raw-h2/raw-http2-proxy.js';
import { Flag, FrameType } from './raw-h2/frames.js';
import { nodeClient, RawPeer, withTimeout } from './raw-h2/h2-peers.test-support.js';

const KEEP_ALIVE = { intervalMs: 60, timeoutMs: 150 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each([
  ['node:http2', createHttp2Proxy],
  ['raw', createRawHttp2Proxy],
] as const)('HTTP/2 keep-alive, %s engine', (_name, create) => {
  let proxy: Http2Proxy<object> | undefined;
  let server: Server | undefined;
  const cleanup: (() => void)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0)) c();
    server?.close();
    await proxy?.close();
  });

  async function listen(): Promise<number> {
    const options: Http2ProxyOptions<object> = {
      route: () => {
        throw new Error('no stream expected');
      },
      connectTimeoutMs: 1000,
      keepAlive: KEEP_ALIVE,
    };
    const p = create(options);
    proxy = p;
    server = createServer((socket: Socket) => p.accept(socket, Buffer.alloc(0), {}));
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    return (server.address() as { port: number }).port;
  }

  it('closes a connection whose peer never acknowledges the PING', async () => {
    const peer = new RawPeer(await listen());
    cleanup.push(() => peer.destroy());
    await peer.connected();
    peer.start();
    await peer.waitFrame((f) => f.type === FrameType.Ping && (f.flags & Flag.Ack) === 0, 'a PING', 2000);
    await withTimeout(peer.closed, 'the proxy closing the connection', 3000);
  });

  it('keeps a connection whose peer answers, idle for many intervals', async () => {
    const { session, pings } = await nodeClient(await listen());
    cleanup.push(() => session.destroy());
    await sleep(KEEP_ALIVE.intervalMs * 10);
    expect(pings()).toBeGreaterThanOrEqual(3);
    expect(session.closed || session.destroyed).toBe(false);
  });
});
