// Smoke test of the raw-socket HTTP/1.1 proxy PROTOTYPE (raw-proxy.mjs; issue #5 benchmark
// experiment, not the product's engine): runs the outbound → mTLS → inbound pair with each parser
// (js, llhttp) in front of an echo app and checks framing, hop-by-hop headers, l5d-client-id,
// large and chunked bodies, 100-continue, pipelining and malformed heads (20 checks per parser),
// via curl and raw sockets on 127.0.0.1. It does not cover what the prototype does not do (see the
// head of raw-proxy.mjs): Upgrade, timeouts, retries, backpressure limits.
// Usage: node bench/proxy/raw-h1/smoke.mjs   (needs openssl and curl; exits 1 on a failure)
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { A_ID, B_ID, makePairCerts } from '../pair-certs.mjs';

const execFileP = promisify(execFile);
const PROXY = fileURLToPath(new URL('./raw-proxy.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'raw-h1-smoke-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
makePairCerts(dir);
const app = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const info = JSON.stringify({
      method: req.method,
      url: req.url,
      headers: req.headers,
      body: body.toString(),
    });
    if (req.url === '/204') return res.writeHead(204).end();
    if (req.url === '/chunked') {
      res.writeHead(200, { 'x-a': '1' });
      res.write('part1-');
      setTimeout(() => res.end('part2'), 20);
      return;
    }
    if (req.url === '/trailer') {
      res.writeHead(200, { trailer: 'x-t' });
      res.write('b');
      res.addTrailers({ 'x-t': 'yes' });
      return res.end();
    }
    if (req.url === '/big') {
      const b = Buffer.alloc(3_000_000, 'x');
      res.writeHead(200, { 'content-length': b.length });
      return res.end(b);
    }
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(info) });
    res.end(req.method === 'HEAD' ? undefined : info);
  });
});
await new Promise((r) => app.listen(0, '127.0.0.1', r));
function start(env) {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [PROXY], {
      env: { ...process.env, BENCH_CERT_DIR: dir, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    c.stdout.once('data', (d) => resolve({ c, port: JSON.parse(d).port }));
    c.once('exit', () => reject(new Error('exited')));
  });
}
const raw = (port, data) =>
  new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let out = '';
    s.on('data', (d) => (out += d));
    s.on('close', () => resolve(out));
    s.on('error', () => resolve(out + '[error]'));
    s.write(data);
    setTimeout(() => s.end(), 300);
  });
