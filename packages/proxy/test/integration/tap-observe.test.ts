// Tap: a grpc-js client with the tap service's certificate calls io.linkerd.proxy.tap.Tap/Observe
// on the proxy's control port over mutual TLS and sees live request and response events for the
// requests that match its filter, until its limit; a client with any other identity is refused
// with PERMISSION_DENIED. Certificates are issued by openssl.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { ProxyEnv, type tap } from '@tsmesh/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MeshCertificate } from '../../src/tls/index.js';
import { createTestCa } from '../../src/tls/test-certs.test-support.js';
import { closeServer, forwardTo, listenHttp, startHarness, type Harness } from './proxy-harness.js';
import { meshIdentity } from './support/mesh-proxies.js';
import { tapAddressOf, tapClient, untilTapActive } from './support/tap-client.js';

const run = promisify(execFile);
const WEB_ID = 'web.emojivoto.serviceaccount.identity.linkerd.cluster.local';
const TAP_ID = 'tap.linkerd-viz.serviceaccount.identity.linkerd.cluster.local';
const OTHER_ID = 'vote-bot.emojivoto.serviceaccount.identity.linkerd.cluster.local';

describe('tap on the control port', () => {
  const ca = createTestCa();
  let app: Awaited<ReturnType<typeof listenHttp>>;
  let h: Harness;
  let tapAddress: string;

  const client = (cert: MeshCertificate) => tapClient(tapAddress, ca.trustAnchorsPem, cert, WEB_ID);

  beforeAll(async () => {
    app = await listenHttp((_req, res) => res.end('ok\n'));
    h = await startHarness(
      {
        ...forwardTo(app.port),
        [ProxyEnv.ControlListenAddr]: '127.0.0.1:0',
        [ProxyEnv.TapSvcName]: TAP_ID,
      },
      meshIdentity(ca, WEB_ID),
    );
    tapAddress = tapAddressOf(h.proxy);
  });
  afterAll(async () => {
    await h.close();
    await closeServer(app.server);
    ca.dispose();
  });

  it('streams events for matching requests up to the limit, then completes', async () => {
    const c = client(ca.issue(TAP_ID));
    const events: tap.TapEvent[] = [];
    const call = c.observe({
      limit: 2,
      match: { http: { path: { prefix: '/tapped' } } },
      extract: { http: { headers: {} } },
    });
    call.on('data', (e: tap.TapEvent) => events.push(e));
    const ended = new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
    call.on('error', () => undefined);
    await untilTapActive(h.proxy.tap);
    const get = (path: string) =>
      run('curl', [
        '-sS',
        '--max-time',
        '10',
        '-H',
        'x-trace: 1',
        `http://127.0.0.1:${h.inboundPort}${path}`,
      ]);
    await get('/untapped');
    await get('/tapped/1');
    await get('/tapped/2');
    await get('/tapped/3');
    const status = await ended;
    c.close();
    expect(status.code).toBe(grpc.status.OK);
    const kinds = events.map((e) => e.http?.event);
    expect(kinds).toEqual([
      'requestInit',
      'responseInit',
      'responseEnd',
      'requestInit',
      'responseInit',
      'responseEnd',
    ]);
    const init = events[0]?.http?.requestInit;
    expect(init?.path).toBe('/tapped/1');
    expect(init?.authority).toBe(`127.0.0.1:${h.inboundPort}`);
    expect((init?.headers?.headers ?? []).some((x) => x.name === 'x-trace')).toBe(true);
    expect(events[0]?.proxyDirection).toBe(1); // INBOUND
    expect(events[1]?.http?.responseInit?.httpStatus).toBe(200);
    expect(events[0]?.source?.port).toBeGreaterThan(0);
    // The client's TLS as Linkerd's tap reports it: a plaintext client on loopback.
    expect(events[0]?.sourceMeta?.labels).toEqual({ tls: 'loopback' });
    expect(h.proxy.tap.active).toBe(false);
  });

  it('refuses any other identity with PERMISSION_DENIED', async () => {
    const c = client(ca.issue(OTHER_ID));
    const call = c.observe({ limit: 1 });
    call.on('data', () => undefined);
    const status = await new Promise<grpc.StatusObject>((resolve) => {
      call.on('status', resolve);
      call.on('error', () => undefined);
    });
    c.close();
    expect(status.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(status.details).toContain(OTHER_ID);
    expect(h.proxy.tap.active).toBe(false);
  });
});
