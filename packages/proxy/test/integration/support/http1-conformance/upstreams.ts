// The upstream servers of the HTTP/1 engine conformance suite, on 127.0.0.1 port 0: a node:http
// server that records each request it gets (head, decoded body, trailers), and a raw TCP server
// that records every byte and lets a test answer with exact bytes.
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { closeServer, listenHttp, listenTcp } from '../../proxy-harness.js';
import { Waiters } from './waiters.js';

export const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly httpVersion: string;
  /** [name, value, …] as received. */
  readonly rawHeaders: readonly string[];
  readonly body: Buffer;
  readonly rawTrailers: readonly string[];
}

/** Every value of a request header (case-insensitive name), in order. */
export function requestHeaderValues(r: Pick<RecordedRequest, 'rawHeaders'>, name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < r.rawHeaders.length; i += 2)
    if ((r.rawHeaders[i] as string).toLowerCase() === name) out.push(r.rawHeaders[i + 1] as string);
  return out;
}

export interface HttpUpstreamOptions {
  /**
   * Answers a request once its whole body arrived (default: 200 with
   * `<method> <url> <body length> <body sha256>`).
   */
  respond?(req: RecordedRequest, res: ServerResponse): void;
  /** Takes the request as it arrives instead (nothing recorded). */
  handle?(req: IncomingMessage, res: ServerResponse): void;
  /** An Upgrade request: the socket is the upstream's side, `head` what followed the request head. */
  upgrade?(req: IncomingMessage, socket: Duplex, head: Buffer): void;
}

export interface HttpUpstream {
  readonly port: number;
  /** Requests whose body arrived in full, in arrival order. */
  readonly requests: RecordedRequest[];
  /** Requests whose connection went away before their response ended. */
  readonly abandoned: string[];
  /** Waits until the request for `url` is abandoned. */
  abandonedBy(url: string, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export const describeRequest = (r: Pick<RecordedRequest, 'method' | 'url' | 'body'>): string =>
  `${r.method} ${r.url} ${r.body.length} ${sha256(r.body)}`;

export async function startHttpUpstream(options: HttpUpstreamOptions = {}): Promise<HttpUpstream> {
  const requests: RecordedRequest[] = [];
  const abandoned: string[] = [];
  const waiters = new Waiters();
  const upgraded = new Set<Duplex>();
  const { server, port } = await listenHttp((req, res) => {
    res.once('close', () => {
      if (res.writableFinished) return;
      abandoned.push(req.url ?? '');
      waiters.notify();
    });
    if (options.handle) {
      options.handle(req, res);
      return;
    }
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        httpVersion: req.httpVersion,
        rawHeaders: req.rawHeaders,
        body: Buffer.concat(parts),
        rawTrailers: req.rawTrailers,
      };
      requests.push(recorded);
      if (options.respond) options.respond(recorded, res);
      else res.end(describeRequest(recorded));
    });
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    upgraded.add(socket);
    socket.on('error', () => undefined);
    socket.once('close', () => upgraded.delete(socket));
    if (options.upgrade) options.upgrade(req, socket, head);
    else socket.destroy();
  });
  return {
    port,
    requests,
    abandoned,
    async abandonedBy(url, timeoutMs = 10_000) {
      await waiters.until(
        `the upstream seeing the request for ${url} go away`,
        timeoutMs,
        () => (abandoned.includes(url) ? true : undefined),
        () => `abandoned: ${JSON.stringify(abandoned)}`,
      );
    },
    async close() {
      for (const s of upgraded) s.destroy();
      await closeServer(server);
    },
  };
}

/** A port on 127.0.0.1 where nothing listens (a server's, closed again). */
export async function closedPort(): Promise<number> {
  const { server, port } = await listenTcp(() => undefined);
  await closeServer(server);
  return port;
}

/** One connection a raw upstream accepted. */
export interface RawConnection {
  readonly socket: Socket;
  /** Every byte received on it so far. */
  received(): Buffer;
  /** Waits until the bytes received contain `text` `count` times. */
  waitFor(text: string, count?: number, timeoutMs?: number): Promise<void>;
}

export interface RawUpstream {
  readonly port: number;
  readonly connections: RawConnection[];
  /** Every byte received on every connection, in connection order. */
  received(): Buffer;
  close(): Promise<void>;
}

const countOf = (haystack: string, needle: string): number => {
  let n = 0;
  for (let at = haystack.indexOf(needle); at >= 0; at = haystack.indexOf(needle, at + needle.length)) n++;
  return n;
};

export async function startRawUpstream(onConnection: (c: RawConnection) => void): Promise<RawUpstream> {
  const connections: RawConnection[] = [];
  const { server, port } = await listenTcp((socket) => {
    const parts: Buffer[] = [];
    const waiters = new Waiters();
    socket.on('data', (d: Buffer) => {
      parts.push(d);
      waiters.notify();
    });
    const received = () => Buffer.concat(parts);
    const conn: RawConnection = {
      socket,
      received,
      waitFor: async (text, count = 1, timeoutMs = 10_000) => {
        await waiters.until(
          `upstream: ${JSON.stringify(text)} x${count}`,
          timeoutMs,
          () => (countOf(received().toString('latin1'), text) >= count ? true : undefined),
          () => `got ${JSON.stringify(received().toString('latin1').slice(0, 400))}`,
        );
      },
    };
    connections.push(conn);
    onConnection(conn);
  });
  return {
    port,
    connections,
    received: () => Buffer.concat(connections.map((c) => c.received())),
    close: () => closeServer(server),
  };
}

/**
 * Answers every bodiless request head on the connection with `response(n)` (n counts from 0 on
 * this connection).
 */
export function answerEachHead(conn: RawConnection, response: (n: number) => string | Buffer): void {
  let seen = 0;
  let scanned = 0;
  conn.socket.on('data', () => {
    const text = conn.received().toString('latin1');
    for (let at = text.indexOf('\r\n\r\n', scanned); at >= 0; at = text.indexOf('\r\n\r\n', scanned)) {
      scanned = at + 4;
      const r = response(seen++);
      conn.socket.write(typeof r === 'string' ? Buffer.from(r, 'latin1') : r);
    }
  });
}
