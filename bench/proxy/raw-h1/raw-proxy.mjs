// MEASURED PROTOTYPE for issue #5 (proxy throughput), kept as a benchmark experiment: NOT the
// product's engine (that is packages/proxy) and not to be imported by it. It shows what an HTTP/1.1
// forwarding proxy pair on raw sockets (no node:http, no undici) costs, so the real engine can be
// built from it and its figures reproduced with proxy-bench.mjs (--paths ...,raw-js:raw:js,...).
// What it does NOT do (known gaps, each would be a bug in product code):
//   - no Upgrade (answered 501), no timeouts of any kind (head, idle, connect, body);
//   - chunk extensions and trailers pass through raw (js parser) or are dropped (llhttp parser),
//     never validated or filtered;
//   - an HTTP/1.0 client may get a chunked response (the upstream's framing is forwarded as is);
//   - no retry when a reused upstream connection is closed by the server before answering;
//   - minimal backpressure (pause one side until the other drains; no limits on queued requests).
//
// An HTTP/1.1 forwarding proxy on raw sockets. Parses only message heads, forwards bodies by
// their framing, pools keep-alive upstream connections. One process = one side of the pair:
//   RAW_ROLE=outbound  plaintext listener → TLS 1.3 (client cert, verified against ca.crt) upstream
//   RAW_ROLE=inbound   TLS listener requiring client certs → plaintext upstream (the app);
//                      adds l5d-client-id: <peer identity>
//   RAW_PARSER=js      hand-written head parser, bodies forwarded byte for byte (chunked scanned)
//   RAW_PARSER=llhttp  Node's own llhttp (HTTPParser of node:_http_common); bodies come decoded
//                      and are re-framed (chunked re-encoded, trailers dropped)
//   RAW_METRICS=0      no prom-client work per request; =cached: label sets resolved once
//   RAW_TLS=0          plaintext between the proxies (to measure TLS's share)
//   RAW_COALESCE=0     small head+body written separately (default: one latin1 string, one write)
// Env from the bench: BENCH_CERT_DIR, BENCH_NAME (a|b), BENCH_PEER_IDENTITY, RAW_UPSTREAM_PORT.
// Prints {"port":N} once listening on 127.0.0.1.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import net from 'node:net';
import tls from 'node:tls';

const require = createRequire(new URL('../../../packages/proxy/package.json', import.meta.url));
const env = process.env;
const ROLE = env.RAW_ROLE;
const PARSER = env.RAW_PARSER ?? 'js';
const METRICS = env.RAW_METRICS !== '0';
const UP_PORT = Number(env.RAW_UPSTREAM_PORT);
const dir = env.BENCH_CERT_DIR;
const NAME = env.BENCH_NAME;
const PEER_ID = env.BENCH_PEER_IDENTITY;
const MESH_TLS = env.RAW_TLS !== '0';
const COALESCE = env.RAW_COALESCE !== '0';
const MAX_HEAD = 16 * 1024;
const cert = readFileSync(join(dir, `${NAME}.crt`));
const key = readFileSync(join(dir, `${NAME}.key`));
const ca = readFileSync(join(dir, 'ca.crt'));

