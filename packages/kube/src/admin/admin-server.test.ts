import { request } from 'node:http';
import { Counter, Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { startAdminServer, type AdminServer } from './admin-server.js';

let admin: AdminServer | undefined;
afterEach(async () => {
  await admin?.close();
  admin = undefined;
});

function get(
  port: number,
  path: string,
  method = 'GET',
): Promise<{ status: number; body: string; type: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body, type: res.headers['content-type'] }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('startAdminServer', () => {
  it('serves /metrics from the given registry, /live, and /ready (503 until ready)', async () => {
    const registry = new Registry();
    new Counter({ name: 'test_things_total', help: 'Things.', registers: [registry] }).inc(3);
    admin = await startAdminServer({ registry, port: 0 });
    expect(admin.host).toBe('127.0.0.1');
    const metrics = await get(admin.port, '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain('test_things_total 3');
    expect(metrics.type).toBe(registry.contentType);
    expect(await get(admin.port, '/live')).toMatchObject({ status: 200, body: 'live\n' });
    expect(await get(admin.port, '/ready')).toMatchObject({
      status: 503,
      body: 'not ready: not marked ready\n',
    });
    admin.setReady(true);
    expect(await get(admin.port, '/ready')).toMatchObject({ status: 200, body: 'ready\n' });
    expect((await get(admin.port, '/ready', 'HEAD')).status).toBe(200);
    expect((await get(admin.port, '/ready', 'POST')).status).toBe(405);
    expect((await get(admin.port, '/nope')).status).toBe(404);
  });

  it('readiness checks must all pass; failing ones are named; a throwing check fails', async () => {
    let synced = false;
    admin = await startAdminServer({
      registry: new Registry(),
      port: 0,
      isReady: () => true,
      readinessChecks: { 'servers-synced': () => synced },
    });
    admin.addReadinessCheck('broken', () => {
      throw new Error('x');
    });
    expect((await get(admin.port, '/ready')).body).toBe('not ready: servers-synced, broken\n');
    synced = true;
    admin.addReadinessCheck('broken', () => true);
    expect((await get(admin.port, '/ready')).status).toBe(200);
    expect(admin.readiness()).toEqual({ ready: true, failing: [] });
  });

  it('/live follows isLive; a busy port is a clear Config error', async () => {
    let live = true;
    admin = await startAdminServer({ registry: new Registry(), port: 0, isLive: () => live });
    live = false;
    expect((await get(admin.port, '/live')).status).toBe(503);
    await expect(startAdminServer({ registry: new Registry(), port: admin.port })).rejects.toMatchObject({
      code: 'config',
      where: `127.0.0.1:${admin.port}`,
    });
  });
});
