// Two full proxies, configured through Linkerd's environment variables: A's outbound mesh stack
// discovers B through the test control plane (Destination.Get with B's TLS identity hint) and
// reaches it over mutual TLS, verifying that identity; B's inbound hands A's identity to the app.
// A wrong identity hint fails the request instead of talking to the wrong peer.
import { ProxyEnv } from '@tsmesh/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStaticCertificateSource } from '../../src/tls/index.js';
import { createTestCa } from '../../src/tls/test-certs.test-support.js';
import { closeServer, forwardTo, listenHttp, sample, startHarness, type Harness } from './proxy-harness.js';
import { startTestControlPlane, type TestControlPlane } from './support/control-plane.js';
import { requestVia } from './support/mesh-outbound.js';
import { httpPolicy } from './support/policies.js';

const A_ID = 'vote-bot.emojivoto.serviceaccount.identity.linkerd.cluster.local';
const B_ID = 'web.emojivoto.serviceaccount.identity.linkerd.cluster.local';
const WEB = 'web.emojivoto.svc.cluster.local:80';
const IMPOSTOR = 'impostor.emojivoto.svc.cluster.local:80';

describe('outbound mesh between two proxies', () => {
  const ca = createTestCa();
  let cp: TestControlPlane;
  let app: Awaited<ReturnType<typeof listenHttp>>;
  let a: Harness;
  let b: Harness;

  beforeAll(async () => {
    cp = await startTestControlPlane();
    app = await listenHttp((req, res) => res.end(`client-id=${String(req.headers['l5d-client-id'])}`));
    b = await startHarness(forwardTo(app.port), {
      certificates: createStaticCertificateSource(ca.issue(B_ID)),
      trustAnchorsPem: ca.trustAnchorsPem,
    });
    cp.setEndpoints(WEB, [{ host: '127.0.0.1', port: b.inboundPort, identity: B_ID }]);
    cp.setPolicy(WEB, httpPolicy(WEB, [{ backends: [{ path: WEB, failfastMs: 500 }] }]));
    // The same proxy B, but discovery claims another identity for it.
    cp.setEndpoints(IMPOSTOR, [
      {
        host: '127.0.0.1',
        port: b.inboundPort,
        identity: 'db.emojivoto.serviceaccount.identity.linkerd.cluster.local',
      },
    ]);
    a = await startHarness(
      {
        [ProxyEnv.DestinationSvcAddr]: cp.address,
        [ProxyEnv.DestinationSvcName]:
          'linkerd-destination.linkerd.serviceaccount.identity.linkerd.cluster.local',
        [ProxyEnv.PolicySvcAddr]: cp.address,
        [ProxyEnv.PolicySvcName]: 'linkerd-destination.linkerd.serviceaccount.identity.linkerd.cluster.local',
        [ProxyEnv.DestinationContext]: '{"ns":"emojivoto","nodeName":"local"}',
        [ProxyEnv.PolicyWorkload]: '{"ns":"emojivoto","pod":"vote-bot-1"}',
      },
      { certificates: createStaticCertificateSource(ca.issue(A_ID)), trustAnchorsPem: ca.trustAnchorsPem },
    );
  });
  afterAll(async () => {
    await a.close();
    await b.close();
    await closeServer(app.server);
    await cp.stop();
    ca.dispose();
  });

  it('discovers B and talks mTLS to it, verifying the identity hint', async () => {
    for (let i = 0; i < 5; i++) {
      const res = await requestVia(a.outboundPort, WEB, `/vote/${i}`);
      expect(res.status).toBe(200);
      expect(res.body).toBe(`client-id=${A_ID}`);
    }
    const text = await (await fetch(`${a.adminUrl}/metrics`)).text();
    expect(
      sample(text, 'outbound_http_route_request_statuses_total', { parent_name: 'web', http_status: '200' }),
    ).toBe(5);
    expect(
      sample(text, 'outbound_http_balancer_endpoints', { backend_name: 'web', endpoint_state: 'ready' }),
    ).toBe(1);
    expect(cp.subscriptions('get', WEB)).toBe(1);
    expect(cp.subscriptions('policy', WEB)).toBe(1);
  });

  it('refuses a peer that does not present the identity discovery named', async () => {
    const res = await requestVia(a.outboundPort, IMPOSTOR);
    expect(res.status).toBe(502);
    expect(res.headers['l5d-proxy-error']).toMatch(/^IDENTITY_MISMATCH: /);
    expect(a.proxy.recentErrors.list()[0]).toMatchObject({ direction: 'outbound' });
  });
});