// --- metrics (what the real proxy does per request: one counter inc, one histogram observe) ---
let record = () => undefined;
if (METRICS) {
  const { Registry, Counter, Histogram } = require('prom-client');
  const registry = new Registry();
  const total = new Counter({
    name: 'request_total',
    help: 'requests',
    labelNames: ['direction', 'authority', 'tls', 'status_code'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'response_latency_ms',
    help: 'latency',
    labelNames: ['direction', 'tls', 'status_code'],
    buckets: [1, 2, 3, 4, 5, 10, 20, 30, 40, 50, 100, 200, 300, 400, 500, 1000, 2000, 5000],
    registers: [registry],
  });
  if (env.RAW_METRICS === 'cached') {
    // As the real proxy's hot-path.ts: label sets resolved once, then child.inc()/observe().
    const children = new Map();
    record = (authority, status, ms) => {
      const k = `${authority}\0${status}`;
      let c = children.get(k);
      if (c === undefined) {
        const code = String(status);
        c = {
          t: total.labels({ direction: ROLE, authority, tls: 'true', status_code: code }),
          l: latency.labels({ direction: ROLE, tls: 'true', status_code: code }),
        };
        children.set(k, c);
      }
      c.t.inc();
      c.l.observe(ms);
    };
  } else
    record = (authority, status, ms) => {
      const code = String(status);
      total.inc({ direction: ROLE, authority, tls: 'true', status_code: code });
      latency.observe({ direction: ROLE, tls: 'true', status_code: code }, ms);
    };
}

// --- head parsing (RAW_PARSER=js) ---------------------------------------------------------------
// Hop-by-hop headers that are dropped. transfer-encoding/content-length/trailer stay: the body is
// forwarded with its own framing.
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'upgrade', 'http2-settings']);
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const BAD_CHARS = /[\0\r\n]/;
class HttpError extends Error {
  constructor(status, msg) {
    super(msg);
    this.status = status;
  }
}

/**
 * Parses a head (without the final CRLFCRLF) into start line parts and framing facts, and builds
 * the head to forward (hop-by-hop headers dropped, `extra` added). Throws HttpError when malformed.
 */
function parseHead(str, isRequest, extra, dropName) {
  const lines = str.split('\r\n');
  const start = lines[0];
  let a, b, c;
  const s1 = start.indexOf(' ');
  const s2 = s1 < 0 ? -1 : start.indexOf(' ', s1 + 1);
  if (s1 <= 0) throw new HttpError(400, 'bad start line');
  if (isRequest) {
    if (s2 < 0) throw new HttpError(400, 'bad request line');
    a = start.slice(0, s1); // method
    b = start.slice(s1 + 1, s2); // target
    c = start.slice(s2 + 1); // version
    if (!TOKEN.test(a) || b.length === 0 || BAD_CHARS.test(start))
      throw new HttpError(400, 'bad request line');
    if (c !== 'HTTP/1.1' && c !== 'HTTP/1.0') throw new HttpError(505, 'bad version');
  } else {
    c = start.slice(0, s1);
    b = Number(start.slice(s1 + 1, s1 + 4));
    a = s2 < 0 ? '' : start.slice(s2 + 1); // reason
    if ((c !== 'HTTP/1.1' && c !== 'HTTP/1.0') || !(b >= 100 && b <= 999))
      throw new HttpError(502, 'bad status line');
  }
  const http10 = c === 'HTTP/1.0';
  let out = isRequest ? `${a} ${b} HTTP/1.1\r\n` : `HTTP/1.1 ${start.slice(s1 + 1)}\r\n`;
  let contentLength = -1;
  let chunked = false;
  let te = false;
  let connClose = http10;
  let connNamed;
  let host = '';
  const kept = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    const colon = line.indexOf(':');
    if (colon <= 0) throw new HttpError(400, 'bad header line'); // also obs-fold (leading space)
    const name = line.slice(0, colon);
    if (!TOKEN.test(name)) throw new HttpError(400, 'bad header name');
    if (BAD_CHARS.test(line)) throw new HttpError(400, 'bad header value');
    const lower = name.toLowerCase();
    switch (lower) {
      case 'content-length': {
        const v = line.slice(colon + 1).trim();
        if (!/^\d{1,15}$/.test(v)) throw new HttpError(400, 'bad content-length');
        const n = Number(v);
        if (contentLength >= 0 && contentLength !== n) throw new HttpError(400, 'conflicting content-length');
        contentLength = n;
        break;
      }
      case 'transfer-encoding': {
        te = true;
        const v = line
          .slice(colon + 1)
          .trim()
          .toLowerCase();
        // Only a final "chunked" is understood; anything else is refused (no guessing).
        chunked = v === 'chunked' || v.endsWith(',chunked') || v.endsWith(', chunked');
        if (!chunked) throw new HttpError(isRequest ? 501 : 502, 'unsupported transfer-encoding');
        break;
      }
      case 'connection': {
        for (const t of line.slice(colon + 1).split(',')) {
          const x = t.trim().toLowerCase();
          if (x === 'close') connClose = true;
          else if (x === 'keep-alive') connClose = connClose && !http10;
          else if (x !== '') (connNamed ??= new Set()).add(x);
        }
        continue;
      }
      case 'host':
        host = line.slice(colon + 1).trim();
        break;
      case 'upgrade':
        if (isRequest) throw new HttpError(501, 'upgrade not supported by this experiment');
        break;
      default:
        if (HOP.has(lower) || lower === dropName) continue;
    }
    if (HOP.has(lower)) continue;
    kept.push(lower, line);
  }
  if (te && contentLength >= 0) throw new HttpError(400, 'both content-length and transfer-encoding');
  if (te && http10) throw new HttpError(400, 'transfer-encoding in HTTP/1.0');
  for (let i = 0; i < kept.length; i += 2) {
    if (connNamed !== undefined && connNamed.has(kept[i])) continue;
    out += kept[i + 1] + '\r\n';
  }
  if (extra) out += extra;
  return { a, b, http10, contentLength, chunked, connClose, host, out };
}

