// enforcedHost (linkerd-viz web's -enforced-host): the Host header must match the expression,
// whatever the bound address; other hosts get a 403 naming the expression.
import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { createPrometheusSource } from './dashboard-source.js';
import { startDashboardServer } from './dashboard-server.js';

function status(url: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { host } }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (t: string) => (body += t));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject).end();
  });
}

describe('dashboard enforcedHost', () => {
  it('accepts only hosts matching the expression', async () => {
    const server = await startDashboardServer({
      source: createPrometheusSource({ url: 'http://127.0.0.1:1' }),
      enforcedHost: /^(localhost|web\.linkerd-viz\.svc(\.cluster\.local)?)(:\d+)?$/,
      intervalMs: 60_000,
      webDir: '',
    });
    try {
      const meta = new URL('api/meta', server.url).href;
      expect((await status(meta, 'web.linkerd-viz.svc.cluster.local:8084')).status).toBe(200);
      expect((await status(meta, 'localhost')).status).toBe(200);
      const refused = await status(meta, 'evil.example:8084');
      expect(refused.status).toBe(403);
      expect(refused.body).toContain('--enforced-host');
      // The bound address itself is not implicitly allowed once an expression is given.
      expect((await status(meta, new URL(server.url).host)).status).toBe(403);
    } finally {
      await server.close();
    }
  });
});
