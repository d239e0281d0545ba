import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { detectProtocol, type Detection } from './detect-protocol.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

async function detectOn(
  timeoutMs: number,
  client: (port: number) => Socket,
): Promise<{ d: Detection; s: Socket }> {
  const server: Server = createServer({ allowHalfOpen: true });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const got = once(server, 'connection') as Promise<[Socket]>;
  const c = client((server.address() as { port: number }).port);
  c.on('error', () => undefined);
  const [s] = await got;
  cleanups.push(() => {
    c.destroy();
    s.destroy();
    server.close();
  });
  return { d: await detectProtocol(s, { timeoutMs }), s };
}

describe('detectProtocol', () => {
  it('detects HTTP/1 and returns the bytes read', async () => {
    const { d } = await detectOn(1000, (port) =>
      connect(port, '127.0.0.1').end('GET / HTTP/1.1\r\nHost: a\r\n\r\n'),
    );
    expect(d).toMatchObject({ protocol: 'http1', timedOut: false });
    expect(d.buffered.toString()).toMatch(/^GET \/ HTTP\/1.1\r\n/);
  });

  it('detects TLS with SNI and ALPN', async () => {
    const { d } = await detectOn(1000, (port) =>
      tlsConnect({ port, host: '127.0.0.1', servername: 'x.test', ALPNProtocols: ['h2'] }),
    );
    expect(d.protocol).toBe('tls');
    expect(d.clientHello).toEqual({ serverName: 'x.test', alpn: ['h2'] });
  });

  it('falls back to opaque on timeout when the client says nothing (server speaks first)', async () => {
    const { d } = await detectOn(50, (port) => connect(port, '127.0.0.1'));
    expect(d).toMatchObject({ protocol: 'opaque', timedOut: true, buffered: Buffer.alloc(0) });
  });

  it('returns what a client sent before it half-closed', async () => {
    const { d } = await detectOn(1000, (port) =>
      connect({ port, host: '127.0.0.1', allowHalfOpen: true }).end('GE'),
    );
    expect(d).toMatchObject({ protocol: 'opaque', closed: true });
    expect(d.buffered.toString()).toBe('GE');
  });
});
