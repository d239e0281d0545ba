// The raw-socket HTTP/1.1 engine carrying requests over HTTP/2 to a peer that accepts it
// (`upgradeToHttp2`, Linkerd's l5d-orig-proto), against a real node:http2 server. A peer that
// answers at once sends the response's HEADERS and DATA in one write; node:http2 then emits the
// stream's data before its 'response' event, which once lost the body of ~1 % of responses under
// load (the client got a head with content-length: 3 and waited for ever).
import { once } from 'node:events';
import { createServer, type Http2Server, type ServerHttp2Stream } from 'node:http2';
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createRawHttp1Proxy } from '../../src/http/index.js';
import { startEngine, type EngineHarness } from './support/http1-conformance/engine-harness.js';
import { requestBytes, WireClient } from './support/http1-conformance/wire-client.js';

describe('raw-socket HTTP/1.1 engine: HTTP/2 carriage', () => {
  let h: EngineHarness | undefined;
  let peer: Http2Server | undefined;
  let rawPeer: Server | undefined;
  const peerSockets: Socket[] = [];
  const clients: WireClient[] = [];

  afterEach(async () => {
    for (const c of clients.splice(0)) c.socket.destroy();
    await h?.close();
    for (const s of peerSockets.splice(0)) s.destroy();
    if (rawPeer) {
      const closed = once(rawPeer, 'close');
      rawPeer.close();
      await closed;
      rawPeer = undefined;
    }
    if (peer) {
      const closed = once(peer, 'close');
      peer.close();
      await closed;
    }
  });

  /** An HTTP/2 peer answering every stream at once: its path back, sized, in the same tick. */
  const startPeer = async () => {
    const seen: { path: string; origProto: unknown }[] = [];
    peer = createServer();
    peer.on('stream', (stream: ServerHttp2Stream, headers) => {
      seen.push({ path: String(headers[':path']), origProto: headers['l5d-orig-proto'] });
      const body = String(headers[':path']);
      stream.respond({ ':status': 200, 'content-length': String(body.length), 'l5d-orig-proto': 'HTTP/1.1' });
      stream.end(body);
    });
    peer.on('session', (s) => s.on('error', () => undefined));
    peer.listen(0, '127.0.0.1');
    await once(peer, 'listening');
    const { port } = peer.address() as { port: number };
    return { port, seen };
  };

  /**
   * An HTTP/2 peer written as raw frames so that every response's HEADERS and DATA leave in one
   * write (node:http2's server does not promise that): `:status: 200`, `content-length: 3`, "abc".
   */
  const startRawPeer = async () => {
    const frame = (type: number, flags: number, stream: number, payload: Buffer) => {
      const f = Buffer.alloc(9 + payload.length);
      f.writeUIntBE(payload.length, 0, 3);
      f[3] = type;
      f[4] = flags;
      f.writeUInt32BE(stream, 5);
      payload.copy(f, 9);
      return f;
    };
    // HPACK: indexed :status 200 (static 8); content-length (static 28) literal without indexing.
    const block = Buffer.from([0x88, 0x0f, 0x0d, 0x01, 0x33]);
    let streams = 0;
    rawPeer = createTcpServer((socket) => {
      peerSockets.push(socket);
      socket.on('error', () => undefined);
      socket.write(frame(4, 0, 0, Buffer.alloc(0))); // our SETTINGS
      let buf = Buffer.alloc(0);
      let preface = false;
      socket.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        if (!preface) {
          if (buf.length < 24) return;
          buf = buf.subarray(24);
          preface = true;
        }
        while (buf.length >= 9) {
          const len = buf.readUIntBE(0, 3);
          if (buf.length < 9 + len) return;
          const type = buf[3] as number;
          const flags = buf[4] as number;
          const id = buf.readUInt32BE(5) & 0x7fffffff;
          buf = buf.subarray(9 + len);
          if (type === 4 && (flags & 1) === 0) socket.write(frame(4, 1, 0, Buffer.alloc(0))); // SETTINGS ack
          if (type === 1) {
            streams++;
            socket.write(
              Buffer.concat([frame(1, 0x4, id, block), frame(0, 0x1, id, Buffer.from('abc', 'latin1'))]),
            );
          }
        }
      });
    });
    rawPeer.listen(0, '127.0.0.1');
    await once(rawPeer, 'listening');
    const { port } = rawPeer.address() as { port: number };
    return { port, streams: () => streams };
  };

  it('delivers the body of a response whose HEADERS and DATA came in one read', async () => {
    const { port, streams } = await startRawPeer();
    h = await startEngine(createRawHttp1Proxy);
    h.route = () => ({ target: { host: '127.0.0.1', port }, upgradeToHttp2: true });
    const client = await WireClient.connect(h.port);
    clients.push(client);
    for (let r = 0; r < 20; r++) {
      await client.write(requestBytes('GET', `/r${r}`, [['Host', 'peer.test']]));
      const res = await client.response({ timeoutMs: 5_000 });
      expect(res.status).toBe(200);
      expect(res.body.toString('latin1')).toBe('abc');
    }
    expect(streams()).toBe(20);
  });

  it('delivers every body when the peer answers at once: 20 connections x 50 requests', async () => {
    const { port, seen } = await startPeer();
    h = await startEngine(createRawHttp1Proxy);
    h.route = () => ({ target: { host: '127.0.0.1', port }, upgradeToHttp2: true });
    await Promise.all(
      Array.from({ length: 20 }, async (_, c) => {
        const client = await WireClient.connect(h!.port);
        clients.push(client);
        for (let r = 0; r < 50; r++) {
          const path = `/c${c}/r${r}`;
          await client.write(requestBytes('GET', path, [['Host', 'peer.test']]));
          const res = await client.response({ timeoutMs: 5_000 });
          expect(res.status).toBe(200);
          expect(res.body.toString('latin1')).toBe(path);
          expect(res.headers.some(([n]) => n.toLowerCase() === 'l5d-orig-proto')).toBe(false);
        }
      }),
    );
    expect(seen).toHaveLength(1000);
    expect(seen.every((s) => s.origProto === 'HTTP/1.1')).toBe(true);
    const outcomes = await h.reported(1000);
    expect(outcomes.every((o) => o.status === 200 && o.error === undefined)).toBe(true);
  });
});
