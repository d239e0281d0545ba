// A raw TCP client for the HTTP/1 engine conformance suite: it writes exact bytes and reads the
// exact response bytes back, parsing them with a small strict HTTP/1.1 response reader of its own
// (RFC 9112 §4-§7), so the suite sees the framing an engine puts on the wire — chunked or sized,
// stray bytes after a body, a missing last chunk — and not what a forgiving client library makes
// of it. Every wait is bounded and says what it waited for.
import { connect, type Socket } from 'node:net';
import { Waiters, within } from './waiters.js';

/** How a response's body ended on the wire. */
export type BodyFraming = 'none' | 'length' | 'chunked' | 'close';

export interface WireResponse {
  readonly version: string;
  readonly status: number;
  /** Header lines in wire order, names as sent. */
  readonly headers: readonly (readonly [string, string])[];
  /** The payload (chunked coding removed). */
  readonly body: Buffer;
  readonly framing: BodyFraming;
  readonly trailers: readonly (readonly [string, string])[];
  /** False when the connection ended before the body did (the body holds what arrived). */
  readonly complete: boolean;
}

/** Every value of a header (case-insensitive name), in wire order. */
export function headerValues(r: Pick<WireResponse, 'headers'>, name: string): string[] {
  const lower = name.toLowerCase();
  return r.headers.filter(([n]) => n.toLowerCase() === lower).map(([, v]) => v);
}

/** The one value of a header, or undefined; fails when the header is repeated. */
export function header(r: Pick<WireResponse, 'headers'>, name: string): string | undefined {
  const values = headerValues(r, name);
  if (values.length > 1) throw new Error(`header ${name} repeated: ${JSON.stringify(values)}`);
  return values[0];
}

const CRLF = Buffer.from('\r\n');

class Malformed extends Error {}

interface Parsed {
  readonly response: WireResponse;
  readonly consumed: number;
}

/** Header lines of a head or trailer section (without its final empty line). */
function fieldLines(text: string, where: string): [string, string][] {
  const out: [string, string][] = [];
  for (const line of text.split('\r\n')) {
    if (line === '') continue;
    if (line.includes('\n') || line.includes('\r')) throw new Malformed(`bare CR or LF in ${where}: ${line}`);
    if (line.startsWith(' ') || line.startsWith('\t')) throw new Malformed(`obs-fold in ${where}: ${line}`);
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Malformed(`no field name in ${where}: ${line}`);
    const name = line.slice(0, colon);
    if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name))
      throw new Malformed(`bad field name in ${where}: ${line}`);
    out.push([name, line.slice(colon + 1).trim()]);
  }
  return out;
}

/** Where a chunked body that starts at `from` ends, with its payload and trailers; or what arrived of it so far. */
function parseChunked(
  buf: Buffer,
  from: number,
): { end: number; body: Buffer; trailers: [string, string][] } | { partial: Buffer; need: number } {
  const parts: Buffer[] = [];
  let at = from;
  for (;;) {
    const eol = buf.indexOf(CRLF, at);
    if (eol < 0) return { partial: Buffer.concat(parts), need: buf.length + 1 };
    const sizeLine = buf.toString('latin1', at, eol);
    const m = /^([0-9A-Fa-f]{1,15})(;.*)?$/.exec(sizeLine);
    if (!m) throw new Malformed(`bad chunk size line: ${JSON.stringify(sizeLine)}`);
    const size = parseInt(m[1] as string, 16);
    if (size === 0) {
      const end = buf.indexOf('\r\n\r\n', eol);
      if (eol + 2 <= buf.length && buf.subarray(eol + 2, eol + 4).equals(CRLF))
        return { end: eol + 4, body: Buffer.concat(parts), trailers: [] };
      if (end < 0) return { partial: Buffer.concat(parts), need: buf.length + 1 };
      return {
        end: end + 4,
        body: Buffer.concat(parts),
        trailers: fieldLines(buf.toString('latin1', eol + 2, end), 'trailers'),
      };
    }
    if (buf.length < eol + 2 + size + 2) {
      parts.push(buf.subarray(eol + 2, Math.min(buf.length, eol + 2 + size)));
      return { partial: Buffer.concat(parts), need: eol + 4 + size };
    }
    parts.push(buf.subarray(eol + 2, eol + 2 + size));
    if (!buf.subarray(eol + 2 + size, eol + 4 + size).equals(CRLF))
      throw new Malformed('chunk data not followed by CRLF');
    at = eol + 4 + size;
  }
}

/**
 * One response from the start of `buf`, or (while the connection has not ended) how many bytes
 * `buf` must hold before trying again. `method` is the request's (HEAD responses have no body).
 */
