// The built binary: `tsmesh-proxy --help` prints usage and exits 0 (the root README shows it).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../../bin/tsmesh-proxy.js', import.meta.url));
const built = existsSync(fileURLToPath(new URL('../../dist/main.js', import.meta.url)));

describe.skipIf(!built)('tsmesh-proxy binary (needs `build`; skipped when dist/ is missing)', () => {
  it('--help prints usage and exits 0', () => {
    const res = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8', timeout: 10_000 });
    expect(res.status).toBe(0);
    expect(res.stdout).toMatch(/^Usage: tsmesh-proxy/);
  });
  it('an unknown command exits 2', () => {
    const res = spawnSync(process.execPath, [bin, 'bogus'], { encoding: 'utf8', timeout: 10_000 });
    expect(res.status).toBe(2);
    expect(res.stderr).toMatch(/unknown command/);
  });
});

describe.skipIf(!built)('tsmesh-proxy run (built binary)', () => {
  it('stops start-up on a bad value, naming the variable', () => {
    const res = spawnSync(process.execPath, [bin], {
      encoding: 'utf8',
      timeout: 10_000,
      env: { ...process.env, LINKERD2_PROXY_SHUTDOWN_GRACE_PERIOD: 'soon' },
    });
    expect(res.status).toBe(2);
    expect(res.stderr).toMatch(/LINKERD2_PROXY_SHUTDOWN_GRACE_PERIOD: invalid value "soon"/);
  });

  it('serves /ready and exits 0 on SIGTERM', async () => {
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, [bin], {
      env: {
        ...process.env,
        LINKERD2_PROXY_INBOUND_LISTEN_ADDR: '127.0.0.1:0',
        LINKERD2_PROXY_OUTBOUND_LISTEN_ADDR: '127.0.0.1:0',
        LINKERD2_PROXY_ADMIN_LISTEN_ADDR: '127.0.0.1:0',
        LINKERD2_PROXY_SHUTDOWN_GRACE_PERIOD: '100ms',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    await expect.poll(() => /admin 127\.0\.0\.1:(\d+)/.exec(stderr)?.[1], { timeout: 10_000 }).toBeDefined();
    const port = /admin 127\.0\.0\.1:(\d+)/.exec(stderr)?.[1];
    const res = await fetch(`http://127.0.0.1:${port}/ready`);
    expect(await res.text()).toBe('ready\n');
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    expect(code).toBe(0);
  });
});
