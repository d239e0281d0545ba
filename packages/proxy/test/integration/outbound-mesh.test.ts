// The outbound mesh stack against a scriptable control plane and real HTTP servers on 127.0.1.N:
// discovery-driven balancing, traffic split, P2C-EWMA, retries within a budget, timeouts, circuit
// breaking, and surviving a control-plane outage.
import type { ServerResponse } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestControlPlane, type TestControlPlane } from './support/control-plane.js';
import {
  requestVia,
  startMeshOutbound,
  startTestServer,
  type MeshOutbound,
  type TestServer,
} from './support/mesh-outbound.js';

const WEB = 'web.emojivoto.svc.cluster.local:80';
const dur = (ms: number) => ({ seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 });

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
    cp.setPolicy(WEB, {
      metadata: {
        resource: { group: 'core', kind: 'Service', namespace: 'emojivoto', name: 'web', port: 80 },
      },
      protocol: {
        detect: {
          timeout: dur(10_000),
          http1: {
            routes: [
              {
                metadata: { default: 'http' },
                rules: [
                  {
                    backends: {
                      randomAvailable: {
                        backends: [
                          {
                            weight: 1,
                            backend: {
                              backend: {
                                metadata: {
                                  resource: {
                                    group: 'core',
                                    kind: 'Service',
                                    namespace: 'emojivoto',
                                    name: 'web',
                                    port: 80,
                                  },
                                },
                                balancer: {
                                  discovery: { dst: { path: WEB } },
                                  peakEwma: { defaultRtt: dur(30), decay: dur(10_000) },
                                },
                                queue: { capacity: 10, failfastTimeout: dur(300) },
                              },
                            },
                          },
                        ],
                      },
                    },
                  },
                ],
              },
            ],
          },
        },
      },
    });
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
});
