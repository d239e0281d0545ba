// The dashboard server over real HTTP: two fake proxy admin servers whose counters grow on every
// scrape (web: 90 % success, calls emoji over mTLS; emoji: all good), a scrape source with a short
// interval, and the JSON API, static files and Host check asked through real requests.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrometheusSource, createScrapeSource } from './dashboard-source.js';
import { startDashboardServer, type DashboardServer } from './dashboard-server.js';

const ID = (sa: string) => `${sa}.demo.serviceaccount.identity.linkerd.cluster.local`;

function webMetrics(n: number): string {
  return [
    `response_total{direction="inbound",tls="true",client_id="${ID('vote-bot')}",route_name="vote",classification="success",status_code="200"} ${9 * n}`,
    `response_total{direction="inbound",tls="true",client_id="${ID('vote-bot')}",route_name="vote",classification="failure",status_code="500"} ${n}`,
    `response_latency_ms_bucket{direction="inbound",route_name="vote",le="10"} ${5 * n}`,
    `response_latency_ms_bucket{direction="inbound",route_name="vote",le="100"} ${10 * n}`,
    `response_latency_ms_bucket{direction="inbound",route_name="vote",le="+Inf"} ${10 * n}`,
    `response_total{direction="outbound",dst_deployment="emoji",dst_namespace="demo",tls="true",server_id="${ID('emoji')}",classification="success"} ${4 * n}`,
    `inbound_http_authz_allow_total{srv_kind="Server",srv_name="web-http",route_name="default",authz_kind="AuthorizationPolicy",authz_name="web-public"} ${8 * n}`,
    `inbound_http_authz_deny_total{srv_kind="Server",srv_name="web-http",route_name="default"} ${2 * n}`,
    'process_start_time_seconds 1700000000',
  ].join('\n');
}

function emojiMetrics(n: number): string {
  return [
    `response_total{direction="inbound",tls="true",client_id="${ID('web')}",classification="success"} ${4 * n}`,
    `response_latency_ms_bucket{direction="inbound",le="1"} ${4 * n}`,
    `response_latency_ms_bucket{direction="inbound",le="+Inf"} ${4 * n}`,
    'process_start_time_seconds 1700000000',
  ].join('\n');
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

function adminServer(metrics: (n: number) => string): Server {
  let n = 0;
  return createServer((_req, res) => {
    n += 10;
    res.end(metrics(n));
  });
}

/** GET with an explicit Host header (fetch does not let a caller choose it). */
function get(url: string, host?: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: host ? { host } : {} }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (t: string) => (body += t));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }),
      );
    });
    req.on('error', reject).end();
  });
}

