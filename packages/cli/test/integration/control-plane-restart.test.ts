// The local mesh survives its control plane: with `tsmesh up` killed (SIGKILL) mid-traffic, a
// meshed client keeps reaching a meshed server by Service name over mTLS; a restarted `tsmesh up`
// on the same state serves on the same ports and both workloads register again with their pods.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parsePrometheusText } from '../../src/demo/index.js';
import { freePorts } from '../../src/demo/run-demo.js';

const cli = new URL('../../bin/tsmesh.js', import.meta.url).pathname;
const built = existsSync(new URL('../../dist/main.js', import.meta.url));

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** GET through a proxy's outbound listener, naming the Service as Host. */
function viaOutbound(outbound: string, host: string): Promise<{ status: number; body: string }> {
  const [ip, port] = outbound.split(':');
  return new Promise((resolve, reject) => {
    const req = request(
      { host: ip, port: Number(port), path: '/', headers: { host }, timeout: 5000 },
      (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

describe.skipIf(!built)('local control plane restart (built CLI)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsmesh-restart-'));
  const children: ChildProcess[] = [];
  afterAll(async () => {
    for (const child of children.reverse()) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    rmSync(dir, { recursive: true, force: true });
  });

  const start = (args: string[], log: string) => {
    const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.setEncoding('utf8').on('data', (t: string) => (output += t));
    child.stderr!.setEncoding('utf8').on('data', (t: string) => (output += t));
    child.once('exit', () => writeFileSync(join(dir, log), output));
    children.push(child);
    return { child, output: () => output };
  };

  it('keeps traffic flowing while the control plane is down and re-registers after a restart', async () => {
    const [serverPort] = await freePorts(1);
    const manifests = join(dir, 'manifests');
    const state = join(dir, 'state');
    mkdirSync(manifests);
    writeFileSync(
      join(manifests, 'hello.yaml'),
      `apiVersion: v1\nkind: Service\nmetadata: {name: hello, namespace: demo}\nspec:\n  selector: {app: hello}\n  ports: [{name: http, port: 80, targetPort: ${serverPort}}]\n`,
    );
    const upArgs = ['up', '-f', manifests, '--state', state];
    let up = start(upArgs, 'up-1.log');
    const infoFile = join(state, 'control-plane.json');
    const api = await until('control-plane.json', async () =>
      existsSync(infoFile) ? (JSON.parse(readFileSync(infoFile, 'utf8')) as { api: string }).api : undefined,
    );
    const server = start(
      [
        ...[
          'run',
          '--workload',
          'hello',
          '--namespace',
          'demo',
          '--port',
          `http=${serverPort}`,
          '--state',
          state,
          '--',
        ],
        process.execPath,
        '-e',
        `require('http').createServer((q, s) => s.end('hello ' + (q.headers['l5d-client-id'] || '-'))).listen(${serverPort}, '127.0.0.1')`,
      ],
      'hello.log',
    );
    const client = start(
      [
        ...['run', '--workload', 'client', '--namespace', 'demo', '--state', state, '--'],
        process.execPath,
        '-e',
        'setInterval(() => {}, 1 << 30)',
      ],
      'client.log',
    );
    type Pod = { metadata: { name: string; labels: Record<string, string> }; status: { podIP: string } };
    const pods = async () =>
      ((await (await fetch(new URL('/v1/pods', api))).json()) as { items: Pod[] }).items;
    const ready = await until('both pods', async () => {
      const items = await pods();
      return items.length === 2 ? items : undefined;
    });
    const ipOf = (items: Pod[], app: string) =>
      items.find((p) => p.metadata.labels.app === app)!.status.podIP;
    const clientIp = ipOf(ready, 'client');
    const helloIp = ipOf(ready, 'hello');
    const outbound = `${clientIp}:4140`;
    const authority = 'hello.demo.svc.cluster.local:80';
    const first = await until('a routed request', async () => {
      const res = await viaOutbound(outbound, authority);
      return res.status === 200 ? res : undefined;
    });
    expect(first.body).toBe('hello client.demo.serviceaccount.identity.linkerd.cluster.local');

    // Control plane gone: requests keep succeeding from what the proxies already know.
    up.child.kill('SIGKILL');
    await new Promise((r) => up.child.once('exit', r));
    for (let i = 0; i < 10; i++) {
      expect((await viaOutbound(outbound, authority)).status).toBe(200);
      await new Promise((r) => setTimeout(r, 200));
    }

    // Back on the same state: same API port, both pods registered again at their addresses.
    up = start(upArgs, 'up-2.log');
    const again = await until('both pods again', async () => {
      const items = await pods();
      return items.length === 2 ? items : undefined;
    });
    expect(ipOf(again, 'client')).toBe(clientIp);
    expect(ipOf(again, 'hello')).toBe(helloIp);
    expect((await viaOutbound(outbound, authority)).status).toBe(200);
    const metrics = parsePrometheusText(await (await fetch(`http://${helloIp}:4191/metrics`)).text());
    const mtls = metrics
      .filter(
        (s) => s.name === 'request_total' && s.labels.direction === 'inbound' && s.labels.tls === 'true',
      )
      .reduce((n, s) => n + s.value, 0);
    expect(mtls).toBeGreaterThanOrEqual(12);
    expect(server.child.exitCode).toBeNull();
    expect(client.child.exitCode).toBeNull();
  }, 120_000);
});
