// `tsmesh up` as a library against real files, real gRPC and real HTTP: a bad manifest is
// reported with file, document and field while the rest serves; edits apply live; a registered
// workload gets a pod IP, a token the identity service accepts, and EndpointSlices; Destination
// sees a Service added while running.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials } from '@grpc/grpc-js';
import { DestinationClient, type destination } from '@tsmesh/core';
import type { ManifestError } from '@tsmesh/kube';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  readControlPlaneInfo,
  startLocalControlPlane,
  statePaths,
  type LocalControlPlane,
} from '../../src/local/index.js';

const SERVICE = (name: string, port: number) => `apiVersion: v1
kind: Service
metadata:
  name: ${name}
  namespace: shop
spec:
  selector:
    app: ${name}
  ports:
    - name: http
      port: 80
      targetPort: ${port}
`;

const BAD = `apiVersion: v1
kind: Service
metadata:
  name: fine
  namespace: shop
spec:
  ports:
    - port: 81
---
apiVersion: policy.linkerd.io/v1beta3
kind: Server
metadata:
  name: broken
  namespace: shop
spec:
  podSelector:
    matchLabels:
      app: web
  port: 8080
  proxyProtocol: SMTP
`;

async function until<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** POST /v1/workloads; resolves with the first line and a function that ends the registration. */
function registerWorkload(api: string, body: object) {
  return new Promise<{ answer: Record<string, unknown>; release: () => void }>((resolve, reject) => {
    const req = request(new URL('/v1/workloads', api), { method: 'POST' }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
        if (text.includes('\n'))
          resolve({
            answer: JSON.parse(text.split('\n')[0]!) as Record<string, unknown>,
            release: () => req.destroy(),
          });
      });
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

describe('tsmesh up (local control plane)', () => {
  let dir: string;
  let plane: LocalControlPlane | undefined;
  const problems: ManifestError[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tsmesh-up-'));
    problems.length = 0;
  });
  afterEach(async () => {
    await plane?.close();
    plane = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  const start = async () => {
    plane = await startLocalControlPlane({
      manifestDir: join(dir, 'manifests'),
      stateDir: join(dir, 'state'),
      logger: { debug() {}, info() {}, warn() {}, error() {} },
      onManifestError: (e) => problems.push(e),
      adminPort: 0,
    });
    return plane;
  };

  it('reports a bad document with file, document and field, serves the rest, and applies edits live', async () => {
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(dir, 'manifests'));
    writeFileSync(join(dir, 'manifests', 'web.yaml'), SERVICE('web', 8080));
    writeFileSync(join(dir, 'manifests', 'bad.yaml'), BAD);
    const cp = await start();

    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ file: 'bad.yaml', document: 2 });
    expect(problems[0]!.field).toBe('spec.proxyProtocol');

    // control-plane.json names what `tsmesh run` needs; the trust material exists.
    const info = readControlPlaneInfo(statePaths(join(dir, 'state')));
    expect(info.api).toBe(cp.info.api);
    expect(info.identity.addr).toMatch(/^127\.0\.0\.1:\d+$/);
    const status = (await (await fetch(new URL('/v1/status', info.api))).json()) as {
      manifestErrors: { file: string; document: number; field: string }[];
      services: number;
    };
    expect(status.manifestErrors[0]).toMatchObject({ file: 'bad.yaml', document: 2 });
    expect(status.services).toBe(2); // web and the good document of bad.yaml
    expect((await fetch(`http://127.0.0.1:${cp.adminPort}/ready`)).status).toBe(200);

    // A new file: the Service appears, and a registered pod becomes its endpoint.
    writeFileSync(join(dir, 'manifests', 'cart.yaml'), SERVICE('cart', 9000));
    await until('cart in the status', async () => {
      const s = (await (await fetch(new URL('/v1/status', info.api))).json()) as { services: number };
      return s.services === 3;
    });
    const { answer, release } = await registerWorkload(info.api, {
      workload: 'cart',
      namespace: 'shop',
      serviceAccount: 'cart',
      ports: [{ port: 9000, name: 'http' }],
    });
    expect(answer.podIP).toMatch(/^127\.\d+\.\d+\.\d+$/);
    expect(answer.identity).toBe('cart.shop.serviceaccount.identity.linkerd.cluster.local');
    expect(String(answer.token).split('.')).toHaveLength(3);
    const resolved = await until('the cart endpoint', async () => {
      const res = await fetch(new URL(`/v1/resolve?authority=cart.shop.svc.cluster.local:80`, info.api));
      const body = (await res.json()) as { endpoints?: { addr: string; identity?: string }[] };
      return body.endpoints?.length ? body.endpoints : undefined;
    });
    expect(resolved[0]).toMatchObject({ addr: `${String(answer.podIP)}:9000`, identity: answer.identity });

    // Fixing the bad file clears the problem.
    writeFileSync(join(dir, 'manifests', 'bad.yaml'), BAD.replace('SMTP', 'HTTP/1'));
    await until('no manifest problems', async () => {
      const s = (await (await fetch(new URL('/v1/status', info.api))).json()) as {
        manifestErrors: unknown[];
      };
      return s.manifestErrors.length === 0;
    });

    // The workload going away removes its pod.
    release();
    await until('the pod to be gone', async () => {
      const { items } = (await (await fetch(new URL('/v1/pods', info.api))).json()) as { items: unknown[] };
      return items.length === 0;
    });
  });

  it('serves Destination for a Service added while running (when the destination controller is present)', async (ctx) => {
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(dir, 'manifests'));
    const cp = await start();
    if (!cp.info.destination) ctx.skip(); // @tsmesh/destination provides no startDestinationService yet
    writeFileSync(join(dir, 'manifests', 'late.yaml'), SERVICE('late', 7000));
    const { answer, release } = await registerWorkload(cp.info.api, {
      workload: 'late',
      namespace: 'shop',
      serviceAccount: 'late',
      ports: [{ port: 7000 }],
    });
    // The file is read after a short debounce; Destination answers for Services it knows.
    await until('late in the local API', async () => {
      const res = await fetch(new URL('/v1/resolve?authority=late.shop.svc.cluster.local:80', cp.info.api));
      return res.status === 200 ? true : undefined;
    });
    const client = new DestinationClient(cp.info.destination!.addr, credentials.createInsecure());
    try {
      const addrs = await new Promise<destination.WeightedAddr[]>((resolve, reject) => {
        const stream = client.get({
          scheme: 'k8s',
          path: 'late.shop.svc.cluster.local:80',
          contextToken: '',
        });
        const timer = setTimeout(
          () => reject(new Error('no endpoints from Destination within 15 s')),
          15_000,
        );
        stream.on('data', (update: destination.Update) => {
          const added = (update.add?.addrs ?? []) as destination.WeightedAddr[];
          if (added.length) {
            clearTimeout(timer);
            stream.cancel();
            resolve(added);
          }
        });
        stream.on('error', (err: Error) => {
          clearTimeout(timer);
          reject(err);
        });
      });
      const ip = String(answer.podIP).split('.').map(Number);
      expect(addrs[0]!.addr!.port).toBe(7000);
      expect(addrs[0]!.addr!.ip!.ipv4).toBe(((ip[0]! << 24) | (ip[1]! << 16) | (ip[2]! << 8) | ip[3]!) >>> 0);
      expect(addrs[0]!.tlsIdentity?.dnsLikeIdentity?.name).toBe(
        'late.shop.serviceaccount.identity.linkerd.cluster.local',
      );
    } finally {
      client.close();
      release();
    }
  });

  it('a restarted control plane serves on the same addresses, and refuses a second one on the same state', async () => {
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(dir, 'manifests'));
    const first = await start();
    const before = first.info;
    await first.close();
    plane = undefined;
    const second = await start();
    expect(second.info.identity.addr).toBe(before.identity.addr);
    expect(second.info.api).toBe(before.api);
    if (before.destination) expect(second.info.destination?.addr).toBe(before.destination.addr);
    await second.close();
    plane = undefined;
    // control-plane.json naming a live process (here: our parent) means another `tsmesh up`.
    const paths = statePaths(join(dir, 'state'));
    writeFileSync(paths.controlPlane, JSON.stringify({ ...before, pid: process.ppid }));
    await expect(start()).rejects.toThrow(/another tsmesh up/);
  });
});