// --- body framing: how many bytes of a buffer belong to the current message -------------------
const F_NONE = 0;
const F_LEN = 1;
const F_CHUNKED = 2;
const F_CLOSE = 3;
class Framer {
  constructor(kind, len) {
    this.kind = kind;
    this.rem = len;
    this.st = 0;
    this.size = 0;
    this.digits = 0;
    this.done = kind === F_NONE || (kind === F_LEN && len === 0);
  }
  /** Bytes of buf from off that are this message's; -1 if the chunked framing is broken. */
  take(buf, off) {
    const end = buf.length;
    if (this.kind === F_LEN) {
      const n = Math.min(this.rem, end - off);
      this.rem -= n;
      if (this.rem === 0) this.done = true;
      return n;
    }
    if (this.kind === F_CLOSE) return end - off;
    let i = off;
    while (i < end && !this.done) {
      const ch = buf[i];
      switch (this.st) {
        case 0: {
          // chunk size (hex), then ;ext or CRLF
          const v =
            ch >= 48 && ch <= 57
              ? ch - 48
              : ch >= 97 && ch <= 102
                ? ch - 87
                : ch >= 65 && ch <= 70
                  ? ch - 55
                  : -1;
          if (v >= 0) {
            if (++this.digits > 12) return -1;
            this.size = this.size * 16 + v;
          } else if (ch === 0x3b && this.digits > 0) this.st = 1;
          else if (ch === 0x0d && this.digits > 0) this.st = 2;
          else return -1;
          i++;
          break;
        }
        case 1: // extension up to CR
          if (ch === 0x0a) return -1;
          if (ch === 0x0d) this.st = 2;
          i++;
          break;
        case 2:
          if (ch !== 0x0a) return -1;
          i++;
          if (this.size === 0) this.st = 5;
          else {
            this.rem = this.size;
            this.st = 3;
          }
          break;
        case 3: {
          const n = Math.min(this.rem, end - i);
          i += n;
          this.rem -= n;
          if (this.rem === 0) this.st = 4;
          break;
        }
        case 4: // CR after data
          if (ch !== 0x0d) return -1;
          this.st = 41;
          i++;
          break;
        case 41:
          if (ch !== 0x0a) return -1;
          this.st = 0;
          this.size = 0;
          this.digits = 0;
          i++;
          break;
        case 5: // start of a trailer line or the final CRLF
          this.st = ch === 0x0d ? 6 : 7;
          if (ch === 0x0a) return -1;
          i++;
          break;
        case 6:
          if (ch !== 0x0a) return -1;
          this.done = true;
          i++;
          break;
        case 7: // trailer line
          if (ch === 0x0a) return -1;
          if (ch === 0x0d) this.st = 8;
          i++;
          break;
        case 8:
          if (ch !== 0x0a) return -1;
          this.st = 5;
          i++;
          break;
      }
    }
    return i - off;
  }
}

