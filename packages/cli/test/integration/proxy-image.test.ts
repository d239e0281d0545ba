// The daemonless image build (images/build-proxy-image.sh): a base made from this machine's Node.js
// and its libraries, the packed @tsmesh/proxy, committed by buildah as an OCI archive, and
// `tsmesh-proxy --help` run from it. Needs root, buildah (apt-get install buildah) and a built proxy.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const hasBuildah = spawnSync('sh', ['-c', 'command -v buildah']).status === 0;
const ready = hasBuildah && process.getuid?.() === 0 && existsSync(join(root, 'packages/proxy/dist/main.js'));
const out = mkdtempSync(join(tmpdir(), 'tsmesh-image-test-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe.skipIf(!ready)('images/build-proxy-image.sh', () => {
  it('builds the proxy image as an OCI archive without a daemon and runs tsmesh-proxy --help from it', () => {
    const stdout = execFileSync('bash', [join(root, 'images/build-proxy-image.sh'), out], {
      encoding: 'utf8',
      timeout: 300_000,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(stdout).toMatch(/Usage: tsmesh-proxy \[run\] \[options\]/);
    const archive = join(out, 'tsmesh-proxy.oci.tar');
    expect(stdout.trim().endsWith(archive)).toBe(true);
    expect(statSync(archive).size).toBeGreaterThan(10_000_000);
    const index = execFileSync('tar', ['-xOf', archive, 'index.json'], { encoding: 'utf8' });
    expect(JSON.parse(index).manifests[0].annotations['org.opencontainers.image.ref.name']).toBe(
      'ghcr.io/tsmesh/proxy:local',
    );
  }, 320_000);
});
