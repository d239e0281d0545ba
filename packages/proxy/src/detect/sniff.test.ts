import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseClientHello } from './client-hello.js';
import { H2_PREFACE, sniffProtocol } from './sniff.js';

/** The first bytes a real Node TLS client sends. */
async function captureClientHello(servername: string, alpn: string[]): Promise<Buffer> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const got = once(server, 'connection') as Promise<[Socket]>;
  const client = tlsConnect({
    host: '127.0.0.1',
    port: (server.address() as { port: number }).port,
    servername,
    ALPNProtocols: alpn,
  });
  client.on('error', () => undefined);
  const [socket] = await got;
  const [data] = (await once(socket, 'data')) as [Buffer];
  client.destroy();
  socket.destroy();
  server.close();
  return data;
}

describe('parseClientHello', () => {
  it('reads SNI and ALPN from a real ClientHello', async () => {
    const hello = await captureClientHello('web.emojivoto.serviceaccount.identity.linkerd.cluster.local', [
      'h2',
      'transport.l5d.io/v1',
    ]);
    expect(parseClientHello(hello)).toEqual({
      kind: 'hello',
      hello: {
        serverName: 'web.emojivoto.serviceaccount.identity.linkerd.cluster.local',
        alpn: ['h2', 'transport.l5d.io/v1'],
      },
    });
    // Every strict prefix is incomplete, never wrong.
    for (const n of [1, 3, 5, 6, 50, hello.length - 1]) {
      expect(parseClientHello(hello.subarray(0, n)).kind).toBe('incomplete');
    }
  });
});

describe('sniffProtocol', () => {
  it('recognises HTTP/1 request lines', () => {
    expect(sniffProtocol(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'))).toEqual({
      kind: 'done',
      protocol: 'http1',
    });
    expect(sniffProtocol(Buffer.from('POST /a?b=c HTTP/1.0\r\n'))).toEqual({
      kind: 'done',
      protocol: 'http1',
    });
    expect(sniffProtocol(Buffer.from('GET / HT')).kind).toBe('need-more');
    expect(sniffProtocol(Buffer.from('GET / SMTP/1.1\r\n'))).toEqual({ kind: 'done', protocol: 'opaque' });
  });
  it('recognises the HTTP/2 preface, waiting on its prefix', () => {
    expect(sniffProtocol(H2_PREFACE)).toEqual({ kind: 'done', protocol: 'http2' });
    expect(sniffProtocol(H2_PREFACE.subarray(0, 10)).kind).toBe('need-more');
  });
  it('calls anything else opaque', () => {
    expect(sniffProtocol(Buffer.from('*1\r\n$4\r\nPING\r\n'))).toEqual({ kind: 'done', protocol: 'opaque' });
    expect(sniffProtocol(Buffer.from([0, 1, 2, 3]))).toEqual({ kind: 'done', protocol: 'opaque' });
  });
  it('never throws on arbitrary bytes (fuzz)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        const r = sniffProtocol(Buffer.from(bytes));
        return r.kind === 'need-more' || r.kind === 'done';
      }),
      { numRuns: 2000 },
    );
  });
  it('never throws on mutated ClientHellos (fuzz)', async () => {
    const hello = await captureClientHello('a.b', ['h2']);
    fc.assert(
      fc.property(
        fc.nat(hello.length - 1),
        fc.integer({ min: 0, max: 255 }),
        fc.nat(hello.length),
        (i, b, cut) => {
          const copy = Buffer.from(hello);
          copy[i] = b;
          parseClientHello(copy.subarray(0, cut));
          return true;
        },
      ),
      { numRuns: 2000 },
    );
  });
});
