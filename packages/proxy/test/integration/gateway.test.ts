// Multicluster gateway mode, end to end on loopback: a client proxy C (the "west" cluster) reaches
// services of the "east" cluster through a gateway proxy G (LINKERD2_PROXY_INBOUND_GATEWAY_SUFFIXES)
// that forwards to a server proxy S in front of the apps. C discovers the mirror service
// `web-east` as G's address with G's identity and an authority override naming the remote service
// (what the service mirror and destination publish); G resolves that name through its own
// outbound stack and opens mesh TLS to S. Opaque TCP goes the same way with opaque transport
// headers naming the target. Refused: plaintext clients, names outside the suffixes, loops.
import { once } from 'node:events';
import { connect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { ProxyEnv } from '@tsmesh/core';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { TsmeshProxyEnv } from '../../src/config/index.js';
import { toTcpAddress } from '../../src/discovery/index.js';
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
import { startTestControlPlane, type TestControlPlane } from './support/control-plane.js';
import { requestVia } from './support/mesh-outbound.js';
import { controlPlaneEnv, meshIdentity } from './support/mesh-proxies.js';

const id = (sa: string, ns: string) => `${sa}.${ns}.serviceaccount.identity.linkerd.cluster.local`;
const C_ID = id('vote-bot', 'shop');
const G_ID = id('linkerd-gateway', 'linkerd-multicluster');
const S_ID = id('web', 'shop');
// What C addresses (mirrors) and what G resolves (the east cluster's services).
const WEB_EAST = 'web-east.shop.svc.cluster.local:80';
const WEB = 'web.shop.svc.cluster.local:80';
const OUTSIDE_EAST = 'outside-east.shop.svc.cluster.local:80';
const SELF_EAST = 'self-east.shop.svc.cluster.local:80';
const SELF = 'self.shop.svc.cluster.local:80';
const G_HOST = '127.0.1.11';
const S_HOST = '127.0.1.12';

describe('gateway mode: client proxy → gateway proxy → server proxy', () => {
  const ca = createTestCa();
  let cp: TestControlPlane;
  let app: Awaited<ReturnType<typeof listenHttp>>;
  let echo: Awaited<ReturnType<typeof listenTcp>>;
  let c: Harness;
  let g: Harness;
  let s: Harness;
  const tls = (identity: string) => meshIdentity(ca, identity);
  // Destination only: without a policy service, name targets balance over Destination.Get.
  const discoveryEnv = () => controlPlaneEnv(cp, 'shop');
  const gatewayMetric = async (name: string, labels: Record<string, string>) =>
    sample(await (await fetch(`${g.adminUrl}/metrics`)).text(), name, labels) ?? 0;

  beforeAll(async () => {
    cp = await startTestControlPlane();
    app = await listenHttp((req, res) =>
      res.end(
        JSON.stringify({
          clientId: req.headers['l5d-client-id'],
          forwarded: req.headers.forwarded,
          host: req.headers.host,
          origProto: req.headers['l5d-orig-proto'],
          version: req.httpVersion,
        }),
      ),
    );
    echo = await listenTcp((sock) => sock.pipe(sock));
    s = await startHarness(
      { ...forwardTo(app.port), [ProxyEnv.InboundListenAddr]: `${S_HOST}:0` },
      tls(S_ID),
    );
    g = await startHarness(
      {
        ...discoveryEnv(),
        [ProxyEnv.InboundListenAddr]: `${G_HOST}:0`,
        [ProxyEnv.InboundGatewaySuffixes]: 'svc.cluster.local.',
      },
      tls(G_ID),
    );
    c = await startHarness(
      { ...discoveryEnv(), [TsmeshProxyEnv.OutboundForwardAddr]: `127.0.1.40:${echo.port}` },
      tls(C_ID),
    );
    const viaGateway = (override: string) => [
      { host: G_HOST, port: g.inboundPort, identity: G_ID, authorityOverride: override },
    ];
    // West: the mirrors point at the gateway.
    cp.setEndpoints(WEB_EAST, viaGateway(WEB));
    cp.setEndpoints(OUTSIDE_EAST, viaGateway('web.shop.svc.elsewhere.local:80'));
    cp.setEndpoints(SELF_EAST, viaGateway(SELF));
    // East: the services behind the gateway; SELF resolves back to the gateway itself.
    cp.setEndpoints(WEB, [{ host: S_HOST, port: s.inboundPort, identity: S_ID }]);
    cp.setEndpoints(SELF, [{ host: G_HOST, port: g.inboundPort, identity: G_ID }]);
    cp.setEndpoints(`echo.shop.svc.cluster.local:${echo.port}`, [
      { host: S_HOST, port: echo.port, identity: S_ID, opaqueTransportPort: s.inboundPort },
    ]);
  });
  afterAll(async () => {
    await c?.close();
    await g?.close();
    await s?.close();
    await closeServer(app.server);
    await closeServer(echo.server);
    await cp.stop();
    ca.dispose();
  });

  it('forwards HTTP to the named service over mesh TLS, with Forwarded and the target as Host', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await requestVia(c.outboundPort, WEB_EAST, `/vote/${i}`);
      expect(res.status, res.body).toBe(200);
      const seen = JSON.parse(res.body) as { clientId: string; forwarded: string; host: string };
      // S authenticated the gateway; the gateway recorded who it forwarded for.
      expect(seen.clientId).toBe(G_ID);
      expect(seen.forwarded).toBe(`by=${G_ID};for=${C_ID};host=${WEB};proto=https`);
      expect(seen.host).toBe(WEB);
    }
    expect(cp.subscriptions('get', WEB)).toBe(1);
    const text = await (await fetch(`${s.adminUrl}/metrics`)).text();
    expect(sample(text, 'request_total', { direction: 'inbound', tls: 'true', client_id: G_ID })).toBe(3);
  });

  it('forwards HTTP/1 that the client proxy carried over HTTP/2 (h2 hint, l5d-orig-proto)', async () => {
    cp.setEndpoints('web-h2-east.shop.svc.cluster.local:80', [
      { host: G_HOST, port: g.inboundPort, identity: G_ID, authorityOverride: WEB, h2: true },
    ]);
    const res = await requestVia(c.outboundPort, 'web-h2-east.shop.svc.cluster.local:80', '/h2');
    expect(res.status, res.body).toBe(200);
    const seen = JSON.parse(res.body) as Record<string, unknown>;
    expect(seen).toMatchObject({ clientId: G_ID, host: WEB, version: '1.1' });
    expect(seen.origProto).toBeUndefined();
  });

  it('forwards opaque TCP named by the transport header, with opaque transport to the target', async () => {
    cp.setProfile(`127.0.1.40:${echo.port}`, {
      endpoint: {
        addr: toTcpAddress({ host: G_HOST, port: echo.port }),
        weight: 1,
        tlsIdentity: { dnsLikeIdentity: { name: G_ID } },
        protocolHint: { opaqueTransport: { inboundPort: g.inboundPort } },
        authorityOverride: { authorityOverride: `echo.shop.svc.cluster.local:${echo.port}` },
      },
    });
    const socket = connect(c.outboundPort, '127.0.0.1');
    socket.on('error', () => undefined);
    onTestFinished(() => void socket.destroy());
    await once(socket, 'connect');
    let got = '';
    socket.on('data', (d: Buffer) => (got += d.toString()));
    socket.write('across-clusters');
    await expect.poll(() => got, { timeout: 5000 }).toBe('across-clusters');
    const text = await (await fetch(`${s.adminUrl}/metrics`)).text();
    expect(
      sample(text, 'tcp_open_total', { direction: 'inbound', tls: 'true', client_id: G_ID }),
    ).toBeGreaterThanOrEqual(1);
  });

  it('refuses a plaintext client', async () => {
    const before = await gatewayMetric('inbound_tcp_errors_total', { error: 'unexpected' });
    await expect(
      request(`http://${G_HOST}:${g.inboundPort}/`, { headers: { host: WEB } }).then((r) => r.body.text()),
    ).rejects.toThrow();
    await expect
      .poll(() => gatewayMetric('inbound_tcp_errors_total', { error: 'unexpected' }), { timeout: 5000 })
      .toBeGreaterThan(before);
  });

  it('refuses a TLS client without a certificate (unauthenticated)', async () => {
    const socket = tlsConnect({
      host: G_HOST,
      port: g.inboundPort,
      servername: G_ID,
      ca: ca.trustAnchorsPem,
      checkServerIdentity: () => undefined,
    });
    socket.on('error', () => undefined);
    onTestFinished(() => void socket.destroy());
    await once(socket, 'secureConnect');
    socket.write(`GET / HTTP/1.1\r\nhost: ${WEB}\r\n\r\n`);
    let got = '';
    socket.on('data', (d: Buffer) => (got += d.toString()));
    await once(socket, 'close');
    expect(got).toBe('');
    expect(
      await gatewayMetric('inbound_tcp_errors_total', { error: 'identity required' }),
    ).toBeGreaterThanOrEqual(1);
  });

  it("applies the gateway port's inbound policy (default deny refuses every client)", async () => {
    const denying = await startHarness(
      {
        ...discoveryEnv(),
        [ProxyEnv.InboundListenAddr]: '127.0.1.13:0',
        [ProxyEnv.InboundGatewaySuffixes]: 'svc.cluster.local.',
        [ProxyEnv.InboundDefaultPolicy]: 'deny',
      },
      tls(G_ID),
    );
    onTestFinished(() => denying.close());
    cp.setEndpoints('web-denied.shop.svc.cluster.local:80', [
      { host: '127.0.1.13', port: denying.inboundPort, identity: G_ID, authorityOverride: WEB },
    ]);
    const res = await requestVia(c.outboundPort, 'web-denied.shop.svc.cluster.local:80');
    expect(res.status).toBeGreaterThanOrEqual(500);
    const text = await (await fetch(`${denying.adminUrl}/metrics`)).text();
    expect(sample(text, 'inbound_tcp_authz_deny_total')).toBeGreaterThanOrEqual(1);
  });

  it('refuses a target outside the gateway suffixes (404 gateway domain invalid)', async () => {
    const res = await requestVia(c.outboundPort, OUTSIDE_EAST);
    expect(res.status).toBe(404);
    expect(res.headers['l5d-proxy-error']).toMatch(/^GATEWAY_DOMAIN_INVALID: /);
    expect(await gatewayMetric('inbound_http_errors_total', { error: 'gateway domain invalid' })).toBe(1);
    expect(cp.subscriptions('get', 'web.shop.svc.elsewhere.local:80')).toBe(0);
  });

  it('refuses a request that already passed through this gateway (508 gateway loop)', async () => {
    const res = await requestVia(c.outboundPort, WEB_EAST, '/', {
      headers: { forwarded: `by=${G_ID};for=${C_ID};host=${WEB};proto=https` },
    });
    expect(res.status).toBe(508);
    expect(res.headers['l5d-proxy-error']).toMatch(/^GATEWAY_LOOP: /);
    expect(await gatewayMetric('inbound_http_errors_total', { error: 'gateway loop' })).toBe(1);
  });

  it('refuses a connection from itself (a target resolving back to the gateway)', async () => {
    const res = await requestVia(c.outboundPort, SELF_EAST);
    expect(res.status).toBeGreaterThanOrEqual(500);
    expect(await gatewayMetric('inbound_tcp_errors_total', { error: 'gateway loop' })).toBeGreaterThanOrEqual(
      1,
    );
  });
});

describe('gateway mode configuration', () => {
  it('needs discovery and mesh TLS', async () => {
    await expect(startHarness({ [ProxyEnv.InboundGatewaySuffixes]: 'svc.cluster.local.' })).rejects.toThrow(
      /gateway mode needs discovery and mesh TLS/,
    );
  });
});