// --- upstream pool -----------------------------------------------------------------------------
const idle = [];
const upstreamTls = {
  ca,
  cert,
  key,
  servername: PEER_ID,
  minVersion: 'TLSv1.3',
  ALPNProtocols: ['http/1.1'],
};
function acquire(onReady, onError) {
  while (idle.length > 0) {
    const u = idle.pop();
    if (!u.dead) return onReady(u);
  }
  const u = { sock: null, ex: null, dead: false };
  const sock =
    ROLE === 'outbound' && MESH_TLS
      ? tls.connect({ host: '127.0.0.1', port: UP_PORT, ...upstreamTls })
      : net.connect({ host: '127.0.0.1', port: UP_PORT, noDelay: true });
  u.sock = sock;
  let ready = false;
  sock.once(ROLE === 'outbound' && MESH_TLS ? 'secureConnect' : 'connect', () => {
    ready = true;
    if (ROLE === 'outbound' && MESH_TLS) sock.setNoDelay(true);
    onReady(u);
  });
  sock.on('data', (d) => {
    if (u.ex) u.ex.onUpstreamData(d);
    else sock.destroy(); // bytes while idle: not reusable
  });
  const gone = (err) => {
    if (u.dead) return;
    u.dead = true;
    const i = idle.indexOf(u);
    if (i >= 0) idle.splice(i, 1);
    if (!ready) onError(err ?? new Error('closed'));
    else if (u.ex) u.ex.onUpstreamGone();
  };
  sock.on('error', gone);
  sock.on('close', () => gone());
  sock.on('end', () => {
    if (u.ex) u.ex.onUpstreamEnd();
  });
}
function release(u) {
  u.ex = null;
  if (!u.dead) idle.push(u);
}

// --- client connection (RAW_PARSER=js) ------------------------------------------------------------
const CRLFCRLF = Buffer.from('\r\n\r\n');
function errorResponse(sock, status, msg) {
  const body = `${msg}\n`;
  sock.end(
    `HTTP/1.1 ${status} Error\r\ncontent-type: text/plain\r\nl5d-proxy-error: ${msg}\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`,
  );
}

class JsClient {
  constructor(sock, extra) {
    this.sock = sock;
    this.extra = extra;
    this.buf = null; // bytes not yet consumed
    this.ex = null; // the exchange in flight
    sock.on('data', (d) => this.onData(d));
    sock.on('error', () => undefined);
    sock.on('close', () => this.ex?.onClientGone());
  }
  onData(d) {
    if (this.ex !== null && !this.ex.reqFramer.done) {
      const n = this.ex.reqFramer.take(d, 0);
      if (n < 0) return this.ex.abortBoth();
      this.ex.sendBody(n === d.length ? d : d.subarray(0, n));
      if (n === d.length) return;
      d = d.subarray(n);
    }
    this.buf = this.buf === null ? d : Buffer.concat([this.buf, d]);
    if (this.ex === null) this.next();
  }
  next() {
    const buf = this.buf;
    if (buf === null) return;
    const end = buf.indexOf(CRLFCRLF);
    if (end < 0) {
      if (buf.length > MAX_HEAD) errorResponse(this.sock, 431, 'request head too large');
      return;
    }
    if (end > MAX_HEAD) return errorResponse(this.sock, 431, 'request head too large');
    let h;
    try {
      h = parseHead(
        buf.latin1Slice(0, end),
        true,
        this.extra,
        ROLE === 'inbound' ? 'l5d-client-id' : undefined,
      );
    } catch (e) {
      this.buf = null;
      return errorResponse(this.sock, e.status ?? 400, e.message);
    }
    const reqFramer = h.chunked
      ? new Framer(F_CHUNKED, 0)
      : new Framer(h.contentLength > 0 ? F_LEN : F_NONE, h.contentLength);
    let off = end + 4;
    const ex = new JsExchange(this, h, reqFramer);
    this.ex = ex;
    let body = null;
    if (off < buf.length && !reqFramer.done) {
      const n = reqFramer.take(buf, off);
      if (n < 0) return ex.abortBoth();
      body = buf.subarray(off, off + n);
      off += n;
    }
    this.buf = off < buf.length ? buf.subarray(off) : null;
    ex.start(body);
  }
  finished(ex, close) {
    this.ex = null;
    if (close) return this.sock.end();
    if (this.buf !== null) this.next();
  }
}