let fails = 0;
const check = (name, ok, detail) => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${ok ? '' : ` :: ${String(detail).slice(0, 400)}`}`);
  if (!ok) fails++;
};
for (const parser of ['js', 'llhttp']) {
  console.log(`--- parser ${parser}`);
  const b = await start({
    RAW_ROLE: 'inbound',
    BENCH_NAME: 'b',
    RAW_UPSTREAM_PORT: String(app.address().port),
    RAW_PARSER: parser,
  });
  const a = await start({
    RAW_ROLE: 'outbound',
    BENCH_NAME: 'a',
    BENCH_PEER_IDENTITY: B_ID,
    RAW_UPSTREAM_PORT: String(b.port),
    RAW_PARSER: parser,
  });
  const url = `http://127.0.0.1:${a.port}`;
  const curl = async (...x) => {
    try {
      const r = await execFileP('curl', ['-sS', '--max-time', '5', ...x], {
        encoding: 'utf8',
        maxBuffer: 1e8,
      });
      return r.stdout + r.stderr;
    } catch (e) {
      return `[curl error] ${e.stderr}`;
    }
  };
  let r = JSON.parse(
    await curl(
      `${url}/hello?x=1`,
      '-H',
      'l5d-client-id: spoof',
      '-H',
      'Connection: x-drop',
      '-H',
      'x-drop: 1',
    ),
  );
  check(
    'GET url + l5d-client-id set + connection-named dropped',
    r.url === '/hello?x=1' && r.headers['l5d-client-id'] === A_ID && !r.headers['x-drop'],
    JSON.stringify(r),
  );
  r = JSON.parse(await curl(`${url}/p`, '-d', 'hello-body'));
  check('POST content-length', r.body === 'hello-body' && r.method === 'POST', JSON.stringify(r));
  r = JSON.parse(await curl(`${url}/c`, '-H', 'Transfer-Encoding: chunked', '-d', 'chunky'));
  check(
    'POST chunked',
    r.body === 'chunky' && r.headers['transfer-encoding'] === 'chunked',
    JSON.stringify(r),
  );
  const big = 'y'.repeat(2_000_000);
  writeFileSync(join(dir, 'big'), big);
  r = JSON.parse(await curl(`${url}/b`, '--data-binary', `@${join(dir, 'big')}`));
  check('POST 2 MB', r.body.length === big.length, r.body.length);
  r = JSON.parse(
    await curl(`${url}/b`, '-H', 'Transfer-Encoding: chunked', '--data-binary', `@${join(dir, 'big')}`),
  );
  check('POST 2 MB chunked', r.body.length === big.length, r.body.length);
  check('GET 3 MB response', (await curl(`${url}/big`)).length === 3_000_000, 'len');
  check('chunked response', (await curl(`${url}/chunked`)) === 'part1-part2', await curl(`${url}/chunked`));
  const tr = await curl('-i', '--raw', `${url}/trailer`);
  check(
    'trailer relayed (js) / dropped (llhttp)',
    parser === 'js' ? /x-t: yes/i.test(tr) : /\r\n0\r\n\r\n$/.test(tr),
    JSON.stringify(tr),
  );
  check('HEAD', /content-length/i.test(await curl('-I', `${url}/h`)), await curl('-I', `${url}/h`));
  check('204', /^HTTP\/1.1 204/.test(await curl('-i', `${url}/204`)), await curl('-i', `${url}/204`));
  const multi = await curl(`${url}/1`, `${url}/2`, `${url}/204`, `${url}/3`, '-v', '-o', '/dev/null');
  check('keep-alive reuse x4', (multi.match(/Re-using existing connection/g) ?? []).length === 3, multi);
  check(
    '100-continue',
    /"body":"zz"/.test(await curl(`${url}/e`, '-H', 'Expect: 100-continue', '-d', 'zz')),
    await curl(`${url}/e`, '-H', 'Expect: 100-continue', '-d', 'zz'),
  );
  let o = await raw(
    a.port,
    'GET /x HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
  );
  check('CL+TE rejected', /^HTTP\/1.1 (400|501)/.test(o) && !o.includes('"url"'), o);
  o = await raw(a.port, 'GET /x HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd');
  check('conflicting CL rejected', /^HTTP\/1.1 400/.test(o), o);
  o = await raw(a.port, 'GET /x HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n');
  check('obs-fold rejected', /^HTTP\/1.1 400/.test(o), o);
  o = await raw(a.port, `GET /x HTTP/1.1\r\nHost: a\r\nX: ${'a'.repeat(20000)}\r\n\r\n`);
  check('huge head rejected', /^HTTP\/1.1 (431|400)/.test(o), o.slice(0, 100));
  o = await raw(a.port, 'GET /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n');
  check('TE not chunked rejected', /^HTTP\/1.1 (400|501)/.test(o), o);
  o = await raw(
    a.port,
    'GET /p1 HTTP/1.1\r\nHost: a\r\n\r\nGET /p2 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
  );
  check('pipelined 2 + close', o.includes('"/p1"') && o.includes('"/p2"') && /connection: close/i.test(o), o);
  o = await raw(a.port, 'GET /ten HTTP/1.0\r\nHost: a\r\n\r\n');
  check('HTTP/1.0 gets close', o.includes('"/ten"') && /connection: close/i.test(o), o);
  o = await raw(
    a.port,
    'POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nGET /after HTTP/1.1\r\nHost: a\r\n\r\n',
  );
  check('chunked then pipelined GET', o.includes('"body":"abc"') && o.includes('"/after"'), o);
  a.c.kill();
  b.c.kill();
}
console.log(fails ? `${fails} FAILED` : 'all ok');
process.exit(fails ? 1 : 0);
