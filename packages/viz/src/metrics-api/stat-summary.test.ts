import { describe, expect, it } from 'vitest';
import { parsePrometheusText } from '../prometheus-text/index.js';
import { edgesOf } from './edges.js';
import { promql } from './prometheus-vectors.js';
import { parseResource } from './resource.js';
import { createScrapeVectors, withTargetLabels, type Snapshot } from './scrape-vectors.js';
import { statSummary } from './stat-summary.js';

const webId = 'web.emojivoto.serviceaccount.identity.linkerd.cluster.local';
const emojiId = 'emoji.emojivoto.serviceaccount.identity.linkerd.cluster.local';

/** web calls emoji; `n` responses so far (1 in 10 fail), latencies in the 10-20 ms bucket. */
function scrape(atMs: number, n: number, conns: number): Snapshot {
  const fail = n / 10;
  const emoji = `
response_total{direction="inbound",tls="true",client_id="${webId}",classification="success",status_code="200"} ${n - fail}
response_total{direction="inbound",tls="true",client_id="${webId}",classification="failure",status_code="500"} ${fail}
response_latency_ms_bucket{direction="inbound",le="5"} 0
response_latency_ms_bucket{direction="inbound",le="10"} 0
response_latency_ms_bucket{direction="inbound",le="20"} ${n}
response_latency_ms_bucket{direction="inbound",le="+Inf"} ${n}
tcp_open_connections{direction="inbound",peer="src",tls="true"} ${conns}
tcp_read_bytes_total{direction="inbound",peer="src",tls="true"} ${n * 100}
tcp_write_bytes_total{direction="inbound",peer="src",tls="true"} ${n * 200}
process_start_time_seconds 1700000000
`;
  const web = `
response_total{direction="outbound",tls="true",server_id="${emojiId}",dst_deployment="emoji",dst_namespace="emojivoto",dst_service="emoji-svc",classification="success"} ${n - fail}
response_total{direction="outbound",tls="true",server_id="${emojiId}",dst_deployment="emoji",dst_namespace="emojivoto",dst_service="emoji-svc",classification="failure"} ${fail}
process_start_time_seconds 1700000000
`;
  return {
    atMs,
    failures: [],
    samples: [
      ...withTargetLabels(parsePrometheusText(emoji), {
        namespace: 'emojivoto',
        deployment: 'emoji',
        pod: 'emoji-0',
      }),
      ...withTargetLabels(parsePrometheusText(web), {
        namespace: 'emojivoto',
        deployment: 'web',
        pod: 'web-0',
      }),
    ],
  };
}

describe('statSummary over two scrapes', () => {
  const vectors = createScrapeVectors(scrape(0, 100, 1), scrape(10_000, 300, 2));

  it('gives success rate, requests a second, latency quantiles, TCP and meshed pods per deployment', async () => {
    const rows = await statSummary(vectors, { resource: parseResource('deploy'), namespace: 'emojivoto' });
    expect(rows.map((r) => r.name)).toEqual(['emoji', 'web']);
    const emoji = rows[0]!;
    expect(emoji.successRate).toBeCloseTo(0.9);
    expect(emoji.rps).toBeCloseTo(20);
    expect(emoji.latencyMsP50).toBeCloseTo(15);
    expect(emoji.latencyMsP99).toBeCloseTo(19.9);
    expect(emoji.tlsShare).toBe(1);
    expect(emoji.tcpConnections).toBe(2);
    expect(emoji.tcpReadBytesPerSec).toBeCloseTo(2000);
    expect(emoji.meshedPods).toBe(1);
    expect(rows[1]!.successRate).toBeUndefined(); // web has a proxy but no inbound traffic
  });

  it('reads outbound series for --to and --from', async () => {
    const to = await statSummary(vectors, {
      resource: parseResource('deploy/web'),
      namespace: 'emojivoto',
      to: { ...parseResource('deploy/emoji'), namespace: 'emojivoto' },
    });
    expect(to).toHaveLength(1);
    expect(to[0]!.rps).toBeCloseTo(20);
    const from = await statSummary(vectors, {
      resource: parseResource('deploy'),
      namespace: 'emojivoto',
      from: { ...parseResource('deploy/web'), namespace: 'emojivoto' },
    });
    expect(from.map((r) => [r.name, r.successRate])).toEqual([['emoji', 0.9]]);
    const svc = await statSummary(vectors, { resource: parseResource('svc'), namespace: 'emojivoto' });
    expect(svc.map((r) => r.name)).toEqual(['emoji-svc']);
  });

  it('gives edges with client and server identities', async () => {
    const edges = await edgesOf(vectors, { type: 'deployment', namespace: 'emojivoto' });
    expect(edges).toEqual([
      {
        src: { namespace: 'emojivoto', name: 'web' },
        dst: { namespace: 'emojivoto', name: 'emoji' },
        clientId: webId,
        serverId: emojiId,
        secured: true,
        noTlsReason: '',
        requests: 200,
      },
    ]);
  });

  it('writes PromQL as linkerd-viz does', () => {
    expect(
      promql.increase(
        'response_total',
        { direction: 'inbound', namespace: 'emojivoto' },
        ['deployment', 'namespace', 'classification', 'tls'],
        30,
      ),
    ).toBe(
      'sum(increase(response_total{direction="inbound", namespace="emojivoto"}[30s])) by (deployment, namespace, classification, tls)',
    );
    expect(promql.quantile(0.95, 'response_latency_ms', { direction: 'inbound' }, ['pod'], 60)).toBe(
      'histogram_quantile(0.95, sum(irate(response_latency_ms_bucket{direction="inbound"}[60s])) by (le, pod))',
    );
  });

  it('rejects unknown resources with a hint', () => {
    expect(() => parseResource('cronjob/x')).toThrow(/unknown resource "cronjob\/x"/);
  });
});
