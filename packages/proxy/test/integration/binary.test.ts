// The built binary: `tsmesh-proxy --help` prints usage and exits 0 (the root README shows it); a
// bad value stops start-up; it serves /ready, exits 0 on SIGTERM, and never loads core's ASN.1
// library (the certificate authority's, ~7 MB of RSS: it takes `@tsmesh/core/data-plane`).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../../bin/tsmesh-proxy.js', import.meta.url));
const built = existsSync(fileURLToPath(new URL('../../dist/main.js', import.meta.url)));

/**
 * Starts the binary on loopback ports (node flags before it); resolves with its admin port once it
 * listens, and `stop()` sends SIGTERM and resolves with the exit code.
 */
async function startBin(nodeFlags: readonly string[] = [], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [...nodeFlags, bin], {
    env: {
      ...process.env,
      ...env,
      LINKERD2_PROXY_INBOUND_LISTEN_ADDR: '127.0.0.1:0',
      LINKERD2_PROXY_OUTBOUND_LISTEN_ADDR: '127.0.0.1:0',
      LINKERD2_PROXY_ADMIN_LISTEN_ADDR: '127.0.0.1:0',
      LINKERD2_PROXY_SHUTDOWN_GRACE_PERIOD: '100ms',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  const adminPort = () => /admin 127\.0\.0\.1:(\d+)/.exec(stderr)?.[1];
  await expect.poll(adminPort, { timeout: 10_000 }).toBeDefined();
  return {
    adminPort: adminPort() as string,
    pid: child.pid as number,
    stop: () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Runs the binary to its end with these variables added (a start-up that fails returns). */
const runWith = (env: Record<string, string>) =>
  spawnSync(process.execPath, [bin], { encoding: 'utf8', timeout: 10_000, env: { ...process.env, ...env } });

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
    const res = runWith({ LINKERD2_PROXY_SHUTDOWN_GRACE_PERIOD: 'soon' });
    expect(res.status).toBe(2);
    expect(res.stderr).toMatch(/LINKERD2_PROXY_SHUTDOWN_GRACE_PERIOD: invalid value "soon"/);
  });

  it('serves /ready and exits 0 on SIGTERM', async () => {
    const proxy = await startBin();
    const res = await fetch(`http://127.0.0.1:${proxy.adminPort}/ready`);
    expect(await res.text()).toBe('ready\n');
    expect(await proxy.stop()).toBe(0);
  });

  it.runIf(process.platform === 'linux')(
    'runs its helper threads (V8 workers, libuv pool) at TSMESH_PROXY_HELPER_THREAD_NICE, its main thread not',
    async () => {
      // Field 19 of /proc/PID/task/TID/stat is the thread's nice value (after the command in parentheses).
      const niceOf = (pid: number) =>
        Object.fromEntries(
          readdirSync(`/proc/${pid}/task`).map((tid) => {
            const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
            return [tid, Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16])];
          }),
        );
      const base = niceOf(process.pid)[String(process.pid)]!;
      for (const [setting, expected] of [
        [undefined, Math.max(base, 10)],
        ['3', Math.max(base, 3)],
        ['0', base],
      ] as const) {
        const proxy = await startBin(
          [],
          setting === undefined ? {} : { TSMESH_PROXY_HELPER_THREAD_NICE: setting },
        );
        const nice = niceOf(proxy.pid);
        expect(await proxy.stop()).toBe(0);
        const { [String(proxy.pid)]: main, ...helpers } = nice;
        expect(main, `main thread with ${setting ?? 'the default'}`).toBe(base);
        expect(Object.keys(helpers).length).toBeGreaterThan(0);
        for (const [tid, n] of Object.entries(helpers))
          expect(n, `thread ${tid} with ${setting ?? 'the default'}`).toBe(expected);
      }
    },
  );

  it('stops start-up on a helper thread nice value out of range', () => {
    const res = runWith({ TSMESH_PROXY_HELPER_THREAD_NICE: '20' });
    expect(res.status).toBe(2);
    expect(res.stderr).toMatch(/TSMESH_PROXY_HELPER_THREAD_NICE: invalid value "20".*0 to 19/);
  });

  it('runs without loading the certificate authority (no @peculiar/asn1-* module)', async () => {
    // A module resolve hook (node:module register, Node >= 20.6) logs every module the proxy loads.
    const dir = mkdtempSync(join(tmpdir(), 'proxy-modules-'));
    const log = join(dir, 'modules.log');
    const hook = join(dir, 'hook.mjs');
    writeFileSync(
      hook,
      `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(${JSON.stringify(log)}, result.url + '\\n');
  return result;
}
`,
    );
    const register = join(dir, 'register.mjs');
    writeFileSync(
      register,
      `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hook).href)});\n`,
    );
    writeFileSync(log, '');
    const proxy = await startBin(['--import', register]);
    expect(await proxy.stop()).toBe(0);
    const modules = readFileSync(log, 'utf8').split('\n').filter(Boolean);
    // The log works: core's data-plane entry and grpc-js are in it.
    expect(modules.some((url) => url.includes('/core/dist/data-plane.js'))).toBe(true);
    expect(modules.some((url) => url.includes('@grpc/grpc-js'))).toBe(true);
    expect(
      modules.filter((url) => url.includes('@peculiar/') || url.includes('/core/dist/index.js')),
    ).toEqual([]);
  });
});
