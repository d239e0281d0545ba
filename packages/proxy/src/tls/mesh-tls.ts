// Mesh mutual TLS. Inbound terminates TLS with the workload certificate, asks for and verifies the
// client's certificate against the trust anchors, and records the client identity (its DNS SAN).
// Outbound connects with the workload certificate and checks the server presents exactly the
// expected identity. Contexts are rebuilt when the certificate renews; connections already open
// keep theirs, so renewal drops nothing.
//
// Session resumption between proxies: the server side issues session tickets (keys belong to the
// context, so a renewed certificate — a new context — no longer accepts tickets issued before),
// the client side keeps the latest session per (peer address, expected identity) and offers it on
// the next connection to that peer. A resumed session carries the peer certificate of its full
// handshake: the server reads the client identity from it as on a full one; the client (Node
// skips checkServerIdentity on a resumed session) checks the identity the session was verified
// for at its full handshake. Only sessions of handshakes that passed the identity check are kept,
// and the client cache is dropped when the local certificate renews, so a resumed session never
// presents a retired certificate.
import type { Socket } from 'node:net';
import {
  connect as tlsConnect,
  createSecureContext,
  TLSSocket,
  type PeerCertificate,
  type SecureContext,
} from 'node:tls';
import { MeshError, MeshErrorCode } from '@tsmesh/core/data-plane';
import type { CertificateSource } from './certificate-source.js';

/** ALPN for the opaque transport between proxies (linkerd-compat.md §1.10). */
export const OPAQUE_TRANSPORT_ALPN = 'transport.l5d.io/v1';

export interface MeshTls {
  /** The local identity, once a certificate is held. */
  localIdentity(): string | undefined;
  /** True once a certificate is held (the proxy is ready only then). */
  isReady(): boolean;
  /** Terminates inbound mesh TLS on an accepted socket. */
  accept(
    socket: Socket,
    options?: { timeoutMs?: number },
  ): Promise<{ socket: TLSSocket; clientId: string | undefined; alpn: string | false }>;
  /**
   * Starts mesh TLS over a socket at once (handshake errors surface as 'error' events). `peer`
   * (`host:port`) keys session resumption when the socket is not connected yet.
   */
  wrapClient(socket: Socket, serverIdentity: string, alpn?: string[], peer?: string): TLSSocket;
  /** Opens mesh TLS over a connected socket, verifying the server's identity. */
  connect(
    socket: Socket,
    serverIdentity: string,
    options?: { timeoutMs?: number; alpn?: string[] },
  ): Promise<TLSSocket>;
  close(): void;
}

/** DNS SANs of a peer certificate. */
export function dnsSans(cert: PeerCertificate | undefined): string[] {
  const san = cert?.subjectaltname;
  if (!san) return [];
  return san
    .split(', ')
    .filter((s) => s.startsWith('DNS:'))
    .map((s) => s.slice(4));
}

function notReady(): MeshError {
  return new MeshError(MeshErrorCode.Unavailable, 'no workload certificate yet', {
    hint: 'the identity client has not obtained a certificate',
  });
}

function withTimeout<T>(
  promise: Promise<T>,
  timeoutMs: number,
  onTimeout: () => void,
  what: string,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      onTimeout();
      reject(new MeshError(MeshErrorCode.Timeout, `${what} timed out after ${timeoutMs}ms`));
    }, timeoutMs);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

/** Most client sessions kept for resumption (one per peer address and identity). */
const MAX_CLIENT_SESSIONS = 4096;

export interface MeshTlsOptions {
  /** Offer and accept TLS session resumption (default true). */
  readonly sessionResumption?: boolean;
}