function parseResponse(buf: Buffer, method: string, ended: boolean): Parsed | { need: number } {
  const more = { need: buf.length + 1 };
  const headEnd = buf.indexOf('\r\n\r\n');
  if (headEnd < 0) {
    if (ended && buf.length > 0)
      throw new Malformed(`connection ended inside a response head: ${buf.toString('latin1')}`);
    return more;
  }
  const head = buf.toString('latin1', 0, headEnd);
  const firstEol = head.indexOf('\r\n');
  const statusLine = firstEol < 0 ? head : head.slice(0, firstEol);
  const m = /^(HTTP\/1\.[01]) ([1-5][0-9]{2}) [^\r\n]*$/.exec(statusLine);
  if (!m) throw new Malformed(`bad status line: ${JSON.stringify(statusLine)}`);
  const version = m[1] as string;
  const status = Number(m[2]);
  const headers = firstEol < 0 ? [] : fieldLines(head.slice(firstEol + 2), 'response head');
  const bodyStart = headEnd + 4;
  const done = (
    framing: BodyFraming,
    body: Buffer,
    end: number,
    trailers: [string, string][] = [],
    complete = true,
  ) => ({
    response: { version, status, headers, body, framing, trailers, complete },
    consumed: end,
  });
  const te = headerValues({ headers }, 'transfer-encoding');
  const cl = headerValues({ headers }, 'content-length');
  if (status < 200 || status === 204 || status === 304 || method === 'HEAD') {
    if (status < 200 || status === 204) {
      if (te.length > 0 || (status < 200 && cl.length > 0))
        throw new Malformed(`${status} response with framing headers: ${head}`);
    }
    return done('none', Buffer.alloc(0), bodyStart);
  }
  if (te.length > 0) {
    if (cl.length > 0)
      throw new Malformed(`response with both Transfer-Encoding and Content-Length: ${head}`);
    const codings = te
      .join(',')
      .split(',')
      .map((c) => c.trim().toLowerCase());
    if (codings.at(-1) !== 'chunked') {
      return ended ? done('close', buf.subarray(bodyStart), buf.length) : more;
    }
    const r = parseChunked(buf, bodyStart);
    if ('partial' in r) return ended ? done('chunked', r.partial, buf.length, [], false) : { need: r.need };
    return done('chunked', r.body, r.end, r.trailers);
  }
  if (cl.length > 0) {
    if (new Set(cl).size !== 1 || !/^[0-9]+$/.test(cl[0] as string))
      throw new Malformed(`bad Content-Length: ${JSON.stringify(cl)}`);
    const length = Number(cl[0]);
    if (buf.length >= bodyStart + length)
      return done('length', buf.subarray(bodyStart, bodyStart + length), bodyStart + length);
    return ended
      ? done('length', buf.subarray(bodyStart), buf.length, [], false)
      : { need: bodyStart + length };
  }
  // Close-delimited (RFC 9112 §6.3 rule 8): the body is everything until the connection ends.
  return ended ? done('close', buf.subarray(bodyStart), buf.length) : more;
}

/** What next() gives when the connection ended without a byte of a response. */
const NOTHING: WireResponse = Object.freeze({
  version: '',
  status: 0,
  headers: [],
  body: Buffer.alloc(0),
  framing: 'none',
  trailers: [],
  complete: false,
});

export interface ReadOptions {
  /** The request's method (HEAD: no body). Default GET. */
  readonly method?: string;
  readonly timeoutMs?: number;
}

export class WireClient {
  // Received bytes not read yet: pieces joined only when a reader needs them (a 5 MB body arrives
  // in hundreds of pieces).
  private pieces: Buffer[] = [];
  private size = 0;
  private ended = false;
  private closedFlag = false;
  private readonly waiters = new Waiters();

