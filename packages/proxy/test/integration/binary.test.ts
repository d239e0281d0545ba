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
