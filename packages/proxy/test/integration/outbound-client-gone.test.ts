// A client that hangs up mid-request is not an endpoint failure: failure accrual must not eject
// the endpoint for it (a load generator stopping with requests in flight ejected the only endpoint
// and later requests queued for the breaker's backoff), and it is not a proxy error either.
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { meshTestbed, requestVia } from './support/mesh-outbound.js';
import { httpPolicy } from './support/policies.js';

const WEB = 'web.emojivoto.svc.cluster.local:80';

const t = meshTestbed();

describe('clients that go away', () => {
  it('do not count as endpoint failures for the breaker', async () => {
    const web = await t.server('127.0.1.61', (req, res) => {
      if (req.url === '/slow') {
        const t = setTimeout(() => res.end('late'), 60_000);
        res.once('close', () => clearTimeout(t));
        return;
      }
      res.end('ok');
    });
    t.cp.setEndpoints(WEB, [web]);
    // Two consecutive failures would eject the endpoint for at least 30 s.
    t.cp.setPolicy(
      WEB,
      httpPolicy(WEB, [{ backends: [{ path: WEB }] }], {
        maxFailures: 2,
        minPenaltyMs: 30_000,
        maxPenaltyMs: 60_000,
      }),
    );
    const proxy = await t.start();
    expect((await requestVia(proxy.port, WEB)).status).toBe(200);

    // Five requests whose clients hang up while the endpoint is still working on them.
    for (let i = 0; i < 5; i++) {
      const before = web.hits;
      const abort = new AbortController();
      const pending = request(`http://127.0.0.1:${proxy.port}/slow`, {
        headers: { host: WEB },
        signal: abort.signal,
      }).then(
        () => 'answered',
        () => 'aborted',
      );
      // Hang up once the endpoint has the request.
      const deadline = Date.now() + 10_000;
      while (web.hits === before) {
        if (Date.now() > deadline) throw new Error('the endpoint never received the request');
        await new Promise((r) => setTimeout(r, 10));
      }
      abort.abort();
      expect(await pending).toBe('aborted');
    }

    // Still in the balancer: answered at once, not after the 30 s penalty (nor failed fast).
    const started = Date.now();
    const res = await requestVia(proxy.port, WEB);
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(10_000);
    const stats = [...(proxy.mesh.target(WEB)?.balancers().values() ?? [])].map((b) => b.stats());
    expect(stats).toEqual([{ ready: 1, ejected: 0, total: 1 }]);
    expect(await proxy.metric('outbound_http_balancer_endpoint_ejections_total')).toBe(0);
  });
});
