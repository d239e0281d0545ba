// The built tsmesh-destination binary against kube-apiserver: it starts with Linkerd's flags,
// answers Get for a Service whose EndpointSlice the test writes, serves /ready and /metrics, and
// exits 0 on SIGTERM; a bad flag exits 2 naming it. Needs `nx run @tsmesh/destination:build`.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { expect } from 'vitest';
import { kubeTest } from '@tsmesh/testenv/vitest';
import { CoreKinds, createKubeApiClient, crdManifests, installCrds } from '@tsmesh/kube';
import { createClient, getEndpoints } from './support.js';

const bin = fileURLToPath(new URL('../../bin/tsmesh-destination.js', import.meta.url));
const built = existsSync(fileURLToPath(new URL('../../dist/main.js', import.meta.url)));

kubeTest.skipIf(!built)(
  'tsmesh-destination serves Get over the Kubernetes API',
  async ({ kubeConfig, namespace }) => {
    const bad = spawnSync(process.execPath, [bin, '-enable-ipv6=perhaps'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('-enable-ipv6');

    const dir = await mkdtemp(join(tmpdir(), 'destination-bin-'));
    const kubeconfigPath = join(dir, 'kubeconfig');
    await writeFile(kubeconfigPath, kubeConfig.exportConfig());
    const client = createKubeApiClient(kubeConfig);
    // Servers and ServiceProfiles are read too: without their CRDs /ready stays 503.
    await installCrds(client, crdManifests(), { timeoutMs: 60_000 });
    await client.create(CoreKinds.Service, {
      metadata: { name: 'web', namespace },
      spec: { ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
    });
    await client.create(CoreKinds.EndpointSlice, {
      metadata: { name: 'web-1', namespace, labels: { 'kubernetes.io/service-name': 'web' } },
      addressType: 'IPv4',
      ports: [{ name: 'http', port: 8080 }],
      endpoints: [{ addresses: ['198.18.4.1'], conditions: { ready: true } }],
    });
    const child = spawn(
      process.execPath,
      [
        bin,
        '-addr',
        '127.0.0.1:0',
        '-admin-addr=127.0.0.1:0',
        '-kubeconfig',
        kubeconfigPath,
        '-controller-namespace=linkerd',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    try {
      const ports = await new Promise<{ port: number; adminPort: number }>((resolve, reject) => {
        const lines = createInterface({ input: child.stderr! });
        lines.on('line', (line) => {
          const entry = JSON.parse(line) as { msg?: string; port?: number; adminPort?: number };
          if (entry.msg === 'destination service started')
            resolve({ port: entry.port!, adminPort: entry.adminPort! });
        });
        child.once('exit', (code) => reject(new Error(`exited ${code}`)));
      });
      const grpc = createClient(`127.0.0.1:${ports.port}`);
      const { model, stream } = getEndpoints(grpc, `web.${namespace}.svc.cluster.local:80`);
      await stream.until(() => model.addrs.has('198.18.4.1:8080'), 30_000, 'endpoint');
      await expect
        .poll(async () => (await fetch(`http://127.0.0.1:${ports.adminPort}/ready`)).status, {
          timeout: 20_000,
        })
        .toBe(200);
      const metrics = await (await fetch(`http://127.0.0.1:${ports.adminPort}/metrics`)).text();
      expect(metrics).toContain('tsmesh_destination_subscriptions{method="Get"} 1');
      expect(metrics).toContain('tsmesh_kube_watch_lists_total');
      stream.cancel();
      grpc.close();
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      client.close();
      await rm(dir, { recursive: true, force: true });
    }
  },
);
