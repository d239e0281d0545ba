// The outbound mesh stack against a scriptable control plane and real HTTP servers on 127.0.1.N:
// discovery-driven balancing, traffic split, P2C-EWMA, retries within a budget, timeouts, circuit
// breaking, and surviving a control-plane outage.
import type { ServerResponse } from 'node:http';
import { request } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestControlPlane, type TestControlPlane } from './support/control-plane.js';
import {
  requestVia,
  startMeshOutbound,
  startTestServer,
  type MeshOutbound,
  type TestServer,
} from './support/mesh-outbound.js';
import { duration, httpPolicy, retryProfile, splitProfile } from './support/policies.js';

const WEB = 'web.emojivoto.svc.cluster.local:80';

let cp: TestControlPlane;
let proxy: MeshOutbound | undefined;
let servers: TestServer[] = [];

beforeEach(async () => {
  cp = await startTestControlPlane();
});
afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
  await cp.stop();
});

const server = async (host: string, handler: Parameters<typeof startTestServer>[1]) => {
  const s = await startTestServer(host, handler);
  servers.push(s);
  return s;
};
const ok = (name: string) => (_req: unknown, res: ServerResponse) => res.end(name);

/** Runs `n` requests with `concurrency` in flight; returns their statuses. */
async function load(n: number, concurrency: number, one: (i: number) => Promise<number>): Promise<number[]> {
  const out: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const i = next++;
        out[i] = await one(i);
      }
    }),
  );
  return out;
}