// What both variants' exchanges (one request/response) share: failing and the client going away.
class Exchange {
  constructor(client, h) {
    this.client = client;
    this.h = h;
    this.t0 = performance.now();
    this.u = null;
    this.status = 0;
    this.closeClient = h.connClose;
    this.done = false;
  }
  // Once the response head went to the client, an error can only cut the connection.
  responseStarted() {
    return false;
  }
  dropUpstream() {
    if (this.u !== null) {
      this.u.ex = null;
      this.u.sock.destroy();
    }
  }
  fail(status, msg) {
    if (this.done) return;
    this.done = true;
    record(this.h.host, status, performance.now() - this.t0);
    this.dropUpstream();
    if (!this.responseStarted()) errorResponse(this.client.sock, status, msg);
    else this.client.sock.destroy();
  }
  onClientGone() {
    if (this.done) return;
    this.done = true;
    this.dropUpstream();
  }
}

class JsExchange extends Exchange {
  constructor(client, h, reqFramer) {
    super(client, h);
    this.reqFramer = reqFramer;
    this.pending = null; // body bytes before the upstream is attached
    this.rbuf = null;
    this.resFramer = null;
    this.reuse = true;
  }
  responseStarted() {
    return this.resFramer !== null;
  }
  start(body) {
    const head = this.h.out + '\r\n';
    acquire(
      (u) => {
        if (this.done) return release(u);
        this.u = u;
        u.ex = this;
        const s = u.sock;
        if (body === null && this.pending === null) s.write(head, 'latin1');
        else if (COALESCE && this.pending === null && body.length <= 2048)
          s.write(head + body.latin1Slice(0, body.length), 'latin1');
        else {
          s.cork();
          s.write(head, 'latin1');
          if (body !== null) s.write(body);
          if (this.pending !== null) for (const p of this.pending) s.write(p);
          this.pending = null;
          s.uncork();
        }
      },
      () => this.fail(502, 'upstream connection failed'),
    );
  }
  sendBody(b) {
    if (this.u === null) (this.pending ??= []).push(b);
    else if (!this.u.sock.write(b)) {
      this.client.sock.pause();
      this.u.sock.once('drain', () => this.client.sock.resume());
    }
  }
  onUpstreamData(d) {
    let off = 0;
    if (this.resFramer === null) {
      let buf = this.rbuf === null ? d : Buffer.concat([this.rbuf, d]);
      for (;;) {
        const end = buf.indexOf(CRLFCRLF);
        if (end < 0) {
          if (buf.length > MAX_HEAD) return this.fail(502, 'response head too large');
          this.rbuf = buf;
          return;
        }
        let r;
        try {
          r = parseHead(
            buf.latin1Slice(0, end),
            false,
            this.closeClient ? 'connection: close\r\n' : '',
            undefined,
          );
        } catch (e) {
          return this.fail(502, e.message);
        }
        off = end + 4;
        const status = r.b;
        if (status >= 100 && status < 200) {
          if (status === 101) return this.fail(502, 'unexpected 101');
          this.client.sock.write(r.out + '\r\n', 'latin1'); // 100 / 103: relayed, then the real head
          if (off === buf.length) {
            this.rbuf = null;
            return;
          }
          buf = buf.subarray(off);
          off = 0;
          continue;
        }
        this.status = status;
        if (r.connClose) this.reuse = false;
        let kind;
        let extra = '';
        if (this.h.a === 'HEAD' || status === 204 || status === 304) kind = F_NONE;
        else if (r.chunked) kind = F_CHUNKED;
        else if (r.contentLength >= 0) kind = F_LEN;
        else {
          kind = F_CLOSE; // close-delimited: the client must be closed after it
          this.reuse = false;
          if (!this.closeClient) extra = 'connection: close\r\n';
          this.closeClient = true;
        }
        this.resFramer = new Framer(kind, r.contentLength);
        this.rbuf = null;
        const s = this.client.sock;
        const head = r.out + extra + '\r\n';
        let n = 0;
        if (off < buf.length && !this.resFramer.done) {
          n = this.resFramer.take(buf, off);
          if (n < 0) return this.fail(502, 'bad chunked framing');
        }
        if (n === 0) s.write(head, 'latin1');
        else if (COALESCE && n <= 2048) s.write(head + buf.latin1Slice(off, off + n), 'latin1');
        else {
          s.cork();
          s.write(head, 'latin1');
          s.write(buf.subarray(off, off + n));
          s.uncork();
        }
        off += n;
        d = buf;
        break;
      }
    } else if (!this.resFramer.done) {
      const n = this.resFramer.take(d, 0);
      if (n < 0) return this.fail(502, 'bad chunked framing');
      if (!this.client.sock.write(n === d.length ? d : d.subarray(0, n))) {
        const us = this.u.sock;
        us.pause();
        this.client.sock.once('drain', () => us.resume());
      }
      off = n;
    }
    if (this.resFramer.done) {
      if (off < d.length) this.reuse = false; // bytes beyond the response: not reusable
      this.complete();
    }
  }
  complete() {
    if (this.done) return;
    this.done = true;
    record(this.h.host, this.status, performance.now() - this.t0);
    const u = this.u;
    // The upstream connection is reusable only if the request went out whole too.
    if (this.reuse && this.reqFramer.done) release(u);
    else {
      u.ex = null;
      u.sock.destroy();
    }
    this.client.finished(this, this.closeClient || !this.reqFramer.done);
  }
  onUpstreamEnd() {
    if (this.resFramer !== null && this.resFramer.kind === F_CLOSE) {
      this.reuse = false;
      return this.complete();
    }
  }
  onUpstreamGone() {
    if (this.done) return;
    if (this.resFramer !== null && this.resFramer.kind === F_CLOSE) return this.complete();
    this.fail(502, 'upstream connection closed');
  }
  abortBoth() {
    this.fail(400, 'bad request body framing');
  }
}

