// TLS session resumption between mesh TLS peers over real loopback sockets: the second connection
// to the same peer resumes the first one's session (both sides say isSessionReused), the
// identities are still checked and recorded on a resumed session, a session is only offered for
// the identity it was made with, and a certificate renewal on either side ends resumption.
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createMeshTls,
  type CertificateSource,
  type MeshCertificate,
  type MeshTls,
} from '../../src/tls/index.js';
import { createTestCa } from '../../src/tls/test-certs.test-support.js';

const SERVER_ID = 'web.emojivoto.serviceaccount.identity.linkerd.cluster.local';
const CLIENT_ID = 'vote-bot.emojivoto.serviceaccount.identity.linkerd.cluster.local';
const OTHER_ID = 'emoji.emojivoto.serviceaccount.identity.linkerd.cluster.local';

/** A certificate source whose certificate the test renews. */
function renewable(first: MeshCertificate): CertificateSource & { renew(next: MeshCertificate): void } {
  let cert = first;
  const listeners = new Set<() => void>();
  return {
    current: () => cert,
    subscribe: (l) => (listeners.add(l), () => listeners.delete(l)),
    renew(next) {
      cert = next;
      for (const l of listeners) l();
    },
  };
}

interface Handshake {
  readonly clientResumed: boolean;
  readonly serverResumed: boolean;
  readonly clientId: string | undefined;
  readonly serverCert: ReturnType<TLSSocket['getPeerCertificate']>;
  readonly authorized: boolean;
}

describe('mesh TLS session resumption', () => {
  const ca = createTestCa();
  const serverCerts = renewable(ca.issue(SERVER_ID));
  const clientCerts = renewable(ca.issue(CLIENT_ID));
  const serverTls = createMeshTls(serverCerts, ca.trustAnchorsPem);
  const clientTls = createMeshTls(clientCerts, ca.trustAnchorsPem);
  const open: Socket[] = [];
  let server: Server | undefined;
  let port = 0;

  afterAll(async () => {
    for (const s of open) s.destroy();
    if (server) await new Promise((r) => server?.close(r));
    serverTls.close();
    clientTls.close();
    ca.dispose();
  });

  const listen = async (tls: MeshTls) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1');
    await once(srv, 'listening');
    server = srv;
    port = (srv.address() as { port: number }).port;
    return { srv, tls };
  };

  /**
   * One connection: handshake, one round trip (which also delivers TLS 1.3 session tickets to
   * the client), then both ends close.
   */
  const handshake = async (
    client: MeshTls,
    expectedIdentity = SERVER_ID,
    serverSide: MeshTls = serverTls,
  ): Promise<Handshake> => {
    if (!server) await listen(serverSide);
    const accepted = once(server as Server, 'connection') as Promise<[Socket]>;
    const tcp = connect(port, '127.0.0.1');
    open.push(tcp);
    tcp.on('error', () => undefined);
    await once(tcp, 'connect');
    const [raw] = await accepted;
    open.push(raw);
    raw.on('error', () => undefined);
    const serverSettled = serverSide.accept(raw, { timeoutMs: 10_000 });
    serverSettled.catch(() => undefined);
    const tls = client.wrapClient(tcp, expectedIdentity);
    // Listening before the handshake: TLS 1.3 tickets may arrive right after it.
    const tickets = once(tls, 'session');
    tickets.catch(() => undefined);
    await once(tls, 'secureConnect');
    const acc = await serverSettled;
    // A round trip: the client reads past the server's NewSessionTicket messages.
    acc.socket.write('ping');
    await once(tls, 'data');
    if (!tls.isSessionReused()) await tickets;
    const result = {
      clientResumed: tls.isSessionReused(),
      serverResumed: acc.socket.isSessionReused(),
      clientId: acc.clientId,
      serverCert: tls.getPeerCertificate(),
      authorized: tls.authorized,
    };
    tls.destroy();
    acc.socket.destroy();
    return result;
  };

  it('resumes the second connection to the same peer, and still checks both identities', async () => {
    const first = await handshake(clientTls);
    expect(first.clientResumed).toBe(false);
    expect(first.serverResumed).toBe(false);
    expect(first.clientId).toBe(CLIENT_ID);

    const second = await handshake(clientTls);
    expect(second.clientResumed).toBe(true);
    expect(second.serverResumed).toBe(true);
    // The server reads the client identity from the resumed session's certificate, checked as
    // on a full handshake; the client checks the identity the session was verified for.
    expect(second.clientId).toBe(CLIENT_ID);
    expect(second.authorized).toBe(true);
  });

  it('offers a session only for the identity it was made with', async () => {
    await handshake(clientTls);
    // Same address, another expected identity: no session offered, full handshake, refused.
    await expect(handshake(clientTls, OTHER_ID)).rejects.toThrow(`is not ${OTHER_ID}`);
    // The session for the right identity is still there.
    expect((await handshake(clientTls)).clientResumed).toBe(true);
  });

  it('does not resume after the server certificate renews', async () => {
    expect((await handshake(clientTls)).clientResumed).toBe(true);
    const renewed = ca.issue(SERVER_ID);
    serverCerts.renew(renewed);
    const after = await handshake(clientTls);
    expect(after.clientResumed).toBe(false);
    expect(after.serverResumed).toBe(false);
    // The renewed certificate is the one presented.
    expect(after.serverCert.raw.toString('base64')).toBe(
      renewed.certificateChainPem
        .split('-----END CERTIFICATE-----')[0]
        ?.replace(/-----BEGIN CERTIFICATE-----|\s/g, ''),
    );
    // And the new session resumes again.
    expect((await handshake(clientTls)).clientResumed).toBe(true);
  });

  it('does not resume after the client certificate renews', async () => {
    expect((await handshake(clientTls)).clientResumed).toBe(true);
    clientCerts.renew(ca.issue(CLIENT_ID));
    const after = await handshake(clientTls);
    expect(after.clientResumed).toBe(false);
    expect(after.clientId).toBe(CLIENT_ID);
    expect((await handshake(clientTls)).clientResumed).toBe(true);
  });

  it('can be turned off', async () => {
    const noResume = createMeshTls(clientCerts, ca.trustAnchorsPem, { sessionResumption: false });
    await handshake(noResume);
    expect((await handshake(noResume)).clientResumed).toBe(false);
    noResume.close();
  });
});
