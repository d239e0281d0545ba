// The built tsmesh-policy binary (needs `build`; skipped when dist/ is missing): local mode over a
// manifest directory answers GetPort and /ready, a bad flag exits 2 naming it, SIGTERM exits 0.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { clients, getPort } from '../../src/testing-fixtures.test-support.js';

const bin = fileURLToPath(new URL('../../bin/tsmesh-policy.js', import.meta.url));
const built = existsSync(fileURLToPath(new URL('../../dist/main.js', import.meta.url)));

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

describe.skipIf(!built)('tsmesh-policy binary', () => {
  it('names a bad flag with exit status 2', () => {
    const bad = spawnSync(process.execPath, [bin, '--cluster-networks', '10.0.0.0/40'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--cluster-networks: "10.0.0.0/40" is not a CIDR');
  });

  it('serves a manifest directory and stops on SIGTERM', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'policy-bin-'));
    await writeFile(
      join(dir, 'shop.yaml'),
      `apiVersion: v1
kind: Pod
metadata: { name: web-0, namespace: shop, labels: { app: web } }
spec:
  containers: [{ name: app, image: example.invalid/web, ports: [{ name: http, containerPort: 8080 }] }]
---
apiVersion: policy.linkerd.io/v1beta3
kind: Server
metadata: { name: web-http, namespace: shop }
spec: { podSelector: { matchLabels: { app: web } }, port: http, proxyProtocol: HTTP/2 }
`,
    );
    const [grpcPort, adminPort] = [await freePort(), await freePort()];
    const child = spawn(
      process.execPath,
      [
        bin,
        '--source-dir',
        dir,
        `--grpc-addr=127.0.0.1:${grpcPort}`,
        `--admin-addr=127.0.0.1:${adminPort}`,
        '--cluster-networks=127.0.0.0/8,::1/128',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const c = clients(`127.0.0.1:${grpcPort}`);
    try {
      await expect
        .poll(
          () =>
            fetch(`http://127.0.0.1:${adminPort}/ready`).then(
              (r) => r.status,
              () => 0,
            ),
          { timeout: 20_000 },
        )
        .toBe(200);
      const res = await getPort(c, { workload: 'shop:web-0', port: 8080 });
      expect(res.labels).toEqual({ group: 'policy.linkerd.io', kind: 'server', name: 'web-http' });
      expect(res.protocol?.http2).toBeTruthy();
    } finally {
      c.close();
      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number | null];
      await rm(dir, { recursive: true, force: true });
      expect(code, stderr).toBe(0);
    }
  });
});