// --- llhttp variant (RAW_PARSER=llhttp) --------------------------------------------------------
let LL;
if (PARSER === 'llhttp') {
  const { HTTPParser, methods } = require('node:_http_common');
  LL = { HTTPParser, methods };
}

function llHead(headers, isRequest, dropName) {
  // headers: flat [name, value, …]; llhttp already checked syntax and CL/TE conflicts.
  let out = '';
  let chunked = false;
  let connClose = false;
  let connNamed;
  let host = '';
  for (let i = 0; i < headers.length; i += 2) {
    const lower = headers[i].toLowerCase();
    if (lower === 'connection') {
      for (const t of headers[i + 1].split(',')) {
        const x = t.trim().toLowerCase();
        if (x === 'close') connClose = true;
        else if (x !== 'keep-alive' && x !== '') (connNamed ??= new Set()).add(x);
      }
    } else if (lower === 'transfer-encoding') {
      chunked = /(^|,)\s*chunked\s*$/i.test(headers[i + 1]);
      if (!chunked) throw new HttpError(isRequest ? 501 : 502, 'unsupported transfer-encoding');
    } else if (lower === 'host') host = headers[i + 1];
    else if (isRequest && lower === 'upgrade') throw new HttpError(501, 'upgrade not supported');
  }
  for (let i = 0; i < headers.length; i += 2) {
    const lower = headers[i].toLowerCase();
    if (HOP.has(lower) || lower === dropName || connNamed?.has(lower)) continue;
    out += `${headers[i]}: ${headers[i + 1]}\r\n`;
  }
  return { out, chunked, connClose, host };
}