export function createMeshTls(
  source: CertificateSource,
  trustAnchorsPem: string,
  options: MeshTlsOptions = {},
): MeshTls {
  let context: SecureContext | undefined;
  let identity: string | undefined;
  const resumption = options.sessionResumption !== false;
  // `${identity} ${host}:${port}` → the latest session that peer gave us, with the server
  // identities (DNS SANs) its full handshake verified.
  const sessions = new Map<string, { readonly session: Buffer; readonly sans: readonly string[] }>();
  const rebuild = () => {
    const cert = source.current();
    if (!cert) return;
    context = createSecureContext({
      cert: cert.certificateChainPem,
      key: cert.privateKeyPem,
      ca: trustAnchorsPem,
      minVersion: 'TLSv1.2',
      ecdhCurve: 'auto',
      // Resumption with client certificates needs a session id context (OpenSSL refuses it
      // otherwise); tickets are bound to this context's keys.
      sessionIdContext: 'tsmesh-mesh-tls',
    });
    identity = cert.identity;
    sessions.clear();
  };
  rebuild();
  const unsubscribe = source.subscribe(rebuild);

  return {
    localIdentity: () => identity,
    isReady: () => context !== undefined,
    accept(socket, options = {}) {
      const ctx = context;
      if (!ctx) return Promise.reject(notReady());
      const tls = new TLSSocket(socket, {
        isServer: true,
        secureContext: ctx,
        requestCert: true,
        rejectUnauthorized: false,
        ALPNProtocols: ['h2', 'http/1.1', OPAQUE_TRANSPORT_ALPN],
      });
      const handshake = new Promise<{
        socket: TLSSocket;
        clientId: string | undefined;
        alpn: string | false;
      }>((resolve, reject) => {
        tls.once('secure', () => {
          // Node clears this only for sockets a tls.Server owns; left true, node:http2 would
          // wait for a 'secureConnect' that a server socket never emits (the session stalled,
          // or died replaying bytes detection had read: it had no handle yet).
          (tls as unknown as { secureConnecting: boolean }).secureConnecting = false;
          // A TLSSocket made outside a tls.Server does not set \`authorized\`; ask OpenSSL for the
          // verification result directly. A certificate that does not chain to our anchors is
          // refused; no certificate at all is allowed (an unmeshed TLS client, no client_id).
          const peer = tls.getPeerCertificate();
          const presented = peer !== undefined && Object.keys(peer).length > 0;
          const handle = (tls as unknown as { _handle?: { verifyError?: () => Error | null } })._handle;
          const verifyError = presented ? (handle?.verifyError?.() ?? null) : null;
          if (verifyError) {
            tls.destroy();
            reject(
              new MeshError(
                MeshErrorCode.CertificateInvalid,
                `client certificate rejected: ${verifyError.message}`,
              ),
            );
            return;
          }
          resolve({
            socket: tls,
            clientId: presented ? dnsSans(peer)[0] : undefined,
            alpn: tls.alpnProtocol ?? false,
          });
        });
        tls.once('error', (err) =>
          reject(
            new MeshError(MeshErrorCode.CertificateInvalid, `TLS handshake failed: ${err.message}`, {
              cause: err,
            }),
          ),
        );
      });
      return withTimeout(handshake, options.timeoutMs ?? 10_000, () => tls.destroy(), 'TLS handshake');
    },
    wrapClient(socket, serverIdentity, alpn, peer) {
      const ctx = context;
      if (!ctx) throw notReady();
      const addr =
        peer ??
        (socket.remoteAddress === undefined ? undefined : `${socket.remoteAddress}:${socket.remotePort}`);
      const key = resumption && addr !== undefined ? `${serverIdentity} ${addr}` : undefined;
      const cached = key === undefined ? undefined : sessions.get(key);
      const tls = tlsConnect({
        socket,
        secureContext: ctx,
        servername: serverIdentity,
        ALPNProtocols: alpn,
        rejectUnauthorized: true,
        session: cached?.session,
        checkServerIdentity: (_host, cert) =>
          dnsSans(cert).includes(serverIdentity)
            ? undefined
            : new Error(`server identity ${JSON.stringify(dnsSans(cert))} is not ${serverIdentity}`),
      });
      if (key !== undefined) {
        // A session is kept only once its handshake passed verification ('secureConnect'; with
        // TLS 1.2 the session arrives before it), with the identities verified for it.
        let verifiedSans: readonly string[] | undefined;
        let pending: Buffer | undefined;
        const keep = (session: Buffer) => {
          // Only sessions from this context (a renewal clears the cache and swaps the context).
          if (context !== ctx || verifiedSans === undefined) return;
          if (sessions.size >= MAX_CLIENT_SESSIONS && !sessions.has(key)) {
            const oldest = sessions.keys().next().value;
            if (oldest !== undefined) sessions.delete(oldest);
          }
          sessions.delete(key);
          sessions.set(key, { session, sans: verifiedSans });
        };
        tls.on('session', (session: Buffer) => {
          if (verifiedSans === undefined) pending = session;
          else keep(session);
        });
        tls.once('secureConnect', () => {
          if (tls.isSessionReused()) {
            // Node does not call checkServerIdentity on a resumed session: check the identity
            // the session was verified for.
            if (!cached?.sans.includes(serverIdentity)) {
              sessions.delete(key);
              tls.destroy(new Error(`resumed session is not verified for ${serverIdentity}`));
              return;
            }
            verifiedSans = cached.sans;
          } else {
            verifiedSans = dnsSans(tls.getPeerCertificate());
          }
          if (pending !== undefined) keep(pending);
          pending = undefined;
        });
        // A failed handshake forgets the peer's session.
        tls.once('error', () => {
          if (verifiedSans === undefined) sessions.delete(key);
        });
      }
      return tls;
    },
    connect(socket, serverIdentity, options = {}) {
      let tls: TLSSocket;
      try {
        tls = this.wrapClient(socket, serverIdentity, options.alpn);
      } catch (err) {
        return Promise.reject(err);
      }
      const handshake = new Promise<TLSSocket>((resolve, reject) => {
        tls.once('secureConnect', () => resolve(tls));
        tls.once('error', (err) =>
          reject(
            new MeshError(
              MeshErrorCode.CertificateInvalid,
              `mesh TLS to ${serverIdentity} failed: ${err.message}`,
              { cause: err },
            ),
          ),
        );
      });
      return withTimeout(handshake, options.timeoutMs ?? 10_000, () => tls.destroy(), 'TLS handshake');
    },
    close() {
      unsubscribe();
      sessions.clear();
    },
  };
}
