// Explicit (local) mode without iptables, as the local-mode contract lays it out: the proxy listens
// on the pod address at 4143 and at every app port (TSMESH_PROXY_INBOUND_LISTEN_ADDRS); a
// connection accepted on PODIP:P goes to the app at 127.0.0.1:P as if it had been redirected, and
// a peer using opaque transport dials PODIP:4143 with the header naming P.
import { TRANSPORT_HEADER_PROTOCOL } from '@tsmesh/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TsmeshProxyEnv } from '../../src/config/index.js';
import { createMeshTls, createStaticCertificateSource, type MeshTls } from '../../src/tls/index.js';
import { createTestCa } from '../../src/tls/test-certs.test-support.js';
import { connectWithTransportHeader } from '../../src/transport-header/index.js';
import { closeServer, listenHttp, sample, startHarness, type Harness } from './proxy-harness.js';

const POD_IP = `127.0.1.${200 + (process.pid % 50)}`;
const SERVER_ID = 'web.emojivoto.serviceaccount.identity.linkerd.cluster.local';
const CLIENT_ID = 'vote-bot.emojivoto.serviceaccount.identity.linkerd.cluster.local';

describe('explicit-mode inbound listeners (local mode)', () => {
  const ca = createTestCa();
  let app: Awaited<ReturnType<typeof listenHttp>>;
  let app2: Awaited<ReturnType<typeof listenHttp>>;
  let proxy: Harness;
  let client: MeshTls;

  beforeAll(async () => {
    app = await listenHttp((req, res) =>
      res.end(`app saw ${req.url} client-id=${String(req.headers['l5d-client-id'])}`),
    );
    app2 = await listenHttp((req, res) => res.end(`app2 saw ${req.url}`));
    proxy = await startHarness(
      {
        LINKERD2_PROXY_INBOUND_LISTEN_ADDR: `${POD_IP}:0`,
        [TsmeshProxyEnv.InboundListenAddrs]: `${POD_IP}:${app.port},${POD_IP}:${app2.port}`,
      },
      {
        certificates: createStaticCertificateSource(ca.issue(SERVER_ID)),
        trustAnchorsPem: ca.trustAnchorsPem,
      },
    );
    client = createMeshTls(createStaticCertificateSource(ca.issue(CLIENT_ID)), ca.trustAnchorsPem);
  });
  afterAll(async () => {
    client.close();
    await proxy.close();
    await closeServer(app.server);
    await closeServer(app2.server);
    ca.dispose();
  });

  it('listens on the pod address at each app port and forwards to 127.0.0.1 at that port', async () => {
    expect(proxy.proxy.inbound.listeners.map((l) => l.address.port).slice(1)).toEqual([app.port, app2.port]);
    expect(await (await fetch(`http://${POD_IP}:${app.port}/one`)).text()).toBe(
      'app saw /one client-id=undefined',
    );
    expect(await (await fetch(`http://${POD_IP}:${app2.port}/two`)).text()).toBe('app2 saw /two');
    const metrics = await (await fetch(`${proxy.adminUrl}/metrics`)).text();
    expect(
      sample(metrics, 'request_total', { direction: 'inbound', target_addr: `127.0.0.1:${app.port}` }),
    ).toBe(1);
  });

  it('serves opaque transport on the main inbound address, the header naming the app port', async () => {
    const tls = await connectWithTransportHeader({
      host: POD_IP,
      port: proxy.inboundPort,
      serverIdentity: SERVER_ID,
      header: { port: app.port, protocol: 'http1' },
      meshTls: client,
      timeoutMs: 2000,
    });
    expect(tls.alpnProtocol).toBe(TRANSPORT_HEADER_PROTOCOL);
    const response = await new Promise<string>((resolve, reject) => {
      let got = '';
      tls.on('data', (d: Buffer) => (got += d.toString()));
      tls.once('end', () => resolve(got));
      tls.once('error', reject);
      tls.write('GET /meshed HTTP/1.1\r\nHost: web\r\nConnection: close\r\n\r\n');
    });
    expect(response).toContain(`app saw /meshed client-id=${CLIENT_ID}`);
  });

  it('closes a plaintext connection to the main address, which has no target without a header', async () => {
    const res = await fetch(`http://${POD_IP}:${proxy.inboundPort}/`).catch((err: Error) => err);
    expect(res).toBeInstanceOf(Error);
    expect((await fetch(`${proxy.adminUrl}/ready`)).status).toBe(200);
  });
});