  private constructor(readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.pieces.push(d);
      this.size += d.length;
      this.wake();
    });
    socket.on('end', () => {
      this.ended = true;
      this.wake();
    });
    socket.on('close', () => {
      this.ended = true;
      this.closedFlag = true;
      this.wake();
    });
    socket.on('connect', () => this.wake());
    socket.on('error', () => undefined);
  }

  static async connect(port: number, host = '127.0.0.1'): Promise<WireClient> {
    const socket = connect({ port, host, noDelay: true });
    const client = new WireClient(socket);
    await client.until(`connecting to ${host}:${port}`, 5_000, () => {
      if (client.closedFlag) throw new Error(`connection to ${host}:${port} closed before it opened`);
      return socket.readyState === 'open' ? true : undefined;
    });
    return client;
  }

  private get buf(): Buffer {
    if (this.pieces.length !== 1) this.pieces = [Buffer.concat(this.pieces, this.size)];
    return this.pieces[0] as Buffer;
  }

  private set buf(b: Buffer) {
    this.pieces = [b];
    this.size = b.length;
  }

  private wake() {
    this.waiters.notify();
  }

  /** Waits until `check` returns a value (re-checked on every event of the socket). */
  private until<T>(what: string, timeoutMs: number, check: () => T | undefined): Promise<T> {
    return this.waiters.until(
      what,
      timeoutMs,
      check,
      () =>
        `received so far: ${JSON.stringify(this.buf.toString('latin1').slice(0, 400))}${this.ended ? ', connection ended' : ''}`,
    );
  }

  /** Writes `data` (a string as latin1); resolves once the kernel took it all. */
  write(data: string | Buffer, timeoutMs = 10_000): Promise<void> {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    const written = new Promise<void>((resolve, reject) =>
      this.socket.write(bytes, (err) => (err ? reject(err) : resolve())),
    );
    return within(written, timeoutMs, `writing ${bytes.length} bytes (is the peer reading?)`);
  }

  /** Writes `data` in pieces of `size` bytes, each in its own write after an event-loop turn. */
  async writeSlowly(data: string | Buffer, size = 1): Promise<void> {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    for (let i = 0; i < bytes.length; i += size) {
      await this.write(bytes.subarray(i, i + size));
      await new Promise((r) => setImmediate(r));
    }
  }

  /**
   * The next response (a 1xx interim one too). When the connection ends first, a response with
   * `complete: false` (status 0 when not even a head arrived).
   */
  next(options: ReadOptions = {}): Promise<WireResponse> {
    const method = options.method ?? 'GET';
    let need = 1;
    return this.until(`reading a response to ${method}`, options.timeoutMs ?? 10_000, () => {
      if (this.ended && this.size === 0) return NOTHING;
      if (!this.ended && this.size < need) return undefined;
      const parsed = parseResponse(this.buf, method, this.ended);
      if ('need' in parsed) {
        need = parsed.need;
        return undefined;
      }
      this.buf = this.buf.subarray(parsed.consumed);
      return parsed.response;
    });
  }

  /** The next final (non-1xx) response, which must be complete; interim ones are collected. */
  async response(options: ReadOptions = {}): Promise<WireResponse & { readonly interim: WireResponse[] }> {
    const interim: WireResponse[] = [];
    for (;;) {
      const r = await this.next(options);
      if (!r.complete) {
        throw new Error(
          r.status === 0
            ? 'the connection closed before a response'
            : `the connection closed before the end of a ${r.status} response (${r.body.length} body bytes)`,
        );
      }
      if (r.status >= 200 || r.status === 101) return { ...r, interim };
      interim.push(r);
    }
  }

  /** Bytes received and not read as responses yet. */
  get pending(): Buffer {
    return this.buf;
  }

  /** Waits until at least `n` unread bytes arrived, and takes them. */
  async take(n: number, timeoutMs = 10_000): Promise<Buffer> {
    await this.until(`waiting for ${n} bytes`, timeoutMs, () => {
      if (this.size >= n) return true;
      if (this.ended) throw new Error(`the connection ended after ${this.size} of ${n} bytes`);
      return undefined;
    });
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }

  /** Waits until the unread bytes contain `text` (latin1). */
  async sees(text: string, timeoutMs = 10_000): Promise<void> {
    await this.until(`waiting for ${JSON.stringify(text.slice(0, 60))}`, timeoutMs, () => {
      if (this.buf.includes(text, 0, 'latin1')) return true;
      if (this.ended) throw new Error(`the connection ended before ${JSON.stringify(text.slice(0, 60))}`);
      return undefined;
    });
  }

  /** Waits until the peer ended or closed the connection. */
  async ends(timeoutMs = 10_000): Promise<void> {
    await this.until('waiting for the connection to end', timeoutMs, () => (this.ended ? true : undefined));
  }

  get isEnded(): boolean {
    return this.ended;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** The bytes of a request: method, target, header lines and body, HTTP/1.1 by default. */
export function requestBytes(
  method: string,
  target: string,
  headers: readonly (readonly [string, string])[] = [],
  body: string | Buffer = '',
  version = 'HTTP/1.1',
): Buffer {
  const head = [`${method} ${target} ${version}`, ...headers.map(([n, v]) => `${n}: ${v}`)].join('\r\n');
  return Buffer.concat([
    Buffer.from(`${head}\r\n\r\n`, 'latin1'),
    typeof body === 'string' ? Buffer.from(body, 'latin1') : body,
  ]);
}
