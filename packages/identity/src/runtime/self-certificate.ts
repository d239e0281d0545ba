// The identity service's own serving certificate, for TLS on its gRPC port (Linkerd's proxies
// reach identity over TLS and check the server presents the identity service's name): a P-256 key
// made once, a leaf for `linkerd-identity.<ns>.serviceaccount.identity.<ns>.<trust domain>` signed
// by the service's own current issuer, re-issued when the issuer changes and at 70 % of its
// lifetime. It feeds grpc-js's certificate-provider server credentials, so renewals need no
// restart.
import { createCertificateRequest, encodePem, generateKeyPair } from '@tsmesh/core';
import type { experimental } from '@grpc/grpc-js';
import type { IssuerStore } from '../issuer/index.js';
import type { Logger } from '../logger.js';

type IdentityUpdate = experimental.IdentityCertificateUpdate;
type IdentityListener = experimental.IdentityCertificateUpdateListener;

export interface SelfCertificateProvider extends experimental.CertificateProvider {
  /** The leaf chain (PEM) currently served, once issued. */
  currentChainPem(): string | undefined;
  close(): void;
}

export interface SelfCertificateOptions {
  readonly issuers: IssuerStore;
  /** The name the certificate carries (its one DNS SAN). */
  readonly identity: string;
  readonly logger: Logger;
  readonly now?: () => number;
}

export function createSelfCertificateProvider(options: SelfCertificateOptions): SelfCertificateProvider {
  const now = options.now ?? Date.now;
  const { privateKey } = generateKeyPair();
  const csrDer = createCertificateRequest({ identity: options.identity, privateKey, commonName: false }).der;
  const privateKeyPem = Buffer.from(privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
  const listeners = new Set<IdentityListener>();
  let latest: IdentityUpdate | undefined;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const issue = () => {
    clearTimeout(timer);
    const issuer = options.issuers.current();
    if (closed || issuer === undefined) return;
    try {
      const nowMs = now();
      const leaf = issuer.sign(csrDer, options.identity, nowMs);
      const chain = [leaf.leafDer, ...issuer.intermediatesDer]
        .map((der) => encodePem('CERTIFICATE', der))
        .join('');
      latest = { certificate: Buffer.from(chain), privateKey: privateKeyPem };
      for (const listener of listeners) listener(latest);
      timer = setTimeout(issue, Math.max(1000, (leaf.notAfterMs - nowMs) * 0.7));
      options.logger.info(
        { identity: options.identity, notAfter: new Date(leaf.notAfterMs).toISOString() },
        'issued the identity service its own serving certificate',
      );
    } catch (err) {
      options.logger.warn(
        { identity: options.identity, error: err instanceof Error ? err.message : String(err) },
        'could not issue the serving certificate; retrying in 10s',
      );
      timer = setTimeout(issue, 10_000);
    }
    timer.unref();
  };
  const unsubscribe = options.issuers.onChange(issue);
  issue();

  return {
    currentChainPem: () => latest?.certificate.toString(),
    addIdentityCertificateListener(listener) {
      listeners.add(listener);
      if (latest) listener(latest);
    },
    removeIdentityCertificateListener(listener) {
      listeners.delete(listener);
    },
    // No client certificates are asked for: proxies certify before they hold one.
    addCaCertificateListener() {},
    removeCaCertificateListener() {},
    close() {
      closed = true;
      clearTimeout(timer);
      unsubscribe();
    },
  };
}
