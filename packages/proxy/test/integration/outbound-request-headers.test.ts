// Per-request retry and timeout policy from l5d-* request headers through the outbound mesh stack,
// as linkerd2-proxy honours them: only on rules with allow_l5d_request_headers (then the headers
// are taken off the request), overriding or creating the rule's retry policy and timeouts. Real
// HTTP servers on 127.0.1.N and a scriptable control plane.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { outbound } from '@tsmesh/core';
import { describe, expect, it } from 'vitest';
import { meshTestbed, requestVia, type TestServer } from './support/mesh-outbound.js';
import { httpPolicy, type TestRule } from './support/policies.js';

const WEB = 'web.emojivoto.svc.cluster.local:80';

const t = meshTestbed();

/** A policy whose one rule allows (or not) the l5d-* request headers. */
function policyWith(rule: TestRule, allow: boolean): outbound.OutboundPolicy.$Properties {
  const policy = httpPolicy(WEB, [rule]);
  const r = (policy.protocol as { detect: { http1: { routes: { rules: Record<string, unknown>[] }[] } } })
    .detect.http1.routes[0]?.rules[0];
  if (r) r.allowL5dRequestHeaders = allow;
  return policy;
}

/**
 * Fails the first attempt of each request id (x-id) with 503, answers 200 after; `/slow` answers
 * after 60 s (300 ms with `x-late: short`). Records the l5d-* headers it was sent.
 */
async function flaky(host: string): Promise<TestServer & { seen: string[] }> {
  const attempts = new Map<string, number>();
  const seen: string[] = [];
  const s = await t.server(host, (req: IncomingMessage, res: ServerResponse) => {
    for (const k of Object.keys(req.headers)) if (k.startsWith('l5d-')) seen.push(k);
    if (req.url === '/slow') {
      const t = setTimeout(() => res.end('late'), req.headers['x-late'] === 'short' ? 300 : 60_000);
      res.once('close', () => clearTimeout(t));
      return;
    }
    const id = String(req.headers['x-id']);
    const n = (attempts.get(id) ?? 0) + 1;
    attempts.set(id, n);
    res.statusCode = n === 1 ? 503 : 200;
    res.end(String(n));
  });
  return Object.assign(s, { seen });
}

describe('l5d-* request headers (allow_l5d_request_headers)', () => {
  it('retry headers make a retry policy on a route without one; the headers do not reach the app', async () => {
    const web = await flaky('127.0.1.51');
    t.cp.setEndpoints(WEB, [web]);
    t.cp.setPolicy(WEB, policyWith({ backends: [{ path: WEB }] }, true));
    const proxy = await t.start();

    // No header: no retry policy, the first attempt's 503 is the answer.
    expect((await requestVia(proxy.port, WEB, '/', { headers: { 'x-id': 'a' } })).status).toBe(503);
    const res = await requestVia(proxy.port, WEB, '/', {
      headers: { 'x-id': 'b', 'l5d-retry-http': '5xx', 'l5d-retry-limit': '2' },
    });
    expect(res.status).toBe(200);
    expect(res.body).toBe('2');
    expect(web.seen).toEqual([]);
    expect(await proxy.metric('outbound_http_route_retry_requests_total')).toBe(1);

    // gateway-error covers 502-504.
    const gw = await requestVia(proxy.port, WEB, '/', {
      headers: { 'x-id': 'c', 'l5d-retry-http': 'gateway-error' },
    });
    expect(gw.status).toBe(200);
    // A status outside the given conditions is not retried.
    const no = await requestVia(proxy.port, WEB, '/', {
      headers: { 'x-id': 'd', 'l5d-retry-http': '500,429' },
    });
    expect(no.status).toBe(503);
  });

  it('l5d-retry-limit overrides the route retry policy (0 = no retry)', async () => {
    const web = await flaky('127.0.1.52');
    t.cp.setEndpoints(WEB, [web]);
    t.cp.setPolicy(
      WEB,
      policyWith({ backends: [{ path: WEB }], retry: { maxRetries: 1, statuses: [[500, 599]] } }, true),
    );
    const proxy = await t.start();
    expect((await requestVia(proxy.port, WEB, '/', { headers: { 'x-id': 'a' } })).status).toBe(200);
    const res = await requestVia(proxy.port, WEB, '/', { headers: { 'x-id': 'b', 'l5d-retry-limit': '0' } });
    expect(res.status).toBe(503);
    expect(
      await proxy.metric('outbound_http_route_retry_limit_exceeded_total', { route_name: 'test-route' }),
    ).toBe(1);
  });

  it('l5d-timeout and l5d-response-timeout answer 504 on time', async () => {
    const web = await flaky('127.0.1.53');
    t.cp.setEndpoints(WEB, [web]);
    t.cp.setPolicy(WEB, policyWith({ backends: [{ path: WEB }] }, true));
    const proxy = await t.start();
    let started = Date.now();
    const req = await requestVia(proxy.port, WEB, '/slow', { headers: { 'l5d-timeout': '200ms' } });
    expect(req.status).toBe(504);
    expect(req.headers['l5d-proxy-error']).toMatch(/^REQUEST_TIMEOUT: /);
    // Far before the endpoint's answer (60 s): only the timeout can have ended it.
    expect(Date.now() - started).toBeLessThan(10_000);
    started = Date.now();
    const resp = await requestVia(proxy.port, WEB, '/slow', { headers: { 'l5d-response-timeout': '200ms' } });
    expect(resp.status).toBe(504);
    expect(resp.headers['l5d-proxy-error']).toMatch(/^RESPONSE_HEADERS_TIMEOUT: /);
    // Far before the endpoint's answer (60 s): only the timeout can have ended it.
    expect(Date.now() - started).toBeLessThan(10_000);
    // An unparsable duration is ignored (the endpoint's late answer comes through).
    const late = await requestVia(proxy.port, WEB, '/slow', {
      headers: { 'l5d-timeout': 'soon', 'x-late': 'short' },
    });
    expect(late.status).toBe(200);
  });

  it('ignores the headers on a route that does not allow them (and passes them on)', async () => {
    const web = await flaky('127.0.1.54');
    t.cp.setEndpoints(WEB, [web]);
    t.cp.setPolicy(WEB, policyWith({ backends: [{ path: WEB }] }, false));
    const proxy = await t.start();
    const res = await requestVia(proxy.port, WEB, '/', {
      headers: { 'x-id': 'a', 'l5d-retry-http': '5xx', 'l5d-retry-limit': '2' },
    });
    expect(res.status).toBe(503);
    expect(web.seen.sort()).toEqual(['l5d-retry-http', 'l5d-retry-limit']);
  });
});