const getJson = async (url: string) => {
  const res = await get(url);
  return { status: res.status, body: JSON.parse(res.body) as Record<string, unknown> };
};

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('dashboard server (local mode over scraped proxies)', () => {
  const admins = [adminServer(webMetrics), adminServer(emojiMetrics)];
  const webDir = mkdtempSync(join(tmpdir(), 'tsmesh-dashboard-web-'));
  let dashboard: DashboardServer;
  let base = '';

  beforeAll(async () => {
    mkdirSync(join(webDir, 'assets'));
    writeFileSync(join(webDir, 'index.html'), '<!doctype html><div id="root"></div>');
    writeFileSync(join(webDir, 'assets', 'app-1234.js'), 'console.log(1)');
    writeFileSync(join(tmpdir(), 'tsmesh-dashboard-secret.txt'), 'secret');
    const [webPort, emojiPort] = await Promise.all(admins.map(listen));
    const targets = [
      {
        url: `http://127.0.0.1:${webPort}/metrics`,
        labels: { namespace: 'demo', deployment: 'web', pod: 'web-0' },
      },
      {
        url: `http://127.0.0.1:${emojiPort}/metrics`,
        labels: { namespace: 'demo', deployment: 'emoji', pod: 'emoji-0' },
      },
      // A target that never answers: reported as a problem, the others still count.
      { url: 'http://127.0.0.1:1/metrics', labels: { namespace: 'demo', deployment: 'gone', pod: 'gone-0' } },
    ];
    dashboard = await startDashboardServer({
      source: createScrapeSource({ targets: async () => targets, windowMs: 5_000 }),
      intervalMs: 100,
      webDir,
    });
    base = dashboard.url.replace(/\/$/, '');
    await until('a first window', async () => {
      const { body } = await getJson(`${base}/api/stat?resource=deployment`);
      return body.warming ? undefined : true;
    });
  });

  afterAll(async () => {
    await dashboard?.close();
    await Promise.all(admins.map((a) => new Promise((r) => a.close(r))));
    rmSync(webDir, { recursive: true, force: true });
    rmSync(join(tmpdir(), 'tsmesh-dashboard-secret.txt'), { force: true });
  });

  it('binds 127.0.0.1 by default', () => {
    expect(dashboard.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
  });

  it('answers stat per deployment and namespace with golden metrics', async () => {
    const { status, body } = await getJson(`${base}/api/stat?resource=deployment&namespace=demo`);
    expect(status).toBe(200);
    const rows = body.rows as {
      name: string;
      successRate: number;
      rps: number;
      latencyMsP50: number;
      meshedPods: number;
      tlsShare: number;
    }[];
    expect(rows.map((r) => r.name)).toEqual(['emoji', 'web']);
    const web = rows.find((r) => r.name === 'web')!;
    expect(web.successRate).toBeCloseTo(0.9, 10);
    expect(web.rps).toBeGreaterThan(0);
    expect(web.tlsShare).toBe(1);
    expect(web.meshedPods).toBe(1);
    // half the observations at or below 10 ms: p50 is the 10 ms bound
    expect(web.latencyMsP50).toBeCloseTo(10, 6);
    const ns = await getJson(`${base}/api/stat?resource=namespace`);
    expect(
      (ns.body.rows as { name: string; meshedPods: number }[]).map((r) => [r.name, r.meshedPods]),
    ).toEqual([['demo', 2]]);
  });

  it('answers per-route metrics of one workload and its outbound calls', async () => {
    const routes = await getJson(`${base}/api/stat?resource=route&namespace=demo&within=deployment/web`);
    expect(
      (routes.body.rows as { name: string; successRate: number }[]).map((r) => [r.name, r.successRate]),
    ).toEqual([['vote', 0.9]]);
    const out = await getJson(`${base}/api/stat?resource=deployment&namespace=demo&from=deployment/web`);
    expect(
      (out.body.rows as { name: string; successRate: number }[]).map((r) => [r.name, r.successRate]),
    ).toEqual([['emoji', 1]]);
  });

  it('answers edges with identities and TLS', async () => {
    const { body } = await getJson(`${base}/api/edges?namespace=demo`);
    expect(body.rows).toEqual([
      {
        src: { namespace: 'demo', name: 'web' },
        dst: { namespace: 'demo', name: 'emoji' },
        clientId: ID('web'),
        serverId: ID('emoji'),
        secured: true,
        noTlsReason: '',
        requests: expect.any(Number),
      },
    ]);
  });

  it('answers authorization decisions', async () => {
    const { body } = await getJson(`${base}/api/authz?namespace=demo&deployment=web`);
    const rows = body.rows as {
      server: string;
      authorization: string;
      allowedPerSec: number;
      deniedPerSec: number;
    }[];
    expect(rows.map((r) => [r.server, r.authorization, r.allowedPerSec > 0, r.deniedPerSec > 0])).toEqual([
      ['server:web-http', '', false, true],
      ['server:web-http', 'authorizationpolicy:web-public', true, false],
    ]);
    // 8 allowed for every 2 denied
    expect(rows[1]!.allowedPerSec / rows[0]!.deniedPerSec).toBeCloseTo(4, 6);
  });

  it('records time series for the charts', async () => {
    const points = await until('two chart points', async () => {
      const { body } = await getJson(`${base}/api/series?namespace=demo&deployment=web`);
      const p = body.points as { atMs: number; successRate: number; rps: number }[];
      return p.length >= 2 ? p : undefined;
    });
    expect(points[0]!.atMs).toBeLessThan(points.at(-1)!.atMs);
    expect(points.every((p) => p.successRate === 0.9 && p.rps > 0)).toBe(true);
    expect((await getJson(`${base}/api/series?namespace=demo&deployment=nobody`)).body.points).toEqual([]);
  });

  it('reports the scrape source and targets that failed', async () => {
    const { body } = await getJson(`${base}/api/meta`);
    expect(body).toMatchObject({ mode: 'scrape', windowSeconds: 5, tap: false });
    expect((body.problems as { url: string }[]).map((p) => p.url)).toEqual(['http://127.0.0.1:1/metrics']);
  });

  it('refuses bad queries with a hint and keeps serving', async () => {
    const bad = await getJson(`${base}/api/stat?resource=nonsense`);
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/unknown resource "nonsense"/);
    expect(bad.body.hint).toMatch(/TYPE or TYPE\/NAME/);
    expect((await getJson(`${base}/api/stat?namespace=${encodeURIComponent('a"}')}`)).status).toBe(400);
    expect((await getJson(`${base}/api/stat?to=deploy/a&from=deploy/b`)).status).toBe(400);
    expect((await getJson(`${base}/api/nothing`)).status).toBe(404);
    expect((await getJson(`${base}/api/tap?resource=deploy/web`)).status).toBe(501);
    expect((await getJson(`${base}/api/meta`)).status).toBe(200);
  });

  it('serves the app: files, the page for app routes, nothing outside its directory', async () => {
    const page = await get(`${base}/namespaces/demo/deployments/web`);
    expect([page.status, page.type, page.body]).toEqual([
      200,
      'text/html; charset=utf-8',
      '<!doctype html><div id="root"></div>',
    ]);
    const asset = await get(`${base}/assets/app-1234.js`);
    expect([asset.status, asset.type]).toEqual([200, 'text/javascript; charset=utf-8']);
    expect((await get(`${base}/assets/missing.js`)).status).toBe(404);
    for (const path of [
      '/../tsmesh-dashboard-secret.txt',
      '/%2e%2e/tsmesh-dashboard-secret.txt',
      '/..%2ftsmesh-dashboard-secret.txt',
    ])
      expect((await get(`${base}${path}`)).body).not.toBe('secret');
  });

  it('refuses other Host names (DNS rebinding) and other methods', async () => {
    const { port } = new URL(base);
    expect((await get(`${base}/api/meta`, `evil.example:${port}`)).status).toBe(403);
    expect((await get(`${base}/api/meta`, `localhost:${port}`)).status).toBe(200);
    const post = await fetch(`${base}/api/meta`, { method: 'POST' });
    expect(post.status).toBe(405);
    await post.body?.cancel();
  });
});

