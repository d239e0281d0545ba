// The proxy's identity client against a scriptable Identity service (core's server adapter and
// the identity library's issuer, with short lifetimes): it renews, it backs off while the service
// is down, and it recovers when the service comes back on the same port.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import {
  addIdentityService,
  createIntermediateCertificate,
  createRootCertificate,
  issueLeafCertificate,
  parseCertificate,
  type Issuer,
} from '@tsmesh/core';
import { Registry } from 'prom-client';
import { expect, onTestFinished, test } from 'vitest';
import {
  startProxyIdentity,
  type IdentityCertificate,
  type ProxyIdentityOptions,
} from '../../src/identity/index.js';
import { createControlPlaneTlsCredentials } from '../../src/tls/index.js';
import { servingCredentials } from './control-plane-pki.js';

const IDENTITY = 'web.emojivoto.serviceaccount.identity.linkerd.cluster.local';

async function startFakeIdentity(
  issuer: Issuer,
  lifetimeMs: number,
  port = 0,
  serverCredentials = ServerCredentials.createInsecure(),
) {
  const server = new Server();
  let calls = 0;
  const tokens: string[] = [];
  addIdentityService(server, {
    certify(request) {
      calls++;
      tokens.push(Buffer.from(request.token).toString());
      const issued = issueLeafCertificate({
        issuer,
        csr: request.certificateSigningRequest,
        identity: request.identity,
        lifetimeMs,
        clockSkewMs: 0,
      });
      return {
        leafCertificate: issued.certificate.der,
        intermediateCertificates: issued.intermediates.map((c) => c.der),
        validUntil: {
          seconds: Math.floor(issued.validUntil.getTime() / 1000),
          nanos: (issued.validUntil.getTime() % 1000) * 1e6,
        },
      };
    },
  });
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, serverCredentials, (err, p) => (err ? reject(err) : resolve(p))),
  );
  return {
    port: bound,
    calls: () => calls,
    tokens,
    stop: () =>
      new Promise<void>((resolve) => server.tryShutdown(() => resolve())).then(() => server.forceShutdown()),
  };
}

function pki() {
  const root = createRootCertificate();
  return { root, issuer: createIntermediateCertificate({ issuer: root }) };
}