describe('outbound mesh', () => {
  it('balances over the endpoints Destination.Get returns and follows updates', async () => {
    const a = await server('127.0.1.1', ok('a'));
    const b = await server('127.0.1.2', ok('b'));
    cp.setEndpoints(WEB, [a, b]);
    proxy = await startMeshOutbound(cp);
    const p = proxy;
    const statuses = await load(40, 4, async () => (await requestVia(p.port, WEB)).status);
    if (!statuses.every((s) => s === 200)) console.log(statuses, await requestVia(p.port, WEB));
    expect(statuses.every((s) => s === 200)).toBe(true);
    expect(a.hits).toBeGreaterThan(0);
    expect(b.hits).toBeGreaterThan(0);

    cp.setEndpoints(WEB, [b]);
    await new Promise((r) => setTimeout(r, 100));
    const before = a.hits;
    await load(20, 2, async () => (await requestVia(p.port, WEB)).status);
    expect(a.hits).toBe(before);
    expect(await p.metric('outbound_http_balancer_endpoints', { endpoint_state: 'ready' })).toBe(1);
    expect(await p.metric('outbound_http_route_request_statuses_total', { http_status: '200' })).toBe(60);
  });

  it('answers 503 with l5d-proxy-error when the service has no endpoints (fail-fast)', async () => {
    cp.setEndpoints(WEB, []);
    cp.setPolicy(WEB, httpPolicy(WEB, [{ backends: [{ path: WEB, failfastMs: 300 }] }]));
    proxy = await startMeshOutbound(cp);
    const started = Date.now();
    const res = await requestVia(proxy.port, WEB);
    expect(res.status).toBe(503);
    expect(res.headers['l5d-proxy-error']).toMatch(/^NO_ENDPOINTS: /);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(
      await proxy.metric('outbound_http_route_request_statuses_total', {
        error: 'FAIL_FAST',
        parent_name: 'web',
      }),
    ).toBe(1);
  });

  it('splits traffic 90/10 between two services (ServiceProfile dst_overrides)', async () => {
    const stable = await server('127.0.1.3', ok('stable'));
    const canary = await server('127.0.1.4', ok('canary'));
    const STABLE = 'web-stable.emojivoto.svc.cluster.local:80';
    const CANARY = 'web-canary.emojivoto.svc.cluster.local:80';
    cp.setEndpoints(STABLE, [stable]);
    cp.setEndpoints(CANARY, [canary]);
    cp.setProfile(
      WEB,
      splitProfile(WEB, [
        { authority: STABLE, weight: 900 },
        { authority: CANARY, weight: 100 },
      ]),
    );
    proxy = await startMeshOutbound(cp);
    const p = proxy;
    const n = 600;
    await load(n, 8, async () => (await requestVia(p.port, WEB)).status);
    const share = canary.hits / n;
    // Binomial(600, 0.1): sd ≈ 0.0122; ±4 sd.
    expect(share).toBeGreaterThan(0.051);
    expect(share).toBeLessThan(0.149);
    expect(stable.hits + canary.hits).toBe(n);
  });

  it('P2C over peak-EWMA sends most traffic away from a slow endpoint', async () => {
    const fast1 = await server('127.0.1.5', ok('fast'));
    const fast2 = await server('127.0.1.6', ok('fast'));
    const slow = await server('127.0.1.7', (_req, res) => setTimeout(() => res.end('slow'), 80));
    cp.setEndpoints(WEB, [fast1, fast2, slow]);
    proxy = await startMeshOutbound(cp);
    const p = proxy;
    const n = 400;
    const statuses = await load(n, 8, async () => (await requestVia(p.port, WEB)).status);
    expect(statuses.every((s) => s === 200)).toBe(true);
    // Round robin would give the slow endpoint a third; P2C-EWMA far less.
    expect(slow.hits / n).toBeLessThan(0.12);
  });

  it('retries hide a flaky backend within the retry budget, and stop beyond it', async () => {
    let calls = 0;
    const flaky = await server('127.0.1.8', (_req, res) => {
      calls++;
      res.statusCode = calls % 4 === 0 ? 500 : 200;
      res.end();
    });
    cp.setEndpoints(WEB, [flaky]);
    cp.setProfile(WEB, retryProfile(WEB, { ratio: 0.2, minPerSecond: 10, ttlMs: 10_000 }));
    proxy = await startMeshOutbound(cp);
    const p = proxy;
    const statuses = await load(
      100,
      4,
      async (i) =>
        (await requestVia(p.port, WEB, `/flaky/${i}`, { method: 'POST', body: 'x'.repeat(100) })).status,
    );
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect(await p.metric('outbound_http_route_retry_requests_total')).toBeGreaterThan(10);

    // A backend that always fails: retries are capped by the budget (ratio 0.1, no floor).
    const broken = await server('127.0.1.9', (_req, res) => {
      res.statusCode = 503;
      res.end();
    });
    const BROKEN = 'broken.emojivoto.svc.cluster.local:80';
    cp.setEndpoints(BROKEN, [broken]);
    cp.setProfile(BROKEN, retryProfile(BROKEN, { ratio: 0.1, minPerSecond: 0, ttlMs: 10_000 }));
    const n = 100;
    const failed = await load(n, 4, async () => (await requestVia(p.port, BROKEN)).status);
    expect(failed.every((s) => s === 503)).toBe(true);
    expect(broken.hits).toBeLessThanOrEqual(n + n * 0.1 + 1);
    expect(broken.hits).toBeGreaterThan(n);
    expect(
      await p.metric('outbound_http_route_retry_overflow_total', { parent_name: 'broken' }),
    ).toBeGreaterThan(0);
  });

  it('answers 504 with REQUEST_TIMEOUT when the route request timeout passes', async () => {
    const slow = await server('127.0.1.10', (_req, res) => setTimeout(() => res.end('late'), 3000));
    cp.setEndpoints(WEB, [slow]);
    cp.setPolicy(WEB, httpPolicy(WEB, [{ backends: [{ path: WEB }], timeouts: { requestMs: 300 } }]));
    proxy = await startMeshOutbound(cp);
    const started = Date.now();
    const res = await requestVia(proxy.port, WEB);
    const elapsed = Date.now() - started;
    expect(res.status).toBe(504);
    expect(res.headers['l5d-proxy-error']).toMatch(/^REQUEST_TIMEOUT: /);
    expect(elapsed).toBeGreaterThanOrEqual(280);
    expect(elapsed).toBeLessThan(1500);
    expect(
      await proxy.metric('outbound_http_route_request_statuses_total', {
        error: 'REQUEST_TIMEOUT',
        route_name: 'test-route',
      }),
    ).toBe(1);
  });

  it('ends a stream idle past the route idle timeout (504 IDLE_TIMEOUT before headers)', async () => {
    const stalled = await server('127.0.1.16', (_req, res) => setTimeout(() => res.end('late'), 3000));
    cp.setEndpoints(WEB, [stalled]);
    const policy = httpPolicy(WEB, [{ backends: [{ path: WEB }] }]);
    const rule = (
      policy.protocol as { detect: { http1: { routes: { rules: Record<string, unknown>[] }[] } } }
    ).detect.http1.routes[0]?.rules[0];
    if (rule) rule.timeouts = { idle: duration(300) };
    cp.setPolicy(WEB, policy);
    proxy = await startMeshOutbound(cp);
    const started = Date.now();
    const res = await requestVia(proxy.port, WEB);
    expect(res.status).toBe(504);
    expect(res.headers['l5d-proxy-error']).toMatch(/^IDLE_TIMEOUT: /);
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('ejects an endpoint after consecutive failures and restores it after a successful probe', async () => {
    let healthy = false;
    // The good endpoint is slower than the default RTT, so P2C-EWMA tries the failing one first.
    const good = await server('127.0.1.11', (_req, res) => setTimeout(() => res.end('good'), 40));
    const bad = await server('127.0.1.12', (_req, res) => {
      res.statusCode = healthy ? 200 : 500;
      res.end();
    });
    cp.setEndpoints(WEB, [good, bad]);
    cp.setPolicy(
      WEB,
      httpPolicy(WEB, [{ backends: [{ path: WEB }] }], {
        maxFailures: 3,
        minPenaltyMs: 300,
        maxPenaltyMs: 300,
      }),
    );
    proxy = await startMeshOutbound(cp);
    const p = proxy;
    await load(60, 1, async () => (await requestVia(p.port, WEB)).status);
    expect(await p.metric('outbound_http_balancer_endpoint_ejections_total')).toBeGreaterThanOrEqual(1);
    // While ejected, the bad endpoint sees at most the probes after each penalty.
    const badBefore = bad.hits;
    const during = await load(30, 1, async () => (await requestVia(p.port, WEB)).status);
    expect(during.filter((st) => st === 200).length).toBeGreaterThanOrEqual(24);
    expect(bad.hits - badBefore).toBeLessThanOrEqual(6);

    healthy = true;
    await new Promise((r) => setTimeout(r, 400));
    const restored = bad.hits;
    await load(60, 2, async () => (await requestVia(p.port, WEB)).status);
    expect(bad.hits - restored).toBeGreaterThan(5);
    expect(await p.metric('outbound_http_balancer_endpoints_ejected')).toBe(0);
  });

  it('keeps serving when the control plane dies mid-load, and resubscribes when it is back', async () => {
    const a = await server('127.0.1.13', ok('a'));
    const b = await server('127.0.1.14', ok('b'));
    cp.setEndpoints(WEB, [a]);
    cp.setPolicy(WEB, httpPolicy(WEB, [{ backends: [{ path: WEB }] }]));
    proxy = await startMeshOutbound(cp);
    const p = proxy;
    expect((await requestVia(p.port, WEB)).status).toBe(200);
    const getsBefore = cp.subscriptions('get', WEB);
    const policiesBefore = cp.subscriptions('policy', WEB);

    let stop = false;
    const statuses: number[] = [];
    // Bounded by time as well as count: on a quiet machine 2,000 requests can be over before the
    // control plane is back, and then nothing would reach the endpoint it announces.
    const loop = (async () => {
      const deadline = Date.now() + 15_000;
      for (let i = 0; i < 50_000 && !stop && Date.now() < deadline; i++) {
        statuses.push((await requestVia(p.port, WEB)).status);
      }
    })();
    await new Promise((r) => setTimeout(r, 100));
    await cp.stop();
    await new Promise((r) => setTimeout(r, 600));
    await cp.restart();
    // The proxy reconnects within its backoff and gets the current state again.
    await expect.poll(() => cp.subscriptions('get', WEB), { timeout: 5000 }).toBeGreaterThan(getsBefore);
    await expect
      .poll(() => cp.subscriptions('policy', WEB), { timeout: 5000 })
      .toBeGreaterThan(policiesBefore);
    cp.setEndpoints(WEB, [b]);
    await expect.poll(() => b.hits, { timeout: 5000 }).toBeGreaterThan(0);
    stop = true;
    await loop;
    expect(statuses.length).toBeGreaterThan(20);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
  });

  it('drops discovery for targets left unused past the idle timeout, and resubscribes on use', async () => {
    const a = await server('127.0.1.15', ok('a'));
    cp.setEndpoints(WEB, [a]);
    proxy = await startMeshOutbound(cp, { idleTimeoutMs: 300 });
    const p = proxy;
    expect((await requestVia(p.port, WEB)).status).toBe(200);
    expect(p.mesh.size).toBe(1);
    await expect.poll(() => cp.openStreams, { timeout: 3000 }).toBeGreaterThan(0);
    await expect.poll(() => p.mesh.size, { timeout: 3000 }).toBe(0);
    await expect.poll(() => p.discovery.size, { timeout: 3000 }).toBe(0);
    await expect.poll(() => cp.openStreams, { timeout: 3000 }).toBe(0);
    expect((await requestVia(p.port, WEB)).status).toBe(200);
    expect(cp.subscriptions('get', WEB)).toBe(2);
  });

  it('drops an idle target whose requests failed or were abandoned by their clients', async () => {
    // Each way a request can end tells its target once: a target whose last requests did not
    // succeed is still idle afterwards, and its discovery is dropped.
    const silent = await server('127.0.1.16', () => undefined);
    cp.setEndpoints(WEB, [silent]);
    proxy = await startMeshOutbound(cp, {
      idleTimeoutMs: 300,
      withPolicy: false,
      queue: { capacity: 10, failfastMs: 200 },
    });
    const p = proxy;
    const abandoned = await Promise.all(
      [1, 2, 3].map(() =>
        request(`http://127.0.0.1:${p.port}/`, {
          headers: { host: WEB },
          signal: AbortSignal.timeout(150),
        }).then(
          () => 'answered',
          () => 'abandoned',
        ),
      ),
    );
    expect(abandoned).toEqual(['abandoned', 'abandoned', 'abandoned']);
    cp.setEndpoints(WEB, []);
    const failed = await requestVia(p.port, WEB);
    expect(failed.status).toBe(503);
    expect(p.mesh.size).toBe(1);
    await expect.poll(() => p.mesh.size, { timeout: 3000 }).toBe(0);
  });

  it('relays a response with a header named __proto__ and keeps serving', async () => {
    // Bad input from an endpoint: the response's header object read Object.prototype as an earlier
    // value of the field and threw, out of a socket's data event.
    const odd = await server('127.0.1.17', (_req, res) => {
      res.setHeader('__proto__', 'odd');
      res.setHeader('x-after', 'yes');
      res.end('odd');
    });
    cp.setEndpoints(WEB, [odd]);
    proxy = await startMeshOutbound(cp);
    const first = await requestVia(proxy.port, WEB);
    expect(first.status).toBe(200);
    expect(first.body).toBe('odd');
    expect(first.headers['x-after']).toBe('yes');
    expect((await requestVia(proxy.port, WEB)).status).toBe(200);
  });

  it('without a policy, fails fast after the configured HTTP fail-fast timeout; sheds a full queue', async () => {
    cp.setEndpoints(WEB, []);
    proxy = await startMeshOutbound(cp, { withPolicy: false, queue: { capacity: 1, failfastMs: 400 } });
    const p = proxy;
    const started = Date.now();
    const [first, second] = await Promise.all([requestVia(p.port, WEB), requestVia(p.port, WEB)]);
    const statuses = [first.headers['l5d-proxy-error'], second.headers['l5d-proxy-error']].map(
      (h) => h?.split(':')[0],
    );
    // One waits the fail-fast timeout in the queue of one; the other finds it full.
    expect(statuses.sort()).toEqual(['LOAD_SHED', 'NO_ENDPOINTS']);
    expect(first.status).toBe(503);
    expect(second.status).toBe(503);
    expect(Date.now() - started).toBeGreaterThanOrEqual(350);
  });
});