describe('dashboard server over Prometheus', () => {
  it('says which Prometheus did not answer, as a 502, and keeps serving', async () => {
    // A port with nothing listening (bound, then closed).
    const closed = createServer();
    const port = await listen(closed);
    await new Promise((r) => closed.close(r));
    const dashboard = await startDashboardServer({
      source: createPrometheusSource({ url: `http://127.0.0.1:${port}`, windowSeconds: 30, timeoutMs: 2000 }),
      intervalMs: 60_000,
    });
    try {
      const res = await fetch(`${dashboard.url}api/stat?resource=deployment`);
      expect(res.status).toBe(502);
      expect(((await res.json()) as { error: string }).error).toMatch(
        /Prometheus at http:\/\/127\.0\.0\.1:\d+ did not answer/,
      );
      expect(await (await fetch(`${dashboard.url}api/meta`)).json()).toMatchObject({
        mode: 'prometheus',
        windowSeconds: 30,
      });
    } finally {
      await dashboard.close();
    }
  });

  it('rejects a bad Prometheus URL up front', () => {
    expect(() => createPrometheusSource({ url: 'not a url' })).toThrow(/bad Prometheus URL/);
  });

  it('ends on its AbortSignal', async () => {
    const controller = new AbortController();
    const dashboard = await startDashboardServer({
      source: createScrapeSource({ targets: async () => [] }),
      signal: controller.signal,
    });
    controller.abort();
    await dashboard.close();
    await expect(fetch(`${dashboard.url}api/meta`)).rejects.toThrow();
  });
});
