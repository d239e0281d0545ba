// The controller over @tsmesh/kube's directory source (local mode): manifests in files, a malformed
// one reported by name and field and skipped, file edits reaching open WatchPort streams.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { createDirectoryObjectSource, type DirectoryObjectSource } from '@tsmesh/kube';
import { startPolicyService, type PolicyService } from '../../src/index.js';
import { clients, collect, getPort } from '../../src/testing-fixtures.test-support.js';

const base = `
apiVersion: v1
kind: Namespace
metadata: { name: shop }
---
apiVersion: v1
kind: Pod
metadata:
  name: web-0
  namespace: shop
  labels: { app: web }
spec:
  containers:
  - name: app
    image: example.invalid/web
    ports: [{ name: http, containerPort: 8080 }]
status: { podIP: 127.0.1.1, phase: Running }
`;

const serverYaml = (protocol: string) => `
apiVersion: policy.linkerd.io/v1beta3
kind: Server
metadata: { name: web-http, namespace: shop }
spec:
  podSelector: { matchLabels: { app: web } }
  port: http
  proxyProtocol: ${protocol}
`;

const badAuthn = `
apiVersion: policy.linkerd.io/v1alpha1
kind: AuthorizationPolicy
metadata: { name: broken, namespace: shop }
spec:
  targetRef: { group: apps, kind: Deployment, name: web }
  requiredAuthenticationRefs: []
`;

let dir: string;
let source: DirectoryObjectSource;
let svc: PolicyService;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'policy-dir-'));
  await writeFile(join(dir, 'base.yaml'), base);
  await writeFile(join(dir, 'server.yaml'), serverYaml('HTTP/1'));
  await writeFile(join(dir, 'broken.yaml'), badAuthn);
  source = createDirectoryObjectSource({ dir, debounceMs: 20 });
  svc = await startPolicyService({ source, port: 0, clusterNetworks: ['127.0.0.0/8', '::1/128'] });
});

afterEach(async () => {
  await svc.close();
  await source.close();
  await rm(dir, { recursive: true, force: true });
});

test('serves policy from files, skips a malformed resource naming its field, follows edits', async () => {
  const c = clients(svc.address);
  try {
    const first = await getPort(c, { workload: JSON.stringify({ ns: 'shop', pod: 'web-0' }), port: 8080 });
    expect(first.labels).toEqual({ group: 'policy.linkerd.io', kind: 'server', name: 'web-http' });
    expect(first.protocol?.http1).toBeTruthy();
    expect(svc.state()?.problems).toEqual([
      expect.objectContaining({
        kind: 'AuthorizationPolicy',
        name: 'broken',
        message: expect.stringContaining('AuthorizationPolicy shop/broken: spec.targetRef.kind'),
      }),
    ]);

    const call = c.inbound.watchPort({ workload: 'shop:web-0', port: 8080 });
    const s = collect(call);
    await s.next(1);
    await writeFile(join(dir, 'server.yaml'), serverYaml('opaque'));
    const updated = await s.next(2);
    expect(updated.protocol?.opaque).toBeTruthy();
    await rm(join(dir, 'server.yaml'));
    expect((await s.next(3)).labels).toEqual({ group: '', kind: 'default', name: 'all-unauthenticated' });
    call.cancel();
    await expect.poll(() => svc.subscriptions()).toBe(0);
  } finally {
    c.close();
  }
});
