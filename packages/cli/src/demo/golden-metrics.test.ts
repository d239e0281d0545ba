import { describe, expect, it } from 'vitest';
import { GoldenWindow, histogramQuantile } from './golden-metrics.js';
import { formatLines, formatTable } from './metrics-view.js';
import { parsePrometheusText } from './prometheus-text.js';

const scrape = (ok: number, failed: number, tls: number, fast: number, slow: number) => `
# HELP request_total Total count of HTTP requests.
# TYPE request_total counter
request_total{direction="inbound",tls="true",client_id="web.emojivoto.serviceaccount.identity.linkerd.cluster.local"} ${tls}
request_total{direction="inbound",tls="no_identity",no_tls_reason="loopback"} ${ok + failed - tls}
response_total{direction="inbound",tls="true",classification="success",status_code="200"} ${ok}
response_total{direction="inbound",tls="true",classification="failure",status_code="200",grpc_status="2"} ${failed}
response_latency_ms_bucket{direction="inbound",status_code="200",le="1"} 0
response_latency_ms_bucket{direction="inbound",status_code="200",le="10"} ${fast}
response_latency_ms_bucket{direction="inbound",status_code="200",le="100"} ${fast + slow}
response_latency_ms_bucket{direction="inbound",status_code="200",le="+Inf"} ${fast + slow}
response_total{direction="outbound",tls="true",classification="success"} 5
`;

describe('golden metrics', () => {
  it('parses labels with escapes and skips comments', () => {
    const samples = parsePrometheusText('# HELP x y\nx{a="q\\"uote",b="2"} 3\ny 4.5\n');
    expect(samples).toEqual([
      { name: 'x', labels: { a: 'q"uote', b: '2' }, value: 3 },
      { name: 'y', labels: {}, value: 4.5 },
    ]);
  });

  it('interpolates quantiles inside buckets', () => {
    const buckets = new Map([
      [10, 50],
      [100, 100],
      [Infinity, 100],
    ]);
    expect(histogramQuantile(0.5, buckets)).toBe(10);
    expect(histogramQuantile(0.75, buckets)).toBe(55);
    expect(histogramQuantile(0.5, new Map())).toBeUndefined();
  });

  it('computes success rate, rate, latency and TLS share over the window', () => {
    const window = new GoldenWindow(10_000);
    window.add(0, parsePrometheusText(scrape(10, 0, 10, 10, 0)));
    window.add(5000, parsePrometheusText(scrape(28, 2, 25, 28, 2)));
    const g = window.current('inbound')!;
    expect(g.successRate).toBeCloseTo(18 / 20);
    expect(g.rps).toBeCloseTo(20 / 5);
    expect(g.tlsShare).toBeCloseTo(15 / 20);
    expect(g.p50).toBeGreaterThan(1);
    expect(g.p50).toBeLessThanOrEqual(10);
    expect(g.p99).toBeGreaterThan(10);
    const rows = [{ workload: 'voting', direction: 'inbound' as const, golden: g }];
    expect(formatTable(rows)[1]).toMatch(/^voting\s+inbound\s+90\.0%\s+4\.0\s/);
    expect(formatLines(7, rows)[0]).toMatch(/^\[7s\] voting inbound success=90\.0% rps=4\.0 .* mtls=75\.0%$/);
  });
});

describe('golden metrics from the route-level outbound families', () => {
  it('classifies HTTP and gRPC statuses and converts seconds buckets to milliseconds', () => {
    const text = `
outbound_http_route_request_statuses_total{hostname="web",http_status="200",error=""} 9
outbound_http_route_request_statuses_total{hostname="web",http_status="500",error=""} 1
outbound_grpc_route_request_statuses_total{hostname="voting",grpc_status="2",error=""} 2
outbound_grpc_route_request_statuses_total{hostname="voting",grpc_status="0",error=""} 8
outbound_http_route_request_duration_seconds_bucket{le="0.01"} 10
outbound_http_route_request_duration_seconds_bucket{le="+Inf"} 10
`;
    const window = new GoldenWindow();
    window.add(0, parsePrometheusText(text));
    const g = window.cumulative('outbound', 10)!;
    expect(g.successRate).toBeCloseTo(17 / 20);
    expect(g.rps).toBeCloseTo(2);
    expect(g.p99).toBeLessThanOrEqual(10);
    expect(g.tlsShare).toBeUndefined();
  });
});
