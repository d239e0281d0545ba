// Two full proxies, configured through Linkerd's environment variables: A's outbound mesh stack
// discovers B through the test control plane (Destination.Get with B's TLS identity hint) and
// reaches it over mutual TLS, verifying that identity; B's inbound hands A's identity to the app.
// A wrong identity hint fails the request instead of talking to the wrong peer.
import { once } from 'node:events';
import { connect } from 'node:net';
import { ProxyEnv } from '@tsmesh/core';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { TsmeshProxyEnv } from '../../src/config/index.js';
import { createTestCa } from '../../src/tls/test-certs.test-support.js';
import {
  closeServer,
  forwardTo,
  listenHttp,
  listenTcp,
  sample,
  startHarness,
  type Harness,
} from './proxy-harness.js';
import { toTcpAddress } from '../../src/discovery/index.js';
import { startTestControlPlane, type TestControlPlane } from './support/control-plane.js';
import { requestVia } from './support/mesh-outbound.js';
import { controlPlaneEnv, meshIdentity } from './support/mesh-proxies.js';
import { httpPolicy } from './support/policies.js';

const A_ID = 'vote-bot.emojivoto.serviceaccount.identity.linkerd.cluster.local';
const B_ID = 'web.emojivoto.serviceaccount.identity.linkerd.cluster.local';
const WEB = 'web.emojivoto.svc.cluster.local:80';
const IMPOSTOR = 'impostor.emojivoto.svc.cluster.local:80';

describe('outbound mesh between two proxies', () => {
  const ca = createTestCa();
  let cp: TestControlPlane;
  let app: Awaited<ReturnType<typeof listenHttp>>;
  let echo: Awaited<ReturnType<typeof listenTcp>>;
  let a: Harness;
  let b: Harness;

  beforeAll(async () => {
    cp = await startTestControlPlane();
    echo = await listenTcp((s) => s.pipe(s));
    app = await listenHttp((req, res) => res.end(`client-id=${String(req.headers['l5d-client-id'])}`));
    b = await startHarness(forwardTo(app.port), meshIdentity(ca, B_ID));
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
    a = await startHarness(controlPlaneEnv(cp, 'emojivoto', 'vote-bot-1'), meshIdentity(ca, A_ID));
  });
  afterAll(async () => {
    await a.close();
    await b.close();
    await closeServer(app.server);
    await closeServer(echo.server);
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
    // Linkerd's per-endpoint families too, labelled with the verified server identity.
    expect(
      sample(text, 'response_total', {
        direction: 'outbound',
        tls: 'true',
        server_id: B_ID,
        status_code: '200',
      }),
    ).toBe(5);
    expect(cp.subscriptions('get', WEB)).toBe(1);
    expect(cp.subscriptions('policy', WEB)).toBe(1);
  });

  it('refuses a peer that does not present the identity discovery named', async () => {
    const res = await requestVia(a.outboundPort, IMPOSTOR);
    expect(res.status).toBe(502);
    expect(res.headers['l5d-proxy-error']).toMatch(/^IDENTITY_MISMATCH: /);
    expect(a.proxy.recentErrors.list()[0]).toMatchObject({
      direction: 'outbound',
      code: 'IDENTITY_MISMATCH',
    });
    const text = await (await fetch(`${a.adminUrl}/metrics`)).text();
    expect(sample(text, 'outbound_http_errors_total', { error: 'identity required' })).toBeGreaterThanOrEqual(
      1,
    );
    // The stable code is also the error label of Linkerd's response_total.
    expect(
      sample(text, 'response_total', { direction: 'outbound', error: 'IDENTITY_MISMATCH' }),
    ).toBeGreaterThanOrEqual(1);
  });

  it('carries opaque TCP with opaque transport when the profile endpoint hints it', async () => {
    cp.setProfile(`127.0.1.40:${echo.port}`, {
      endpoint: {
        addr: toTcpAddress({ host: '127.0.0.1', port: echo.port }),
        weight: 1,
        tlsIdentity: { dnsLikeIdentity: { name: B_ID } },
        protocolHint: { opaqueTransport: { inboundPort: b.inboundPort } },
      },
    });
    // The echo port is opaque, and C's explicit TCP target is an address nothing listens on: only
    // discovery (the profile's endpoint hint) can get the bytes to B.
    const c = await startHarness(
      {
        ...controlPlaneEnv(cp, 'emojivoto', 'vote-bot-1'),
        [ProxyEnv.InboundPortsDisableProtocolDetection]: String(echo.port),
        [TsmeshProxyEnv.OutboundForwardAddr]: `127.0.1.40:${echo.port}`,
      },
      meshIdentity(ca, A_ID),
    );
    onTestFinished(() => c.close());
    const socket = connect(c.outboundPort, '127.0.0.1');
    socket.on('error', () => undefined);
    await once(socket, 'connect');
    let got = '';
    socket.on('data', (d: Buffer) => (got += d.toString()));
    socket.write('opaque-bytes');
    await expect.poll(() => got, { timeout: 5000 }).toBe('opaque-bytes');
    socket.destroy();
    const text = await (await fetch(`${b.adminUrl}/metrics`)).text();
    expect(
      sample(text, 'tcp_open_total', { direction: 'inbound', tls: 'true', client_id: A_ID }),
    ).toBeGreaterThanOrEqual(1);
  });
});
