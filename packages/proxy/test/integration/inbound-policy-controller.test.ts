// The proxy against the real policy controller: the built tsmesh-policy binary in local mode
// (--source-dir) serves InboundServerPolicies for a Pod, a Server and an AuthorizationPolicy
// written as manifests; the proxy watches its port as that Pod and enforces what it is sent.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ProxyEnv } from '@tsmesh/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeServer, forwardTo, listenHttp, startHarness, type Harness } from './proxy-harness.js';

const run = promisify(execFile);
const POLICY_BIN = fileURLToPath(new URL('../../../policy/bin/tsmesh-policy.js', import.meta.url));
const POLICY_MAIN = fileURLToPath(new URL('../../../policy/dist/main.js', import.meta.url));
const built = existsSync(POLICY_MAIN);

async function freePort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

const manifests = (appPort: number) => `
apiVersion: v1
kind: Namespace
metadata: { name: shop }
---
apiVersion: v1
kind: Pod
metadata: { name: web-0, namespace: shop, labels: { app: web } }
spec:
  serviceAccountName: web
  containers:
  - name: app
    image: example.invalid/web
    ports: [{ name: http, containerPort: ${appPort} }]
status: { podIP: 127.0.1.1, phase: Running }
---
apiVersion: policy.linkerd.io/v1beta3
kind: Server
metadata: { name: web-http, namespace: shop }
spec:
  podSelector: { matchLabels: { app: web } }
  port: http
  proxyProtocol: HTTP/1
---
apiVersion: policy.linkerd.io/v1alpha1
kind: MeshTLSAuthentication
metadata: { name: web-clients, namespace: shop }
spec:
  identities: ["frontend.shop.serviceaccount.identity.linkerd.cluster.local"]
---
apiVersion: policy.linkerd.io/v1alpha1
kind: AuthorizationPolicy
metadata: { name: frontend-only, namespace: shop }
spec:
  targetRef: { group: policy.linkerd.io, kind: Server, name: web-http }
  requiredAuthenticationRefs:
  - { group: policy.linkerd.io, kind: MeshTLSAuthentication, name: web-clients }
`;

describe.skipIf(!built)('inbound policy from the tsmesh-policy controller (local mode)', () => {
  let dir: string;
  let controller: ChildProcess;
  let app: Awaited<ReturnType<typeof listenHttp>>;
  let h: Harness;
  let stderr = '';

  beforeAll(async () => {
    app = await listenHttp((_req, res) => res.end('ok\n'));
    dir = await mkdtemp(join(tmpdir(), 'tsmesh-proxy-policy-'));
    await writeFile(join(dir, 'shop.yaml'), manifests(app.port));
    const grpcPort = await freePort();
    controller = spawn(
      process.execPath,
      [
        POLICY_BIN,
        '--source-dir',
        dir,
        '--grpc-addr',
        `127.0.0.1:${grpcPort}`,
        '--admin-addr',
        `127.0.0.1:${await freePort()}`,
        '--cluster-networks',
        '127.0.0.0/8',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    controller.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    h = await startHarness({
      [ProxyEnv.PolicySvcAddr]: `127.0.0.1:${grpcPort}`,
      [ProxyEnv.PolicySvcName]: 'linkerd-destination.linkerd.serviceaccount.identity.linkerd.cluster.local',
      [ProxyEnv.PolicyWorkload]: '{"ns":"shop","pod":"web-0"}',
      ...forwardTo(app.port),
    });
  }, 30_000);
  afterAll(async () => {
    await h?.close();
    if (controller && controller.exitCode === null) {
      controller.kill('SIGTERM');
      await once(controller, 'exit');
    }
    await closeServer(app.server);
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses an unauthenticated client with the AuthorizationPolicy named', async () => {
    const deadline = Date.now() + 20_000;
    let out = '';
    while (Date.now() < deadline) {
      ({ stdout: out } = await run('curl', [
        '-sS',
        '-i',
        '--max-time',
        '5',
        `http://127.0.0.1:${h.inboundPort}/`,
      ]));
      if (out.startsWith('HTTP/1.1 403')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(out, stderr).toMatch(/^HTTP\/1\.1 403/);
    expect(out.toLowerCase()).toMatch(/l5d-proxy-error: forbidden: .*authorizationpolicy\/frontend-only/);
    expect(h.proxy.inboundPolicy.port(app.port).server.meta).toEqual({
      group: 'policy.linkerd.io',
      kind: 'server',
      name: 'web-http',
    });
  });
});
