// Serving certificates for the admission webhooks (proxy injector, sp-validator, policy validator),
// as Linkerd's chart makes them with genCA/genSignedCert: a CA per webhook (from @tsmesh/core) and a
// leaf for `<service>.<namespace>.svc` signed by it. The leaf is a TLS server certificate, not a
// mesh identity, so @tsmesh/core's issueLeafCertificate (which certifies identity names) does not
// fit; this file writes the few DER structures such a certificate needs (RFC 5280 §4.1).
import { createPublicKey, randomBytes, sign, type KeyObject } from 'node:crypto';
import {
  createRootCertificate,
  encodePem,
  formatPrivateKey,
  generateKeyPair,
  parseCertificate,
  type Certificate,
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

function len(n: number): number[] {
  if (n < 0x80) return [n];
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return [0x80 | bytes.length, ...bytes];
}
const tlv = (tag: number, ...parts: Uint8Array[]): Uint8Array => {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([tag, ...len(body.length)]), body]);
};
const seq = (...parts: Uint8Array[]) => tlv(0x30, ...parts);
function oid(dotted: string): Uint8Array {
  const [a, b, ...rest] = dotted.split('.').map(Number) as [number, number, ...number[]];
  const out = [a * 40 + b];
  for (const n of rest) {
    const chunk = [n & 0x7f];
    for (let v = n >> 7; v > 0; v >>= 7) chunk.unshift(0x80 | (v & 0x7f));
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}
function utcTime(date: Date): Uint8Array {
  const iso = date.toISOString(); // 2026-01-02T03:04:05.000Z
  const s =
    iso.slice(2, 4) +
    iso.slice(5, 7) +
    iso.slice(8, 10) +
    iso.slice(11, 13) +
    iso.slice(14, 16) +
    iso.slice(17, 19);
  return tlv(0x17, Buffer.from(`${s}Z`, 'ascii'));
}
const commonName = (cn: string) => seq(tlv(0x31, seq(oid('2.5.4.3'), tlv(0x0c, Buffer.from(cn, 'utf8')))));
const extension = (id: string, critical: boolean, value: Uint8Array) =>
  critical ? seq(oid(id), tlv(0x01, Buffer.from([0xff])), tlv(0x04, value)) : seq(oid(id), tlv(0x04, value));

/** A server certificate for `dnsNames` signed by the CA. */
export function signServingCertificate(options: {
  ca: { certificate: Certificate; privateKey: KeyObject };
  publicKey: KeyObject;
  dnsNames: readonly string[];
  now?: Date;
  lifetimeMs?: number;
}): Certificate {
  const now = options.now ?? new Date();
  const notAfter = new Date(
    Math.min(
      now.getTime() + (options.lifetimeMs ?? WEBHOOK_CERT_LIFETIME_MS),
      options.ca.certificate.notAfter.getTime(),
    ),
  );
  const serial = randomBytes(16);
  serial[0]! &= 0x7f; // positive INTEGER
  const ecdsaSha256 = seq(oid('1.2.840.10045.4.3.2'));
  const publicKey =
    options.publicKey.type === 'public' ? options.publicKey : createPublicKey(options.publicKey);
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const san = seq(...options.dnsNames.map((n) => tlv(0x82, Buffer.from(n, 'ascii'))));
  const extensions = tlv(
    0xa3,
    seq(
      extension('2.5.29.15', true, tlv(0x03, Buffer.from([0x05, 0xa0]))), // digitalSignature, keyEncipherment
      extension('2.5.29.37', false, seq(oid('1.3.6.1.5.5.7.3.1'))), // serverAuth
      extension('2.5.29.19', true, seq()), // CA:FALSE
      extension('2.5.29.17', false, san),
    ),
  );
  const tbs = seq(
    tlv(0xa0, tlv(0x02, Buffer.from([2]))),
    tlv(0x02, serial),
    ecdsaSha256,
    options.ca.certificate.subjectDer,
    seq(utcTime(new Date(now.getTime() - 20_000)), utcTime(notAfter)),
    commonName(options.dnsNames[0] ?? ''),
    spki,
    extensions,
  );
  const signature = sign('sha256', tbs, { key: options.ca.privateKey, dsaEncoding: 'der' });
  const der = seq(tbs, ecdsaSha256, tlv(0x03, Buffer.from([0]), signature));
  return parseCertificate(encodePem('CERTIFICATE', der), { where: 'webhook serving certificate' });
}

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
  const crt = signServingCertificate({ ca, publicKey: key.publicKey, dnsNames: [host], now });
  return { crtPEM: crt.pem, keyPEM: formatPrivateKey(key.privateKey), caBundle: ca.certificate.pem };
}
