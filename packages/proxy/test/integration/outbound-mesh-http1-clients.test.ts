// HTTP/1 clients of the outbound mesh (discovery, routes, retries), served by the raw-socket
// engine's client connections (RawHttp1Exchange, the default) and by node:http: the same cases on
// both. Real clients (curl, node:http) and raw sockets that write exact bytes and read the exact
// response (support/http1-conformance/wire-client.ts), a real outbound proxy over the scriptable
// control plane, node:http and raw TCP servers on 127.0.0.1 as the endpoints.
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer, type Socket } from 'node:net';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { header, requestBytes, WireClient } from './support/http1-conformance/wire-client.js';
import { within } from './support/http1-conformance/waiters.js';
import { meshTestbed, type MeshOutbound } from './support/mesh-outbound.js';
import { httpPolicy, type TestRule } from './support/policies.js';

const run = promisify(execFile);
const WEB = 'web.emojivoto.svc.cluster.local:80';
const NOWHERE = 'nowhere.emojivoto.svc.cluster.local:80';
const HOST: readonly [string, string] = ['Host', WEB];
const get = (path: string, extra: readonly (readonly [string, string])[] = []) =>
  requestBytes('GET', path, [HOST, ...extra]);

/** Reads a request's body whole. */
async function bodyOf(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** A request body sent chunked, in the given pieces. */
const chunkedBody = (pieces: readonly string[]) =>
  `${pieces.map((p) => `${Buffer.byteLength(p).toString(16)}\r\n${p}\r\n`).join('')}0\r\n\r\n`;

const bed = meshTestbed();

describe.each(['raw', 'node'] as const)('outbound mesh HTTP/1 clients on the %s engine', (engine) => {
  const client = async (port: number): Promise<WireClient> => {
    const c = await WireClient.connect(port);
    bed.onClose(() => c.destroy());
    return c;
  };

  /** A node:http endpoint for WEB, routed by `rules` (one rule to it by default). */
  const web = async (
    handler: (req: IncomingMessage, res: ServerResponse) => void,
    rules?: (path: string) => TestRule[],
  ): Promise<MeshOutbound> => {
    const s = await bed.server('127.0.0.1', (req, res) => handler(req, res));
    bed.cp.setEndpoints(WEB, [s]);
    bed.cp.setPolicy(WEB, httpPolicy(WEB, rules ? rules(WEB) : [{ backends: [{ path: WEB }] }]));
    return bed.start({ http1Engine: engine });
  };

  /** Answers `method url` and the body's length, for every request. */
  const describeRequest = async (req: IncomingMessage, res: ServerResponse) => {
    const body = await bodyOf(req);
    res.end(`${req.method} ${req.url} ${body.length}`);
  };

  it('keeps a connection alive across requests (raw socket, node:http agent, curl)', async () => {
    let connections = 0;
    const proxy = await web(describeRequest);
    const c = await client(proxy.port);
    for (const path of ['/a', '/b', '/c']) {
      await c.write(get(path));
      const r = await c.response();
      expect(r.status).toBe(200);
      expect(r.body.toString()).toBe(`GET ${path} 0`);
      expect(header(r, 'connection')).not.toBe('close');
    }
    expect(c.isEnded).toBe(false);

    // node:http with a keep-alive agent: both requests on one socket.
    const { Agent } = await import('node:http');
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    bed.onClose(() => agent.destroy());
    const sockets = new Set<Socket>();
    for (const path of ['/n1', '/n2']) {
      const res = await new Promise<IncomingMessage>((resolve, reject) => {
        const req = httpRequest({ port: proxy.port, host: '127.0.0.1', path, agent, headers: { host: WEB } });
        req.on('socket', (sock: Socket) => {
          if (!sockets.has(sock)) connections++;
          sockets.add(sock);
        });
        req.on('response', resolve).on('error', reject).end();
      });
      expect((await bodyOf(res)).toString()).toBe(`GET ${path} 0`);
    }
    expect(connections).toBe(1);

    // curl: two URLs, one connection.
    const out = await run(
      'curl',
      [
        '-sS',
        '-v',
        '--max-time',
        '20',
        '-H',
        `Host: ${WEB}`,
        `http://127.0.0.1:${proxy.port}/c1`,
        `http://127.0.0.1:${proxy.port}/c2`,
      ],
      { timeout: 30_000 },
    );
    expect(out.stdout).toBe('GET /c1 0GET /c2 0');
    expect(out.stderr).toMatch(/Re-using existing connection|Reusing existing/i);
  });

  it('answers pipelined requests in order', async () => {
    const proxy = await web((req, res) => {
      if (req.url === '/slow') setTimeout(() => res.end('slow'), 100);
      else if (req.url === '/chunked') {
        res.write('chunked ');
        res.end('two');
      } else res.end('three');
    });
    const c = await client(proxy.port);
    await c.write(Buffer.concat([get('/slow'), get('/chunked'), get('/fast')]));
    const bodies: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await c.response();
      expect(r.status).toBe(200);
      bodies.push(r.body.toString());
    }
    expect(bodies).toEqual(['slow', 'chunked two', 'three']);
    expect(c.isEnded).toBe(false);
  });

  it('hands the endpoint a chunked request body decoded, buffered for a retry', async () => {
    let attempts = 0;
    const proxy = await web(
      async (req, res) => {
        attempts++;
        const body = await bodyOf(req);
        if (attempts === 1) {
          res.statusCode = 503;
          res.end('try again');
          return;
        }
        res.end(`${req.method} ${req.headers['transfer-encoding'] ?? '-'} ${body.toString()}`);
      },
      (path) => [{ backends: [{ path }], retry: { maxRetries: 2, statuses: [[500, 599]] } }],
    );
    const c = await client(proxy.port);
    await c.write(
      requestBytes(
        'POST',
        '/vote',
        [HOST, ['Transfer-Encoding', 'chunked']],
        chunkedBody(['hello ', 'chunked ', 'world']),
      ),
    );
    const r = await c.response();
    expect(r.status).toBe(200);
    // The body arrives whole on the retry (re-framed by the endpoint side, not as the client's chunks).
    expect(r.body.toString()).toMatch(/^POST \S+ hello chunked world$/);
    expect(attempts).toBe(2);
    // The connection carries the next request.
    await c.write(get('/after'));
    expect((await c.response()).status).toBe(200);
  });

  it('streams a large chunked request body without retries, with the client paused by backpressure', async () => {
    const proxy = await web(async (req, res) => {
      // A slow reader: the proxy must hold the client back, not buffer it all.
      const chunks: Buffer[] = [];
      for await (const c of req) {
        chunks.push(c as Buffer);
        await new Promise((r) => setTimeout(r, 1));
      }
      const body = Buffer.concat(chunks);
      res.end(`${body.length} ${body.subarray(0, 4).toString()} ${body.subarray(-4).toString()}`);
    });
    const c = await client(proxy.port);
    const pieces: string[] = [];
    for (let i = 0; i < 64; i++)
      pieces.push(`${String(i).padStart(4, '0')}${'x'.repeat(16 * 1024 - 8)}${String(i).padStart(4, '0')}`);
    await c.write(requestBytes('POST', '/upload', [HOST, ['Transfer-Encoding', 'chunked']]));
    await c.write(chunkedBody(pieces), 30_000);
    const r = await c.response({ timeoutMs: 30_000 });
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe(`${64 * 16 * 1024} 0000 0063`);
  });

  it('sends a response without content-length chunked to HTTP/1.1, until close to HTTP/1.0', async () => {
    const proxy = await web((req, res) => {
      res.addTrailers({ 'x-checksum': 'abc' });
      res.write('part one, ');
      setTimeout(() => res.end('part two'), 20);
    });
    const c = await client(proxy.port);
    await c.write(get('/stream', [['TE', 'trailers']]));
    const r = await c.response();
    expect(r.framing).toBe('chunked');
    expect(r.body.toString()).toBe('part one, part two');
    // The node:http front relays no trailers (http1Exchange never writes them): a known gap.
    if (engine === 'raw') expect(r.trailers).toContainEqual(['x-checksum', 'abc']);
    expect(c.isEnded).toBe(false);

    const old = await client(proxy.port);
    await old.write(requestBytes('GET', '/stream', [HOST], '', 'HTTP/1.0'));
    const r0 = await old.response();
    expect(r0.status).toBe(200);
    expect(r0.framing).toBe('close');
    expect(r0.body.toString()).toBe('part one, part two');
    await old.ends();
  });

  it('sends no body for HEAD, 204 and 304, and the connection stays in step', async () => {
    const proxy = await web((req, res) => {
      if (req.url === '/204') {
        res.statusCode = 204;
        res.end();
      } else if (req.url === '/304') {
        res.statusCode = 304;
        res.setHeader('etag', '"v1"');
        res.end();
      } else {
        res.setHeader('content-type', 'text/plain');
        // HEAD: the length the body would have, no body.
        res.setHeader('content-length', '5');
        if (req.method === 'HEAD') res.end();
        else res.end('hello');
      }
    });
    const c = await client(proxy.port);
    await c.write(requestBytes('HEAD', '/thing', [HOST]));
    const head = await c.response({ method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    expect(header(head, 'content-length')).toBe('5');
    for (const status of [204, 304]) {
      await c.write(get(`/${status}`));
      const r = await c.response();
      expect(r.status).toBe(status);
      expect(r.body.length).toBe(0);
    }
    await c.write(get('/thing'));
    const after = await c.response();
    expect(after.body.toString()).toBe('hello');
    expect(c.pending.length).toBe(0);
  });

  it('answers Expect: 100-continue itself, then forwards the body', async () => {
    const proxy = await web(describeRequest);
    const c = await client(proxy.port);
    await c.write(
      requestBytes('POST', '/upload', [HOST, ['Content-Length', '5'], ['Expect', '100-continue']]),
    );
    const interim = await c.next();
    expect(interim.status).toBe(100);
    await c.write('hello');
    const r = await c.response();
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe('POST /upload 5');
  });

  it('answers a proxy error with l5d-proxy-error on a keep-alive connection, then serves the next request', async () => {
    const proxy = await web(describeRequest);
    bed.cp.setEndpoints(NOWHERE, []);
    bed.cp.setPolicy(NOWHERE, httpPolicy(NOWHERE, [{ backends: [{ path: NOWHERE, failfastMs: 200 }] }]));
    const c = await client(proxy.port);
    await c.write(requestBytes('GET', '/', [['Host', NOWHERE]]));
    const err = await c.response();
    expect(err.status).toBe(503);
    expect(header(err, 'l5d-proxy-error')).toMatch(/^NO_ENDPOINTS: /);
    expect(header(err, 'connection')).not.toBe('close');
    await c.write(get('/good'));
    const ok = await c.response();
    expect(ok.status).toBe(200);
    expect(ok.body.toString()).toBe('GET /good 0');
  });

  it('holds the endpoint back while a slow client reads a large response, then keeps the connection', async () => {
    const size = 16 * 1024 * 1024;
    const piece = Buffer.alloc(64 * 1024, 'x');
    let blocked = 0;
    const proxy = await web((req, res) => {
      if (req.url !== '/big') {
        res.end('next');
        return;
      }
      res.writeHead(200, { 'content-length': String(size) });
      let sent = 0;
      const more = () => {
        while (sent < size) {
          sent += piece.length;
          const ok = sent >= size ? (res.end(piece), true) : res.write(piece);
          if (!ok) {
            blocked++;
            res.once('drain', more);
            return;
          }
        }
      };
      more();
    });
    const agent = new (await import('node:http')).Agent({ keepAlive: true, maxSockets: 1 });
    bed.onClose(() => agent.destroy());
    const res = await new Promise<IncomingMessage>((resolve, reject) =>
      httpRequest({ port: proxy.port, path: '/big', headers: { host: WEB }, agent }, resolve)
        .on('error', reject)
        .end(),
    );
    res.pause();
    const localPort = res.socket.localPort;
    // The client reads nothing for a while: the proxy must stop reading the endpoint.
    await new Promise((r) => setTimeout(r, 300));
    const blockedWhilePaused = blocked;
    let received = 0;
    let intact = true;
    for await (const c of res) {
      received += (c as Buffer).length;
      if ((c as Buffer).some((b) => b !== 0x78)) intact = false;
    }
    expect(received).toBe(size);
    expect(intact).toBe(true);
    expect(blockedWhilePaused).toBeGreaterThan(0);
    const next = await new Promise<IncomingMessage>((resolve, reject) =>
      httpRequest({ port: proxy.port, path: '/next', headers: { host: WEB }, agent }, resolve)
        .on('error', reject)
        .end(),
    );
    // The same client connection carried both.
    expect(next.socket.localPort).toBe(localPort);
    expect((await bodyOf(next)).toString()).toBe('next');
  });

  it('cancels the endpoint request when the client closes mid-response', async () => {
    let upstreamClosed: Promise<unknown> | undefined;
    const proxy = await web((_req, res) => {
      upstreamClosed = once(res, 'close');
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first chunk');
      // Never ends: only the proxy cancelling the request closes it.
    });
    const c = await client(proxy.port);
    await c.write(get('/hold'));
    await c.sees('first chunk');
    c.destroy();
    await within(upstreamClosed ?? Promise.reject(new Error('no upstream request')), 3000, 'upstream close');
  });

  it('routes an absolute-form target by its path and authority, origin form to the endpoint', async () => {
    const proxy = await web((req, res) => res.end(req.url));
    const c = await client(proxy.port);
    await c.write(requestBytes('GET', `http://${WEB}/vote?x=1`, [['Host', 'ignored.example:80']]));
    const r = await c.response();
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe('/vote?x=1');
  });

  it('tunnels a WebSocket upgrade to the endpoint', async () => {
    // A raw endpoint: 101, then it echoes what it receives, upper-cased.
    const seenHeads: string[] = [];
    const tunnels = new Set<Socket>();
    const ws = createServer((s) => {
      tunnels.add(s);
      s.on('error', () => undefined);
      let buf = '';
      let upgraded = false;
      s.on('data', (d: Buffer) => {
        if (upgraded) {
          s.write(d.toString('latin1').toUpperCase());
          return;
        }
        buf += d.toString('latin1');
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        seenHeads.push(buf.slice(0, end));
        upgraded = true;
        s.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
        const rest = buf.slice(end + 4);
        if (rest) s.write(rest.toUpperCase());
      });
    });
    ws.listen(0, '127.0.0.1');
    await once(ws, 'listening');
    bed.onClose(
      () =>
        new Promise<void>((r) => {
          for (const s of tunnels) s.destroy();
          ws.close(() => r());
        }),
    );
    const port = (ws.address() as { port: number }).port;
    bed.cp.setEndpoints(WEB, [{ host: '127.0.0.1', port }]);
    bed.cp.setPolicy(WEB, httpPolicy(WEB, [{ backends: [{ path: WEB }] }]));
    const proxy = await bed.start({ http1Engine: engine });
    const c = await client(proxy.port);
    await c.write(
      Buffer.concat([
        requestBytes('GET', '/chat', [HOST, ['Connection', 'Upgrade'], ['Upgrade', 'websocket']]),
        Buffer.from('early bytes|'),
      ]),
    );
    const r = await c.next();
    expect(r.status).toBe(101);
    await c.write('hello tunnel');
    await c.sees('EARLY BYTES|HELLO TUNNEL');
    expect(seenHeads[0]).toMatch(/^GET \/chat HTTP\/1\.1\r\n/);
    expect(seenHeads[0]).toMatch(/\r\nUpgrade: websocket/i);
  });
});
