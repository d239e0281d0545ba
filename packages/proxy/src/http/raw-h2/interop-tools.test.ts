// Our HTTP/2 server against real command-line clients (curl, h2load; both nghttp2-based), and both
// of our roles over TLS with ALPN h2.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ourClient,
  pattern,
  requestHead,
  sha256,
  startServer,
  withTimeout,
  type TestServer,
} from './h2-peers.test-support.js';

function run(
  cmd: string,
  args: string[],
  timeout = 20_000,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // Asynchronous: the server under test runs in this process.
    execFile(cmd, args, { timeout, maxBuffer: 64 << 20, encoding: 'latin1' }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

function has(bin: string, feature?: string, versionArg = '--version'): boolean {
  try {
    const out = execFileSync(bin, [versionArg], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return feature === undefined || out.includes(feature);
  } catch {
    return false;
  }
}

const CURL = has('curl', 'HTTP2');
const H2LOAD = existsSync('/usr/bin/h2load') || has('h2load');
const OPENSSL = has('openssl', undefined, 'version');

let dir: string;
let server: TestServer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tsmesh-raw-h2-'));
  server = await startServer();
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('curl --http2-prior-knowledge', () => {
  it.skipIf(!CURL)('GETs (skipped: curl without HTTP2 is not installed)', async () => {
    const r = await run('curl', [
      '-sS',
      '--http2-prior-knowledge',
      '-w',
      '\n%{http_version} %{http_code}',
      `http://127.0.0.1:${server.port}/`,
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('hello\n2 200');
  });

  it.skipIf(!CURL)('POSTs 1 MB with --data-binary and gets it back intact', async () => {
    const body = pattern(1 << 20, 21);
    const file = join(dir, 'body.bin');
    writeFileSync(file, body);
    const out = join(dir, 'echo.bin');
    const r = await run('curl', [
      '-sS',
      '--http2-prior-knowledge',
      '--data-binary',
      `@${file}`,
      '-o',
      out,
      '-w',
      '%{http_code}',
      `http://127.0.0.1:${server.port}/echo`,
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('200');
    expect(sha256(readFileSync(out))).toBe(sha256(body));
    const h = await run('curl', [
      '-sS',
      '--http2-prior-knowledge',
      '--data-binary',
      `@${file}`,
      `http://127.0.0.1:${server.port}/sha`,
    ]);
    expect(JSON.parse(h.stdout)).toEqual({ bytes: body.length, sha256: sha256(body) });
  });
});

function h2loadCounts(stdout: string): {
  total: number;
  done: number;
  succeeded: number;
  failed: number;
  errored: number;
  ok2xx: number;
} {
  const m =
    /requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored/.exec(
      stdout,
    );
  const s = /status codes: (\d+) 2xx/.exec(stdout);
  if (m === null || s === null) throw new Error(`unexpected h2load output:\n${stdout}`);
  return { total: +m[1]!, done: +m[2]!, succeeded: +m[3]!, failed: +m[4]!, errored: +m[5]!, ok2xx: +s[1]! };
}

describe('h2load', () => {
  it.skipIf(!H2LOAD)(
    '2000 GETs over 4 connections, 10 streams each: all succeed (skipped: no h2load)',
    async () => {
      const r = await run('h2load', [
        '-n',
        '2000',
        '-c',
        '4',
        '-m',
        '10',
        `http://127.0.0.1:${server.port}/`,
      ]);
      expect(r.code, r.stderr).toBe(0);
      expect(h2loadCounts(r.stdout)).toEqual({
        total: 2000,
        done: 2000,
        succeeded: 2000,
        failed: 0,
        errored: 0,
        ok2xx: 2000,
      });
    },
  );

  it.skipIf(!H2LOAD)('200 POSTs of 64 KiB echoed: all succeed (skipped: no h2load)', async () => {
    const file = join(dir, 'post.bin');
    writeFileSync(file, pattern(64 * 1024, 4));
    const r = await run('h2load', [
      '-n',
      '200',
      '-c',
      '2',
      '-m',
      '5',
      '-d',
      file,
      `http://127.0.0.1:${server.port}/echo`,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(h2loadCounts(r.stdout)).toMatchObject({
      total: 200,
      succeeded: 200,
      failed: 0,
      errored: 0,
      ok2xx: 200,
    });
  });
});

describe('TLS with ALPN h2', () => {
  let tlsServer: TestServer | undefined;
  let cert = '';
  beforeAll(async () => {
    if (!OPENSSL) return;
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost',
        '-days',
        '1',
        '-keyout',
        'key.pem',
        '-out',
        'cert.pem',
      ],
      { cwd: dir, stdio: 'pipe' },
    );
    cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
    tlsServer = await startServer(undefined, { key: readFileSync(join(dir, 'key.pem')), cert });
  });
  afterAll(async () => {
    await tlsServer?.close();
  });

  it.skipIf(!OPENSSL)('our client and our server: a body each way (skipped: no openssl)', async () => {
    const socket = tlsConnect({
      port: tlsServer!.port,
      host: '127.0.0.1',
      servername: 'localhost',
      ca: cert,
      ALPNProtocols: ['h2'],
    });
    await withTimeout(new Promise<void>((r) => socket.once('secureConnect', () => r())), 'TLS handshake');
    expect(socket.alpnProtocol).toBe('h2');
    const client = ourClient(socket);
    try {
      const body = pattern(300_000, 12);
      const r = await withTimeout(
        client.fetch(requestHead('/echo', 'POST', [], 'localhost'), body).done,
        'TLS echo',
      );
      expect(r.head!.slice(0, 2)).toEqual([':status', '200']);
      expect(sha256(r.body)).toBe(sha256(body));
      expect(client.owner.protocolErrors).toEqual([]);
    } finally {
      client.close();
    }
  });

  it.skipIf(!OPENSSL)('node:http2 over TLS to our server (skipped: no openssl)', async () => {
    const session = http2.connect(`https://localhost:${tlsServer!.port}`, { ca: cert, host: '127.0.0.1' });
    session.on('error', () => {});
    try {
      const req = session.request({ ':method': 'POST', ':path': '/sha' });
      const body = pattern(100_000, 2);
      req.end(body);
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      await withTimeout(new Promise((r) => req.on('end', r)), 'node over TLS');
      expect(JSON.parse(Buffer.concat(chunks).toString())).toEqual({
        bytes: body.length,
        sha256: sha256(body),
      });
    } finally {
      session.destroy();
    }
  });

  it.skipIf(!OPENSSL || !CURL)(
    'curl over TLS negotiates h2 by ALPN (skipped: no openssl or curl)',
    async () => {
      const r = await run('curl', [
        '-sS',
        '--http2',
        '--cacert',
        join(dir, 'cert.pem'),
        '--resolve',
        `localhost:${tlsServer!.port}:127.0.0.1`,
        '-w',
        '\n%{http_version}',
        `https://localhost:${tlsServer!.port}/`,
      ]);
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('hello\n2');
    },
  );
});