class LlClient {
  constructor(sock, extra) {
    this.sock = sock;
    this.extra = extra;
    this.queue = []; // exchanges in arrival order; the first is in flight
    const { HTTPParser, methods } = LL;
    const p = new HTTPParser();
    p.initialize(HTTPParser.REQUEST, {}, MAX_HEAD, 0);
    let hdrs = null;
    let url = '';
    p[HTTPParser.kOnHeaders] = (h, u) => {
      hdrs = hdrs === null ? h : hdrs.concat(h);
      url += u;
    };
    p[HTTPParser.kOnHeadersComplete] = (maj, min, headers, method, u, _s, _m, upgrade, keepAlive) => {
      if (headers === undefined) headers = hdrs ?? [];
      if (u === undefined) u = url;
      hdrs = null;
      url = '';
      let h;
      try {
        h = llHead(headers, true, ROLE === 'inbound' ? 'l5d-client-id' : undefined);
      } catch (e) {
        this.bad = e;
        return 0;
      }
      h.method = methods[method];
      h.connClose = !keepAlive;
      h.head = `${h.method} ${u} HTTP/1.1\r\n${h.out}${this.extra}\r\n`;
      const ex = new LlExchange(this, h);
      this.queue.push(ex);
      if (this.queue.length === 1) ex.start();
      return 0;
    };
    p[HTTPParser.kOnBody] = (b) => this.queue[this.queue.length - 1]?.sendBody(b);
    p[HTTPParser.kOnMessageComplete] = () => this.queue[this.queue.length - 1]?.reqComplete();
    p[HTTPParser.kOnExecute] = () => undefined;
    p[HTTPParser.kOnMessageBegin] = () => undefined;
    this.parser = p;
    sock.on('data', (d) => {
      const r = p.execute(d);
      if (r instanceof Error || this.bad) {
        sock.pause();
        const e = this.bad ?? r;
        if (this.queue.length === 0) errorResponse(sock, e.status ?? 400, e.code ?? e.message);
        else sock.destroy();
      }
    });
    sock.on('error', () => undefined);
    sock.on('close', () => {
      for (const ex of this.queue) ex.onClientGone();
      p.free?.();
    });
  }
  finished(ex, close) {
    this.queue.shift();
    if (close) return this.sock.end();
    if (this.queue.length > 0) this.queue[0].start();
  }
}

