// End to end across the built binaries: `tsmesh identity` makes a trust anchor and an issuer,
// `tsmesh-identity` serves Certify with them, and `tsmesh-proxy`, configured only through
// Linkerd's LINKERD2_PROXY_IDENTITY_* variables, gets its workload certificate, reports ready,
// exports the certificate's expiry and presents the certificate on its inbound port.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from './workspace.js';

const bin = (pkg: string, name: string) => join(repoRoot, 'packages', pkg, 'bin', `${name}.js`);
const IDENTITY = 'web.emojivoto.serviceaccount.identity.linkerd.cluster.local';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function poll<T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const value = await fn();
      if (value !== undefined) return value;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs}ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('proxy identity from the identity service (built binaries)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsmesh-e2e-identity-'));
  const children: ChildProcess[] = [];
  let stopApp: () => Promise<void> = async () => undefined;
  const start = (file: string, args: string[], env: Record<string, string> = {}) => {
    const child = spawn(process.execPath, [file, ...args], {
      cwd: dir,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let log = '';
    child.stderr?.on('data', (d) => (log += d));
    children.push(child);
    return () => log;
  };

  afterAll(async () => {
    await stopApp();
    for (const child of children) child.kill('SIGTERM');
    await Promise.all(
      children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : null)),
    );
    rmSync(dir, { recursive: true, force: true });
  });

  it('certifies the proxy, which then reports ready and serves its certificate', async () => {
    const certs = join(dir, 'certs');
    execFileSync(process.execPath, [bin('cli', 'tsmesh'), 'identity', 'create-trust-anchor', '--out', certs]);
    execFileSync(process.execPath, [
      bin('cli', 'tsmesh'),
      'identity',
      'create-issuer',
      '--ca',
      certs,
      '--out',
      certs,
    ]);
    mkdirSync(join(dir, 'issuer'));
    copyFileSync(join(certs, 'issuer.crt'), join(dir, 'issuer', 'tls.crt'));
    copyFileSync(join(certs, 'issuer.key'), join(dir, 'issuer', 'tls.key'));

    // Local mode: the control plane mints ServiceAccount tokens with its own key.
    const { createLocalTokenIssuer } = await import('@tsmesh/identity');
    const tokens = createLocalTokenIssuer();
    writeFileSync(
      join(dir, 'token-key.pem'),
      tokens.publicKey.export({ type: 'spki', format: 'pem' }) as string,
    );
    writeFileSync(join(dir, 'token'), tokens.mint({ namespace: 'emojivoto', serviceAccount: 'web' }));

    const [grpcPort, idAdminPort, adminPort, inboundPort, outboundPort] = await Promise.all(
      Array.from({ length: 5 }, freePort),
    );
    // The application behind the proxy (explicit mode: no iptables, so the proxy is told where it is).
    const app = createServer((socket) => socket.pipe(socket));
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    const appPort = (app.address() as { port: number }).port;
    stopApp = () => new Promise((resolve) => app.close(() => resolve()));
    const identityLog = start(bin('identity', 'tsmesh-identity'), [
      '--addr',
      `127.0.0.1:${grpcPort}`,
      '--admin-addr',
      `127.0.0.1:${idAdminPort}`,
      '--issuer-dir',
      join(dir, 'issuer'),
      '--trust-anchors',
      join(certs, 'ca.crt'),
      '--local-token-key',
      join(dir, 'token-key.pem'),
    ]);
    await poll('identity ready', 20_000, async () =>
      (await fetch(`http://127.0.0.1:${idAdminPort}/ready`)).ok ? true : undefined,
    ).catch((err) => {
      throw new Error(`${err.message}\n${identityLog()}`);
    });

    const proxyLog = start(bin('proxy', 'tsmesh-proxy'), [], {
      LINKERD2_PROXY_ADMIN_LISTEN_ADDR: `127.0.0.1:${adminPort}`,
      LINKERD2_PROXY_INBOUND_LISTEN_ADDR: `127.0.0.1:${inboundPort}`,
      LINKERD2_PROXY_OUTBOUND_LISTEN_ADDR: `127.0.0.1:${outboundPort}`,
      TSMESH_PROXY_INBOUND_FORWARD_ADDR: `127.0.0.1:${appPort}`,
      LINKERD2_PROXY_IDENTITY_SVC_ADDR: `127.0.0.1:${grpcPort}`,
      LINKERD2_PROXY_IDENTITY_SVC_NAME:
        'linkerd-identity.linkerd.serviceaccount.identity.linkerd.cluster.local',
      LINKERD2_PROXY_IDENTITY_TOKEN_FILE: join(dir, 'token'),
      LINKERD2_PROXY_IDENTITY_LOCAL_NAME: IDENTITY,
      LINKERD2_PROXY_IDENTITY_TRUST_ANCHORS: readFileSync(join(certs, 'ca.crt'), 'utf8'),
    });
    await poll('proxy ready', 20_000, async () =>
      (await fetch(`http://127.0.0.1:${adminPort}/ready`)).status === 200 ? true : undefined,
    ).catch((err) => {
      throw new Error(`${err.message}\n${proxyLog()}`);
    });

    const metrics = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
    const expiry = Number(/^identity_cert_expiration_timestamp_seconds (\d+)/m.exec(metrics)?.[1]);
    expect(expiry * 1000).toBeGreaterThan(Date.now() + 23 * 3600_000);

    // The proxy presents the issued certificate; openssl verifies it against the trust anchor.
    const shown = spawnSync(
      'openssl',
      [
        's_client',
        '-connect',
        `127.0.0.1:${inboundPort}`,
        '-servername',
        IDENTITY,
        '-CAfile',
        join(certs, 'ca.crt'),
      ],
      { input: '', encoding: 'utf8', timeout: 15_000 },
    ).stdout;
    expect(shown).toMatch(/Verify return code: 0 \(ok\)/);
    const pem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(shown)?.[0] ?? '';
    expect(pem, shown).not.toBe('');
    const sans = execFileSync('openssl', ['x509', '-noout', '-ext', 'subjectAltName'], {
      input: pem,
      encoding: 'utf8',
    });
    expect(sans).toContain(`DNS:${IDENTITY}`);
  });
});
