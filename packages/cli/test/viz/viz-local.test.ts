// `tsmesh viz stat|routes|edges --state DIR` in local mode, in-process: a real loopback HTTP server
// plays the local control plane's API (/v1/pods, the Pod shape `tsmesh run` registers) and the
// two pods' proxy admin servers (/metrics whose counters grow by a fixed step on every scrape).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProgram } from '../../src/program.js';

const id = (sa: string) => `${sa}.emojivoto.serviceaccount.identity.linkerd.cluster.local`;

function pod(name: string, workload: string, adminPort: number) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'emojivoto',
      labels: {
        app: workload,
        'linkerd.io/control-plane-ns': 'linkerd',
        'linkerd.io/proxy-deployment': workload,
      },
    },
    spec: {
      serviceAccountName: workload,
      containers: [
        { name: workload },
        { name: 'linkerd-proxy', ports: [{ name: 'linkerd-admin', containerPort: adminPort }] },
      ],
    },
    status: { podIP: '127.0.0.1', phase: 'Running' },
  };
}

/** Scrape n of each proxy: emoji answered 10·n requests (1 in 10 failed) from web over mTLS. */
function metricsOf(workload: string, n: number): string {
  if (workload === 'emoji')
    return [
      '# TYPE response_total counter',
      `response_total{direction="inbound",tls="true",client_id="${id('web')}",classification="success"} ${9 * n}`,
      `response_total{direction="inbound",tls="true",client_id="${id('web')}",classification="failure"} ${n}`,
      `response_latency_ms_bucket{direction="inbound",le="10"} 0`,
      `response_latency_ms_bucket{direction="inbound",le="20"} ${10 * n}`,
      `response_latency_ms_bucket{direction="inbound",le="+Inf"} ${10 * n}`,
      `tcp_open_connections{direction="inbound",peer="src",tls="true"} 1`,
      'process_start_time_seconds 1700000000',
    ].join('\n');
  return [
    `response_total{direction="outbound",tls="true",server_id="${id('emoji')}",dst_deployment="emoji",dst_namespace="emojivoto",classification="success"} ${9 * n}`,
    `response_total{direction="outbound",tls="true",server_id="${id('emoji')}",dst_deployment="emoji",dst_namespace="emojivoto",classification="failure"} ${n}`,
    'process_start_time_seconds 1700000000',
  ].join('\n');
}

async function run(args: string[]): Promise<{ out: string; err: string; exitCode: number }> {
  let out = '';
  let err = '';
  const program = createProgram({ out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`) });
  try {
    await program.parseAsync(['node', 'tsmesh', ...args]);
    return { out, err, exitCode: 0 };
  } catch (e) {
    return { out, err, exitCode: (e as { exitCode?: number }).exitCode ?? 1 };
  }
}

describe('tsmesh viz in local mode (direct scrapes)', () => {
  let api: Server;
  const proxies = new Map<string, Server>();
  let state: string;

  const listen = async (server: Server) => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return (server.address() as AddressInfo).port;
  };

  beforeAll(async () => {
    state = mkdtempSync(join(tmpdir(), 'tsmesh-viz-cli-'));
    const ports: Record<string, number> = {};
    for (const workload of ['emoji', 'web']) {
      let n = 0;
      const proxy = createServer((req, res) =>
        res.end(req.url === '/metrics' ? metricsOf(workload, ++n) : ''),
      );
      proxies.set(workload, proxy);
      ports[workload] = await listen(proxy);
    }
    api = createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({ items: [pod('emoji-0', 'emoji', ports.emoji!), pod('web-0', 'web', ports.web!)] }),
      );
    });
    const port = await listen(api);
    writeFileSync(
      join(state, 'control-plane.json'),
      JSON.stringify({ pid: process.pid, api: `http://127.0.0.1:${port}` }),
    );
  });
  afterAll(async () => {
    for (const s of [api, ...proxies.values()]) await new Promise((r) => s.close(r));
    rmSync(state, { recursive: true, force: true });
  });

  it('stat: one scrape per proxy at each end of the window, columns as linkerd viz stat', async () => {
    const { out, exitCode, err } = await run([
      'viz',
      'stat',
      'deploy',
      '-n',
      'emojivoto',
      '--state',
      state,
      '-t',
      '1s',
    ]);
    expect(err).toBe('');
    expect(exitCode).toBe(0);
    const [header, ...lines] = out.trim().split('\n');
    expect(header!.split(/\s+/)).toEqual([
      'NAME',
      'MESHED',
      'SUCCESS',
      'RPS',
      'LATENCY_P50',
      'LATENCY_P95',
      'LATENCY_P99',
      'TCP_CONN',
    ]);
    // 10 requests between the two scrapes. The rate divides by the measured time between them:
    // 1 s asked for, longer on a loaded machine (1.15 s in one CI run gave 8.7rps), never shorter.
    expect(lines[0]).toMatch(/^emoji\s+1\/1\s+90\.00%\s+(\d\.\d|10\.0)rps\s+15ms\s+20ms\s+20ms\s+1$/);
    expect(lines[1]).toMatch(/^web\s+1\/1\s+-\s+-\s+-\s+-\s+-\s+0$/);
  });

  it('stat -o json carries the numbers; edges name client and server identities', async () => {
    const { out } = await run([
      'viz',
      'stat',
      'deploy/emoji',
      '-n',
      'emojivoto',
      '--state',
      state,
      '-t',
      '1s',
      '-o',
      'json',
    ]);
    const rows = JSON.parse(out) as {
      name: string;
      successRate: number;
      rps: number;
      latencyMsP50: number;
    }[];
    expect(rows.map((r) => r.name)).toEqual(['emoji']);
    expect(rows[0]!.successRate).toBeCloseTo(0.9);
    expect(rows[0]!.latencyMsP50).toBeCloseTo(15);
    const edges = await run([
      'viz',
      'edges',
      'deploy',
      '-n',
      'emojivoto',
      '--state',
      state,
      '-t',
      '1s',
      '-o',
      'wide',
    ]);
    expect(edges.out).toContain('SRC');
    expect(edges.out).toMatch(
      new RegExp(
        `web\\s+emoji\\s+emojivoto\\s+emojivoto\\s+${id('web').replace(/\./g, '\\.')}\\s+${id('emoji').replace(/\./g, '\\.')}\\s+√`,
      ),
    );
  });

  it('reports bad input clearly and exits 1', async () => {
    const bad = await run(['viz', 'stat', 'cronjob', '--state', state]);
    expect(bad.exitCode).toBe(1);
    expect(bad.err).toMatch(/viz stat: resource argument: unknown resource "cronjob"/);
    const window = await run(['viz', 'stat', 'deploy', '--state', state, '-t', 'soon']);
    expect(window.err).toMatch(/--time-window: bad time window "soon"/);
    const none = await run(['viz', 'stat', 'deploy', '--state', join(state, 'missing')]);
    expect(none.err).toMatch(/no local control plane is running/);
    const prom = await run(['viz', 'stat', 'deploy', '--prometheus-url', 'http://127.0.0.1:1', '-t', '10s']);
    expect(prom.err).toMatch(/Prometheus at http:\/\/127\.0\.0\.1:1 did not answer/);
  });
});
