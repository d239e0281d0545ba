// Outbound per-endpoint metrics carry the endpoint's Destination API metric labels prefixed dst_
// (as linkerd2-proxy does, and as viz stat/edges query them): request_total, response_total,
// response_latency_ms for HTTP through the mesh stack, tcp_* for opaque connections to a
// discovered endpoint. Real HTTP/TCP servers on 127.0.1.N, a scriptable control plane.
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { toTcpAddress } from '../../src/discovery/index.js';
import { meshTestbed, requestVia, type MeshOutbound } from './support/mesh-outbound.js';

const WEB = 'web.emojivoto.svc.cluster.local:80';
const POD_LABELS = {
  namespace: 'emojivoto',
  pod: 'web-6b7c9d-x1',
  deployment: 'web',
  pod_template_hash: '6b7c9d',
  serviceaccount: 'web',
  zone: 'zone-a',
  zone_locality: 'local',
  // Not a label any destination controller sends: left out, without breaking the series.
  'not a label': 'x',
};

const t = meshTestbed();

/** The exposition lines of one family whose labels include all of `want`. */
async function lines(p: MeshOutbound, family: string, want: Record<string, string>): Promise<string[]> {
  const text = await p.registry.metrics();
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${family}{`))
    .filter((l) => Object.entries(want).every(([k, v]) => l.includes(`${k}="${v}"`)));
}

describe('outbound dst_* labels', () => {
  it('labels request_total, response_total and response_latency_ms with the endpoint metric labels', async () => {
    const web = await t.server('127.0.1.41', (_req, res) => res.end('ok'));
    t.cp.setEndpoints(WEB, [{ host: web.host, port: web.port, labels: POD_LABELS }]);
    const proxy = await t.start();
    for (let i = 0; i < 3; i++) expect((await requestVia(proxy.port, WEB)).status).toBe(200);

    const dst = {
      direction: 'outbound',
      authority: WEB,
      target_addr: `${web.host}:${web.port}`,
      dst_service: 'test', // the set's metric labels (the test control plane sends service=test)
      dst_namespace: 'emojivoto',
      dst_pod: 'web-6b7c9d-x1',
      dst_deployment: 'web',
      dst_pod_template_hash: '6b7c9d',
      dst_serviceaccount: 'web',
      dst_zone: 'zone-a',
      dst_zone_locality: 'local',
    };
    expect(await proxy.metric('request_total', dst)).toBe(3);
    expect(
      await proxy.metric('response_total', { ...dst, status_code: '200', classification: 'success' }),
    ).toBe(3);
    const latency = await lines(proxy, 'response_latency_ms_count', dst);
    expect(latency).toHaveLength(1);
    expect(latency[0]).toMatch(/ 3$/);
    const text = await proxy.registry.metrics();
    expect(text).not.toContain('not a label');
  });

  it('labels tcp_* of an opaque connection to a discovered endpoint', async () => {
    // An echo server stands in for the pod; the profile for its address names the pod.
    const echo: Server = createServer((s) => s.pipe(s));
    echo.listen(0, '127.0.1.42');
    await once(echo, 'listening');
    const port = (echo.address() as { port: number }).port;
    t.onClose(() => new Promise<void>((r) => echo.close(() => r())));
    const target = `127.0.1.42:${port}`;
    t.cp.setProfile(target, {
      endpoint: {
        addr: toTcpAddress({ host: '127.0.1.42', port }),
        weight: 10_000,
        metricLabels: { namespace: 'db', pod: 'db-0', statefulset: 'db', serviceaccount: 'db' },
      },
    });
    const p = await t.start();
    // The mesh's opaque path, fed by a listener of our own (as the outbound server does for
    // opaque ports).
    const front = createServer((s) => p.mesh.forwardOpaque(s, undefined, { host: '127.0.1.42', port }));
    front.listen(0, '127.0.0.1');
    await once(front, 'listening');
    t.onClose(() => new Promise<void>((r) => front.close(() => r())));
    const client: Socket = connect((front.address() as { port: number }).port, '127.0.0.1');
    client.write('ping');
    const [echoed] = (await once(client, 'data')) as [Buffer];
    expect(echoed.toString()).toBe('ping');
    const dst = {
      direction: 'outbound',
      peer: 'dst',
      target_addr: target,
      dst_namespace: 'db',
      dst_pod: 'db-0',
      dst_statefulset: 'db',
      dst_serviceaccount: 'db',
    };
    expect(await p.metric('tcp_open_total', dst)).toBe(1);
    client.end();
    await once(client, 'close');
    const deadline = Date.now() + 10_000;
    while ((await p.metric('tcp_close_total', dst)) < 1) {
      if (Date.now() > deadline)
        throw new Error('tcp_close_total{peer="dst",dst_pod="db-0"} never counted the close');
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(await p.metric('tcp_open_connections', dst)).toBe(0);
  });
});
