import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createStaticCertificateSource } from './certificate-source.js';
import { createMeshTls } from './mesh-tls.js';
import { createTestCa } from './test-certs.test-support.js';

const ca = createTestCa();
const other = createTestCa('other.cluster.local');
afterAll(() => {
  ca.dispose();
  other.dispose();
});
const SERVER_ID = 'web.emojivoto.serviceaccount.identity.linkerd.cluster.local';
const CLIENT_ID = 'vote-bot.emojivoto.serviceaccount.identity.linkerd.cluster.local';

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

async function pair(): Promise<{ server: Socket; client: Socket }> {
  const srv = createServer();
  servers.push(srv);
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const got = once(srv, 'connection') as Promise<[Socket]>;
  const client = connect((srv.address() as { port: number }).port, '127.0.0.1');
  await once(client, 'connect');
  const [server] = await got;
  return { server, client };
}

describe('mesh TLS', () => {
  const serverTls = createMeshTls(createStaticCertificateSource(ca.issue(SERVER_ID)), ca.trustAnchorsPem);
  const clientTls = createMeshTls(createStaticCertificateSource(ca.issue(CLIENT_ID)), ca.trustAnchorsPem);

  it('authenticates both sides and records the client identity', async () => {
    const { server, client } = await pair();
    const [accepted, connected] = await Promise.all([
      serverTls.accept(server),
      clientTls.connect(client, SERVER_ID, { alpn: ['h2'] }),
    ]);
    expect(accepted.clientId).toBe(CLIENT_ID);
    expect(accepted.alpn).toBe('h2');
    connected.write('ping');
    const [data] = (await once(accepted.socket, 'data')) as [Buffer];
    expect(data.toString()).toBe('ping');
    connected.destroy();
    accepted.socket.destroy();
  });

  it('refuses a server with another identity', async () => {
    const { server, client } = await pair();
    const accepting = serverTls.accept(server).catch((e: unknown) => e);
    await expect(
      clientTls.connect(client, 'emoji.emojivoto.serviceaccount.identity.linkerd.cluster.local'),
    ).rejects.toMatchObject({
      code: 'certificate_invalid',
    });
    await accepting;
  });

  it('refuses a client certificate from another trust domain', async () => {
    const { server, client } = await pair();
    const stranger = createMeshTls(createStaticCertificateSource(other.issue(CLIENT_ID)), ca.trustAnchorsPem);
    const [accepted] = await Promise.allSettled([
      serverTls.accept(server),
      stranger.connect(client, SERVER_ID),
    ]);
    expect(accepted.status).toBe('rejected');
    client.destroy();
  });

  it('is not ready without a certificate, and picks up a renewal', () => {
    const holder: { cert?: ReturnType<typeof ca.issue> } = {};
    const listeners: Array<() => void> = [];
    const tls = createMeshTls(
      { current: () => holder.cert, subscribe: (l) => (listeners.push(l), () => undefined) },
      ca.trustAnchorsPem,
    );
    expect(tls.isReady()).toBe(false);
    holder.cert = ca.issue(SERVER_ID);
    for (const l of listeners) l();
    expect(tls.isReady()).toBe(true);
    expect(tls.localIdentity()).toBe(SERVER_ID);
  });
});