const CHUNK_END = Buffer.from('0\r\n\r\n');
class LlExchange extends Exchange {
  constructor(client, h) {
    super(client, h);
    this.out = [Buffer.from(h.head, 'latin1')]; // waiting for the upstream
    this.reqDone = false;
    this.headSent = false;
    this.resChunked = false;
  }
  responseStarted() {
    return this.headSent;
  }
  start() {
    acquire(
      (u) => {
        if (this.done) return release(u);
        this.u = u;
        u.ex = this;
        if (u.parser === undefined) {
          u.parser = newResponseParser(u);
        }
        const s = u.sock;
        if (this.out.length === 1) s.write(this.out[0]);
        else {
          s.cork();
          for (const b of this.out) s.write(b);
          s.uncork();
        }
        this.out = null;
      },
      () => this.fail(502, 'upstream connection failed'),
    );
  }
  write(b) {
    if (this.out !== null) this.out.push(b);
    else this.u.sock.write(b);
  }
  sendBody(b) {
    if (this.h.chunked) {
      this.write(Buffer.from(`${b.length.toString(16)}\r\n`, 'latin1'));
      this.write(b);
      this.write(Buffer.from('\r\n', 'latin1'));
    } else this.write(b);
  }
  reqComplete() {
    this.reqDone = true;
    if (this.h.chunked) this.write(CHUNK_END);
  }
  // response callbacks (from the upstream's parser)
  onResHead(headers, status, reason, keepAlive) {
    if (status < 200) {
      if (status === 101) {
        this.fail(502, 'unexpected 101');
        return 0;
      }
      this.client.sock.write(`HTTP/1.1 ${status} ${reason}\r\n${llHead(headers, false).out}\r\n`, 'latin1');
      return 0;
    }
    const r = llHead(headers, false);
    this.status = status;
    this.reuse = keepAlive;
    let extra = '';
    const noBody = this.h.method === 'HEAD' || status === 204 || status === 304;
    const framed =
      noBody ||
      r.chunked ||
      headers.some((x, i) => i % 2 === 0 && x.length === 14 && x.toLowerCase() === 'content-length');
    if (!framed) {
      this.reuse = false;
      this.closeClient = true;
    }
    if (this.closeClient) extra = 'connection: close\r\n';
    this.resChunked = r.chunked;
    const s = this.client.sock;
    s.cork();
    s.write(`HTTP/1.1 ${status} ${reason}\r\n${r.out}${extra}\r\n`, 'latin1');
    process.nextTick(() => s.uncork());
    this.headSent = true;
    return this.h.method === 'HEAD' ? 1 : 0;
  }
  onResBody(b) {
    const s = this.client.sock;
    if (this.resChunked) {
      s.write(`${b.length.toString(16)}\r\n`, 'latin1');
      s.write(b);
      s.write('\r\n', 'latin1');
    } else s.write(b);
  }
  onResComplete() {
    if (this.done || this.status === 0) return; // the end of a 1xx head: the real response follows
    if (this.resChunked) this.client.sock.write(CHUNK_END);
    this.done = true;
    record(this.h.host, this.status, performance.now() - this.t0);
    const u = this.u;
    u.ex = null;
    if (this.reuse && this.reqDone) idle.push(u);
    else u.sock.destroy();
    this.client.finished(this, this.closeClient || !this.reqDone);
  }
  onUpstreamData(d) {
    const r = this.u.parser.execute(d);
    if (r instanceof Error) this.fail(502, 'bad response from upstream');
  }
  onUpstreamEnd() {
    this.u?.parser.finish();
  }
  onUpstreamGone() {
    if (!this.done) this.fail(502, 'upstream connection closed');
  }
}

function newResponseParser(u) {
  const { HTTPParser } = LL;
  const p = new HTTPParser();
  p.initialize(HTTPParser.RESPONSE, {}, MAX_HEAD, 0);
  let hdrs = null;
  p[HTTPParser.kOnHeaders] = (h) => {
    hdrs = hdrs === null ? h : hdrs.concat(h);
  };
  p[HTTPParser.kOnHeadersComplete] = (maj, min, headers, _m, _u, status, reason, _up, keepAlive) => {
    if (headers === undefined) headers = hdrs ?? [];
    hdrs = null;
    return u.ex ? u.ex.onResHead(headers, status, reason, keepAlive) : 0;
  };
  p[HTTPParser.kOnBody] = (b) => u.ex?.onResBody(b);
  p[HTTPParser.kOnMessageComplete] = () => u.ex?.onResComplete();
  p[HTTPParser.kOnExecute] = () => undefined;
  p[HTTPParser.kOnMessageBegin] = () => undefined;
  return p;
}

// --- listener ------------------------------------------------------------------------------------
const Client = PARSER === 'llhttp' ? LlClient : JsClient;
let server;
if (ROLE === 'outbound') {
  server = net.createServer({ noDelay: true }, (sock) => new Client(sock, ''));
} else if (!MESH_TLS) {
  server = net.createServer({ noDelay: true }, (sock) => new Client(sock, 'l5d-client-id: client.plain\r\n'));
} else {
  server = tls.createServer(
    {
      cert,
      key,
      ca,
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.3',
      ALPNProtocols: ['http/1.1'],
    },
    (sock) => {
      sock.setNoDelay(true);
      const san = sock.getPeerX509Certificate()?.subjectAltName ?? '';
      const m = /DNS:([^,\s]+)/.exec(san);
      new Client(sock, m ? `l5d-client-id: ${m[1]}\r\n` : '');
    },
  );
  server.on('tlsClientError', () => undefined);
}
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
