import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { connectTcp } from './connect.js';
import { bindListener, type Listener } from './listener.js';
import { forwardTcp, type ForwardResult } from './tcp-forward.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A server that reads until the client half-closes, then answers with the byte count and ends. */
async function countingServer(): Promise<number> {
  const server: Server = createServer({ allowHalfOpen: true }, (s) => {
    let n = 0;
    s.on('data', (d: Buffer) => (n += d.length));
    s.on('end', () => s.end(`got ${n}`));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(() => server.close());
  return (server.address() as { port: number }).port;
}

async function proxyTo(port: number, results: ForwardResult[]): Promise<Listener> {
  const listener = await bindListener({ host: '127.0.0.1', port: 0 }, (client) => {
    void connectTcp({ host: '127.0.0.1', port, timeoutMs: 1000 }).then(
      async (upstream) => results.push(await forwardTcp(client, upstream)),
      () => client.destroy(),
    );
  });
  cleanups.push(async () => {
    listener.destroyConnections();
    await listener.stopAccepting();
  });
  return listener;
}

function exchange(port: number, payload: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const s: Socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    const chunks: Buffer[] = [];
    s.on('data', (d: Buffer) => chunks.push(d));
    s.on('end', () => {
      s.end();
      resolve(Buffer.concat(chunks).toString());
    });
    s.on('error', reject);
    s.end(payload);
  });
}

describe('forwardTcp', () => {
  it('carries half-close: the server answers after the client has finished sending', async () => {
    const results: ForwardResult[] = [];
    const proxy = await proxyTo(await countingServer(), results);
    const payload = Buffer.alloc(5 * 1024 * 1024, 7);
    expect(await exchange(proxy.address.port, payload)).toBe(`got ${payload.length}`);
    await expect.poll(() => results.length).toBe(1);
    expect(results[0]).toMatchObject({
      bytesFromClient: payload.length,
      bytesFromServer: `got ${payload.length}`.length,
      error: undefined,
    });
  });

  it('reports an error and closes the client when the server resets', async () => {
    const server = createServer((s) => s.once('data', () => s.resetAndDestroy()));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    cleanups.push(() => server.close());
    const results: ForwardResult[] = [];
    const proxy = await proxyTo((server.address() as { port: number }).port, results);
    const s = connect(proxy.address.port, '127.0.0.1');
    s.on('error', () => undefined);
    s.write('hello');
    await once(s, 'close');
    await expect.poll(() => results.length).toBe(1);
    expect(results[0]?.error).toBeInstanceOf(Error);
  });

  it('sends bytes read ahead (detection) before piping', async () => {
    const results: ForwardResult[] = [];
    const port = await countingServer();
    const listener = await bindListener({ host: '127.0.0.1', port: 0 }, (client) => {
      void connectTcp({ host: '127.0.0.1', port, timeoutMs: 1000 }).then(async (upstream) =>
        results.push(await forwardTcp(client, upstream, Buffer.from('12345'))),
      );
    });
    cleanups.push(() => listener.stopAccepting());
    expect(await exchange(listener.address.port, Buffer.from('abc'))).toBe('got 8');
  });
});

describe('connectTcp', () => {
  it('fails with code unavailable when nothing listens', async () => {
    const port = await countingServer();
    cleanups.pop()?.();
    await expect(connectTcp({ host: '127.0.0.1', port, timeoutMs: 1000 })).rejects.toMatchObject({
      code: 'unavailable',
    });
  });
  it('honours an aborted signal', async () => {
    await expect(
      connectTcp({ host: '127.0.0.1', port: 1, timeoutMs: 1000, signal: AbortSignal.abort() }),
    ).rejects.toMatchObject({ code: 'aborted' });
  });
});
