// The metrics API server over real HTTP against a small real HTTP server speaking Prometheus'
// instant-query API (/api/v1/query): the admin port's /live and /ready, stat/routes/edges/authz
// answers computed from the vectors it returns, a bad query a 400 with a hint (the server goes on
// serving), a Prometheus that fails a 502, and close on the abort signal.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrometheusSource } from '../dashboard/dashboard-source.js';
import { startMetricsApiServer, type MetricsApiServer } from './metrics-api-server.js';

let prometheus: Server;
let failing = false;
const queries: string[] = [];
let server: MetricsApiServer;
const stop = new AbortController();

beforeAll(async () => {
  prometheus = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://prometheus');
    const query = url.searchParams.get('query') ?? '';
    queries.push(query);
    res.setHeader('content-type', 'application/json');
    if (failing) {
      res.statusCode = 503;
      return res.end(JSON.stringify({ status: 'error', errorType: 'unavailable', error: 'tsdb closed' }));
    }
    // 90 % success for deploy/web over the window; everything else empty.
    const result =
      query.includes('increase(response_total') && query.includes('deployment')
        ? [
            {
              metric: { namespace: 'demo', deployment: 'web', classification: 'success', tls: 'true' },
              value: [1, '90'],
            },
            {
              metric: { namespace: 'demo', deployment: 'web', classification: 'failure', tls: 'true' },
              value: [1, '10'],
            },
          ]
        : [];
    res.end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result } }));
  });
  await new Promise<void>((resolve) => prometheus.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(prometheus.address() as AddressInfo).port}`;
  server = await startMetricsApiServer({
    source: createPrometheusSource({ url, windowSeconds: 60, timeoutMs: 5_000 }),
    signal: stop.signal,
  });
});

afterAll(async () => {
  stop.abort();
  await server?.close();
  await new Promise<void>((resolve) => prometheus.close(() => resolve()));
});

const getJson = async (url: string) => {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

describe('metrics API server', () => {
  it('answers /live and /ready on the admin port only', async () => {
    for (const path of ['live', 'ready']) {
      const res = await fetch(new URL(path, server.adminUrl));
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('ok\n');
    }
    expect((await fetch(new URL('ready', server.url))).status).toBe(404);
    expect(server.adminUrl).not.toBe(server.url);
  });

  it('answers stat from Prometheus with the success rate', async () => {
    const { status, body } = await getJson(new URL('api/stat?resource=deployment', server.url).href);
    expect(status).toBe(200);
    const rows = body.rows as { namespace: string; name: string; successRate?: number }[];
    expect(rows).toContainEqual(expect.objectContaining({ namespace: 'demo', name: 'web' }));
    expect(rows.find((r) => r.name === 'web')?.successRate).toBeCloseTo(0.9, 5);
    expect(queries.some((q) => q.includes('[60s]'))).toBe(true);
  });

  it('answers routes, edges, authz and meta', async () => {
    const routes = await getJson(new URL('api/routes?resource=deploy/web&namespace=demo', server.url).href);
    expect(routes.status).toBe(200);
    expect(Array.isArray(routes.body.rows)).toBe(true);
    expect(queries.some((q) => q.includes('route_name'))).toBe(true);
    for (const path of ['api/edges?namespace=demo', 'api/authz?namespace=demo&deployment=web']) {
      const r = await getJson(new URL(path, server.url).href);
      expect(r.status, path).toBe(200);
      expect(Array.isArray(r.body.rows), path).toBe(true);
    }
    const meta = await getJson(new URL('api/meta', server.url).href);
    expect(meta.body).toMatchObject({ mode: 'prometheus', windowSeconds: 60, tap: false });
  });

  it('refuses a bad query with a 400 and a hint, and keeps serving', async () => {
    const bad = await getJson(new URL('api/stat?resource=bogus', server.url).href);
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/bogus/);
    expect(String(bad.body.hint)).not.toBe('');
    const noResource = await getJson(new URL('api/routes', server.url).href);
    expect(noResource).toMatchObject({ status: 400, body: { hint: expect.stringContaining('resource=') } });
    const badNs = await getJson(new URL('api/edges?namespace=a%20b', server.url).href);
    expect(badNs.status).toBe(400);
    expect((await getJson(new URL('api/nothing', server.url).href)).status).toBe(404);
    expect((await fetch(new URL('api/stat', server.url), { method: 'POST' })).status).toBe(405);
    expect((await getJson(new URL('api/stat?resource=deployment', server.url).href)).status).toBe(200);
  });

  it('answers 502 while Prometheus fails, then recovers', async () => {
    failing = true;
    try {
      const r = await getJson(new URL('api/stat?resource=deployment', server.url).href);
      expect(r.status).toBe(502);
      expect(String(r.body.error)).toMatch(/tsdb closed|503/);
    } finally {
      failing = false;
    }
    expect((await getJson(new URL('api/stat?resource=deployment', server.url).href)).status).toBe(200);
  });

  it('refuses a port in use with where and a hint; closes on its signal', async () => {
    const port = Number(new URL(server.url).port);
    await expect(
      startMetricsApiServer({ source: createPrometheusSource({ url: 'http://127.0.0.1:1' }), port }),
    ).rejects.toMatchObject({
      message: expect.stringContaining(`127.0.0.1:${port}`),
      where: '--addr',
    });
    const ac = new AbortController();
    const other = await startMetricsApiServer({
      source: createPrometheusSource({ url: 'http://127.0.0.1:1' }),
      signal: ac.signal,
    });
    ac.abort();
    await other.close();
    await expect(fetch(new URL('live', other.adminUrl))).rejects.toThrow();
  });
});
