// Serving certificates for the admission webhooks (proxy injector, sp-validator, policy validator),
// as Linkerd's chart makes them with genCA/genSignedCert: a CA per webhook and a leaf for
// `<service>.<namespace>.svc` signed by it (both from @tsmesh/core's certificate authority).
import {
  createRootCertificate,
  formatPrivateKey,
  generateKeyPair,
  issueServingCertificate,
} from '@tsmesh/core';

export interface WebhookCertificate {
  crtPEM: string;
  keyPEM: string;
  /** PEM of the CA that signed crtPEM. */
  caBundle: string;
}

const DAY_MS = 86_400_000;
/** Linkerd's chart: genCA/genSignedCert with 365 days. */
export const WEBHOOK_CERT_LIFETIME_MS = 365 * DAY_MS;

/** A fresh CA and serving certificate for the webhook Service `service` in `namespace`. */
export function createWebhookCertificate(
  service: string,
  namespace: string,
  now = new Date(),
): WebhookCertificate {
  const host = `${service}.${namespace}.svc`;
  const ca = createRootCertificate({
    commonName: `webhook.${host}`,
    pathLength: 0,
    lifetimeMs: WEBHOOK_CERT_LIFETIME_MS,
    now,
  });
  const key = generateKeyPair();
  const crt = issueServingCertificate({
    issuer: ca,
    publicKey: key.publicKey,
    dnsNames: [host],
    lifetimeMs: WEBHOOK_CERT_LIFETIME_MS,
    now,
  });
  return { crtPEM: crt.pem, keyPEM: formatPrivateKey(key.privateKey), caBundle: ca.certificate.pem };
}
