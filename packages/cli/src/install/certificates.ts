// The certificates an install needs, taken from the values or files when given and generated
// otherwise: identity trust anchors and issuer (@tsmesh/core's CA functions, Linkerd's names and
// lifetimes), and a CA plus serving certificate per admission webhook.
import { readFileSync } from 'node:fs';
import {
  createIntermediateCertificate,
  createIssuer,
  createRootCertificate,
  formatPrivateKey,
  MeshError,
  MeshErrorCode,
  parseCertificates,
  verifyCertificateChain,
} from '@tsmesh/core';
import type { InstallValues } from './values.js';
import { createWebhookCertificate } from './webhook-certificates.js';

export interface IdentityFiles {
  trustAnchorsFile?: string;
  issuerCertificateFile?: string;
  issuerKeyFile?: string;
}

function read(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new MeshError(MeshErrorCode.InvalidArgument, `cannot read the ${what}: ${(err as Error).message}`, {
      where: file,
    });
  }
}

/** Fills the identity and webhook certificates of `values` (a copy) from files or freshly generated ones. */
export function completeCertificates(
  values: InstallValues,
  namespace: string,
  files: IdentityFiles = {},
  now = new Date(),
): InstallValues {
  const v = structuredClone(values);
  const trustDomain = v.identityTrustDomain || v.clusterDomain;
  if (files.trustAnchorsFile) v.identityTrustAnchorsPEM = read(files.trustAnchorsFile, 'trust anchors');
  if (files.issuerCertificateFile)
    v.identity.issuer.tls.crtPEM = read(files.issuerCertificateFile, 'issuer certificate');
  if (files.issuerKeyFile) v.identity.issuer.tls.keyPEM = read(files.issuerKeyFile, 'issuer key');
  const tls = v.identity.issuer.tls;
  const haveIssuer = tls.crtPEM !== '' || tls.keyPEM !== '';
  if (haveIssuer && (tls.crtPEM === '' || tls.keyPEM === '')) {
    throw new MeshError(MeshErrorCode.InvalidArgument, 'the issuer certificate and key go together', {
      hint: 'give both --identity-issuer-certificate-file and --identity-issuer-key-file',
    });
  }
  if (haveIssuer && v.identityTrustAnchorsPEM === '') {
    throw new MeshError(
      MeshErrorCode.InvalidArgument,
      'an issuer was given without the trust anchors that sign it',
      {
        hint: 'add --identity-trust-anchors-file',
      },
    );
  }
  if (!haveIssuer) {
    if (v.identityTrustAnchorsPEM !== '') {
      throw new MeshError(MeshErrorCode.InvalidArgument, 'trust anchors were given without an issuer', {
        hint: 'give --identity-issuer-certificate-file and --identity-issuer-key-file signed by those anchors, or neither',
      });
    }
    const root = createRootCertificate({ commonName: `root.linkerd.${trustDomain}`, pathLength: null, now });
    const issuer = createIntermediateCertificate({
      issuer: root,
      commonName: `identity.linkerd.${trustDomain}`,
      now,
    });
    v.identityTrustAnchorsPEM = root.certificate.pem;
    tls.crtPEM = issuer.certificate.pem;
    tls.keyPEM = formatPrivateKey(issuer.privateKey, 'sec1');
  } else {
    // The issuer must chain to the anchors now, as `linkerd install` checks.
    const issuer = createIssuer({
      certificate: tls.crtPEM,
      privateKey: tls.keyPEM,
      where: 'identity issuer',
    });
    const anchors = parseCertificates(v.identityTrustAnchorsPEM, { where: 'trust anchors' });
    verifyCertificateChain(anchors, issuer.certificate, [...issuer.chain], { at: now, purpose: 'issuer' });
  }
  const webhooks = [
    ['proxyInjector', 'linkerd-proxy-injector'],
    ['profileValidator', 'linkerd-sp-validator'],
    ['policyValidator', 'linkerd-policy-validator'],
  ] as const;
  for (const [key, service] of webhooks) {
    const w = v[key];
    if (w.crtPEM && w.keyPEM && w.caBundle) continue;
    if (w.crtPEM || w.keyPEM || w.caBundle) {
      throw new MeshError(MeshErrorCode.InvalidArgument, `${key}: crtPEM, keyPEM and caBundle go together`, {
        where: `values ${key}`,
      });
    }
    Object.assign(w, createWebhookCertificate(service, namespace, now));
  }
  return v;
}