function tokenFile(content: string) {
  const dir = mkdtempSync(join(tmpdir(), 'proxy-identity-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'token');
  writeFileSync(path, content);
  return path;
}

test('certifies, verifies against the anchors, renews at 70 % of a short lifetime, and exports metrics', async () => {
  const { root, issuer } = pki();
  const fake = await startFakeIdentity(issuer, 2_000);
  onTestFinished(() => fake.stop());
  const registry = new Registry();
  const path = tokenFile('token-1');
  const identity = startProxyIdentity({
    address: `127.0.0.1:${fake.port}`,
    localName: IDENTITY,
    tokenFile: path,
    trustAnchorsPem: root.certificate.pem,
    registry,
    minRefreshMs: 100,
  });
  onTestFinished(() => identity.close());
  const first = await identity.ready();
  expect(parseCertificate(first.leafDer).dnsNames).toEqual([IDENTITY]);
  expect(first.certificateChainPem.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
  expect(first.privateKeyPem).toMatch(/BEGIN PRIVATE KEY/);
  const seen: IdentityCertificate[] = [];
  identity.subscribe((c) => seen.push(c));
  writeFileSync(path, 'token-2'); // projected tokens rotate: the next call must read the new one
  await expect.poll(() => seen.length, { timeout: 6_000, interval: 50 }).toBeGreaterThanOrEqual(2);
  expect(fake.tokens).toContain('token-2');
  expect(Buffer.from(seen[1]!.leafDer)).not.toEqual(Buffer.from(first.leafDer));
  const text = await registry.metrics();
  expect(text).toMatch(/identity_cert_refresh_count \d+/);
  expect(text).toContain(
    `identity_cert_expiration_timestamp_seconds ${Math.floor(identity.current()!.notAfterMs / 1000)}`,
  );
});

test('refuses a certificate that does not chain to its anchors, and keeps retrying', async () => {
  const { issuer } = pki();
  const other = createRootCertificate();
  const fake = await startFakeIdentity(issuer, 60_000);
  onTestFinished(() => fake.stop());
  const identity = startProxyIdentity({
    address: `127.0.0.1:${fake.port}`,
    localName: IDENTITY,
    tokenFile: tokenFile('t'),
    trustAnchorsPem: other.certificate.pem,
    registry: new Registry(),
    backoff: { minMs: 50, maxMs: 200 },
  });
  onTestFinished(() => identity.close());
  await expect.poll(() => fake.calls(), { timeout: 5_000 }).toBeGreaterThanOrEqual(3);
  expect(identity.current()).toBeUndefined();
});

test('survives identity-service restarts with backoff and keeps the last certificate meanwhile', async () => {
  const { root, issuer } = pki();
  let fake = await startFakeIdentity(issuer, 1_500);
  const port = fake.port;
  const registry = new Registry();
  const identity = startProxyIdentity({
    address: `127.0.0.1:${port}`,
    localName: IDENTITY,
    tokenFile: tokenFile('t'),
    trustAnchorsPem: root.certificate.pem,
    registry,
    minRefreshMs: 100,
    backoff: { minMs: 100, maxMs: 400, jitter: 0 },
    callTimeoutMs: 1_000,
  });
  onTestFinished(() => identity.close());
  const first = await identity.ready();
  await fake.stop();
  // Down for a while: renewals fail, the last certificate stays current.
  await new Promise((r) => setTimeout(r, 2_000));
  expect(identity.current()).toBe(first);
  fake = await startFakeIdentity(issuer, 1_500, port);
  onTestFinished(() => fake.stop());
  await expect.poll(() => identity.current() !== first, { timeout: 8_000, interval: 50 }).toBe(true);
  expect(fake.calls()).toBeGreaterThanOrEqual(1);
});

test('updates() is a latest-value stream that ends on abort', async () => {
  const { root, issuer } = pki();
  const fake = await startFakeIdentity(issuer, 1_000);
  onTestFinished(() => fake.stop());
  const identity = startProxyIdentity({
    address: `127.0.0.1:${fake.port}`,
    localName: IDENTITY,
    tokenFile: tokenFile('t'),
    trustAnchorsPem: root.certificate.pem,
    registry: new Registry(),
    minRefreshMs: 100,
  });
  onTestFinished(() => identity.close());
  const controller = new AbortController();
  const got: Buffer[] = [];
  for await (const cert of identity.updates(controller.signal)) {
    got.push(Buffer.from(cert.leafDer));
    if (got.length === 2) controller.abort();
  }
  expect(got).toHaveLength(2);
  expect(got[1]).not.toEqual(got[0]);
});

const IDENTITY_SVC = 'linkerd-identity.linkerd.serviceaccount.identity.linkerd.cluster.local';

/** A proxy identity client dialling the fake over TLS, expecting IDENTITY_SVC. */
function tlsIdentityClient(port: number, anchorsPem: string, extra: Partial<ProxyIdentityOptions> = {}) {
  const tls = createControlPlaneTlsCredentials(IDENTITY_SVC, anchorsPem);
  const identity = startProxyIdentity({
    address: `127.0.0.1:${port}`,
    channelCredentials: tls.credentials,
    channelOptions: tls.channelOptions,
    localName: IDENTITY,
    tokenFile: tokenFile('t'),
    trustAnchorsPem: anchorsPem,
    registry: new Registry(),
    ...extra,
  });
  onTestFinished(() => identity.close());
  return identity;
}

test('certifies over TLS, verifying the identity service presents LINKERD2_PROXY_IDENTITY_SVC_NAME', async () => {
  const { root, issuer } = pki();
  const fake = await startFakeIdentity(issuer, 60_000, 0, servingCredentials(issuer, IDENTITY_SVC));
  onTestFinished(() => fake.stop());
  const identity = tlsIdentityClient(fake.port, root.certificate.pem);
  expect(parseCertificate((await identity.ready()).leafDer).dnsNames).toEqual([IDENTITY]);
});

test('refuses an identity service presenting another name, says so, and retries with backoff', async () => {
  const { root, issuer } = pki();
  const other = 'linkerd-destination.linkerd.serviceaccount.identity.linkerd.cluster.local';
  const fake = await startFakeIdentity(issuer, 60_000, 0, servingCredentials(issuer, other));
  onTestFinished(() => fake.stop());
  const warnings: Record<string, unknown>[] = [];
  const identity = tlsIdentityClient(fake.port, root.certificate.pem, {
    backoff: { minMs: 50, maxMs: 200, jitter: 0 },
    callTimeoutMs: 2_000,
    logger: { info() {}, warn: (fields) => warnings.push(fields) },
  });
  await expect.poll(() => warnings.length, { timeout: 8_000 }).toBeGreaterThanOrEqual(2);
  expect(String(warnings[0]?.error)).toContain(`not ${IDENTITY_SVC}`);
  expect(warnings.map((w) => w.attempt)).toEqual(expect.arrayContaining([1, 2]));
  expect(fake.calls()).toBe(0);
  expect(identity.current()).toBeUndefined();
});
