// Outbound tap: the tap service's grpc-js client observes a proxy's outbound requests (through the
// mesh stack, discovery from a scriptable control plane) as Linkerd reports them: proxy_direction
// OUTBOUND, the app as source, the endpoint chosen by the balancer as destination with its
// discovery labels and TLS status, the route as route label; inbound and outbound taps together.
import * as grpc from '@grpc/grpc-js';
import { ProxyEnv, type tap } from '@tsmesh/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatProtoIp } from '../../src/inbound-policy/index.js';
import type { MeshCertificate } from '../../src/tls/index.js';
import { createTestCa } from '../../src/tls/test-certs.test-support.js';
import { closeServer, listenHttp, startHarness, type Harness } from './proxy-harness.js';
import { startTestControlPlane, type TestControlPlane } from './support/control-plane.js';
import { requestVia } from './support/mesh-outbound.js';
import { controlPlaneEnv, meshIdentity } from './support/mesh-proxies.js';
import { tapAddressOf, tapClient, untilTapActive } from './support/tap-client.js';

const CLIENT_ID = 'vote-bot.emojivoto.serviceaccount.identity.linkerd.cluster.local';
const TAP_ID = 'tap.linkerd-viz.serviceaccount.identity.linkerd.cluster.local';
const WEB = 'web.emojivoto.svc.cluster.local:80';

describe('outbound tap', () => {
  const ca = createTestCa();
  let app: Awaited<ReturnType<typeof listenHttp>>;
  let cp: TestControlPlane;
  let h: Harness;
  let tapAddress: string;

  const client = (cert: MeshCertificate) => tapClient(tapAddress, ca.trustAnchorsPem, cert, CLIENT_ID);

  beforeAll(async () => {
    app = await listenHttp((req, res) => {
      res.statusCode = req.url?.startsWith('/missing') ? 404 : 200;
      res.end('ok\n');
    });
    cp = await startTestControlPlane();
    cp.setEndpoints(WEB, [
      {
        host: '127.0.0.1',
        port: app.port,
        labels: { pod: 'web-0', deployment: 'web', namespace: 'emojivoto' },
      },
    ]);
    h = await startHarness(
      {
        ...controlPlaneEnv(cp, 'emojivoto'),
        [ProxyEnv.ControlListenAddr]: '127.0.0.1:0',
        [ProxyEnv.TapSvcName]: TAP_ID,
      },
      meshIdentity(ca, CLIENT_ID),
    );
    tapAddress = tapAddressOf(h.proxy);
  });
  afterAll(async () => {
    await h.close();
    await closeServer(app.server);
    await cp.stop();
    ca.dispose();
  });

  it('streams outbound request and response events with source, destination and labels', async () => {
    const c = client(ca.issue(TAP_ID));
    const events: tap.TapEvent[] = [];
    const call = c.observe({
      limit: 2,
      // Only the outbound side of this proxy's traffic, by the endpoint's discovery label.
      match: {
        all: {
          matches: [
            { destinationLabel: { key: 'pod', value: 'web-0' } },
            { http: { path: { prefix: '/t' } } },
          ],
        },
      },
      extract: { http: { headers: {} } },
    });
    call.on('data', (e: tap.TapEvent) => events.push(e));
    const ended = new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
    call.on('error', () => undefined);
    await untilTapActive(h.proxy.tap);
    expect((await requestVia(h.outboundPort, WEB, '/other')).status).toBe(200);
    expect((await requestVia(h.outboundPort, WEB, '/t/1', { headers: { 'x-trace': '1' } })).status).toBe(200);
    expect((await requestVia(h.outboundPort, WEB, '/missing')).status).toBe(404);
    expect((await requestVia(h.outboundPort, WEB, '/t/2')).status).toBe(200);
    const status = await ended;
    c.close();
    expect(status.code).toBe(grpc.status.OK);
    expect(events.map((e) => e.http?.event)).toEqual([
      'requestInit',
      'responseInit',
      'responseEnd',
      'requestInit',
      'responseInit',
      'responseEnd',
    ]);
    const first = events[0];
    expect(first?.proxyDirection).toBe(2); // OUTBOUND
    expect(first?.http?.requestInit?.path).toBe('/t/1');
    expect(first?.http?.requestInit?.authority).toBe(WEB);
    expect((first?.http?.requestInit?.headers?.headers ?? []).some((x) => x.name === 'x-trace')).toBe(true);
    expect(formatProtoIp(first?.destination?.ip)).toBe('127.0.0.1');
    expect(first?.destination?.port).toBe(app.port);
    expect(formatProtoIp(first?.source?.ip)).toBe('127.0.0.1');
    expect(first?.source?.port).toBeGreaterThan(0);
    expect(first?.destinationMeta?.labels).toMatchObject({
      pod: 'web-0',
      deployment: 'web',
      namespace: 'emojivoto',
      tls: 'loopback',
    });
    expect(first?.routeMeta?.labels).toMatchObject({ route: 'http' });
    expect(events[1]?.http?.responseInit?.httpStatus).toBe(200);
    expect(events[4]?.http?.responseInit?.httpStatus).toBe(200);
    expect(events[3]?.http?.requestInit?.path).toBe('/t/2');
    expect(h.proxy.tap.active).toBe(false);
  });
});
