// The built tsmesh-injector binary (needs `build`; skipped when dist/ is missing): it starts with a
// kubeconfig and a serving certificate, answers an AdmissionReview with the proxy patch, names a bad
// flag, and exits 0 on SIGTERM.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect } from 'vitest';
import { kubeTest, testKubeconfigPath } from '@tsmesh/testenv/vitest';
import { createServingCertificate, postToWebhook } from './webhook-fixtures.js';

const bin = fileURLToPath(new URL('../../bin/tsmesh-injector.js', import.meta.url));
const built = existsSync(fileURLToPath(new URL('../../dist/main.js', import.meta.url)));

describe.skipIf(!built)('tsmesh-injector binary', () => {
  kubeTest('serves admission reviews and stops on SIGTERM', async ({ namespace }) => {
    expect(spawnSync(process.execPath, [bin, '--bogus'], { encoding: 'utf8' }).stderr).toMatch(
      /Unknown option '--bogus'/,
    );
    const noAnchors = spawnSync(process.execPath, [bin, '--kubeconfig=/nonexistent'], { encoding: 'utf8' });
    expect(noAnchors.status).toBe(1);
    expect(noAnchors.stderr).toMatch(/no identity trust anchors \(pass --trust-anchors FILE/);
    const dir = await mkdtemp(join(tmpdir(), 'injector-bin-'));
    const { serving, caPem } = await createServingCertificate(dir);
    await writeFile(join(dir, 'values.yaml'), 'proxy:\n  image:\n    version: test-version\n');
    await writeFile(join(dir, 'ca.crt'), caPem);
    const child = spawn(
      process.execPath,
      [
        bin,
        '--addr=127.0.0.1:0',
        '--admin-addr=127.0.0.1:0',
        `--tls-cert=${serving.certPath}`,
        `--tls-key=${serving.keyPath}`,
        `--config=${join(dir, 'values.yaml')}`,
        `--trust-anchors=${join(dir, 'ca.crt')}`,
        `--kubeconfig=${testKubeconfigPath()}`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const lines = createInterface({ input: child.stderr! });
      let port = 0;
      for await (const line of lines) {
        const entry = JSON.parse(line) as { msg: string; webhook?: string };
        if (entry.msg === 'proxy injector ready') {
          port = Number(entry.webhook!.split(':').pop());
          break;
        }
      }
      expect(port).toBeGreaterThan(0);
      const review = {
        apiVersion: 'admission.k8s.io/v1',
        kind: 'AdmissionReview',
        request: {
          uid: 'bin-1',
          kind: { group: '', version: 'v1', kind: 'Pod' },
          resource: { group: '', version: 'v1', resource: 'pods' },
          operation: 'CREATE',
          userInfo: { username: 'admin' },
          namespace,
          object: {
            apiVersion: 'v1',
            kind: 'Pod',
            metadata: { name: 'web', annotations: { 'linkerd.io/inject': 'enabled' } },
            spec: { containers: [{ name: 'web', image: 'example.invalid/web:1' }] },
          },
        },
      };
      const reply = await postToWebhook(port, JSON.stringify(review), caPem);
      expect(reply.status).toBe(200);
      const response = (JSON.parse(reply.body) as { response: { uid: string; patch: string } }).response;
      expect(response.uid).toBe('bin-1');
      const patch = Buffer.from(response.patch, 'base64').toString();
      expect(patch).toContain('"name":"linkerd-proxy"');
      expect(patch).toContain('ghcr.io/tsmesh/proxy:test-version');
      expect(patch).toContain('BEGIN CERTIFICATE');
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });
});
