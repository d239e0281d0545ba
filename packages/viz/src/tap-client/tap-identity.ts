// The tap service's identity: the `tap` service account of `linkerd-viz`, the name linkerd-viz's
// tap-injector writes into every proxy as LINKERD2_PROXY_TAP_SVC_NAME. In a cluster the tap
// service's own proxy holds it; in local mode the tap service signs itself a short-lived
// certificate with the local control plane's issuer (whoever can read the state directory's
// issuer key is the mesh's operator).
import {
  createIssuer,
  formatCertificates,
  formatIdentityName,
  formatPrivateKey,
  generateKeyPair,
  issueLeafCertificate,
} from '@tsmesh/core';
import type { TapClientTls } from './observe-proxy.js';

export const VIZ_NAMESPACE = 'linkerd-viz';
export const TAP_SERVICE_ACCOUNT = 'tap';

export function tapIdentity(o: { controlPlaneNamespace?: string; trustDomain?: string } = {}): string {
  return formatIdentityName({
    serviceAccount: TAP_SERVICE_ACCOUNT,
    namespace: VIZ_NAMESPACE,
    ...(o.controlPlaneNamespace ? { controlPlaneNamespace: o.controlPlaneNamespace } : {}),
    ...(o.trustDomain ? { trustDomain: o.trustDomain } : {}),
  });
}

export interface IssueTapCertificateOptions {
  /** The issuer certificate (PEM; its chain may follow) and key. */
  readonly issuerCertificatePem: string;
  readonly issuerKeyPem: string;
  readonly trustAnchorsPem: string;
  readonly controlPlaneNamespace?: string;
  readonly trustDomain?: string;
  /** Default 1 h. */
  readonly lifetimeMs?: number;
}

/** A certificate for the tap identity, signed by the mesh's issuer. */
export function issueTapCertificate(o: IssueTapCertificateOptions): TapClientTls & { identity: string } {
  const issuer = createIssuer({
    certificate: o.issuerCertificatePem,
    privateKey: o.issuerKeyPem,
    where: 'the local identity issuer',
  });
  const keys = generateKeyPair();
  const identity = tapIdentity(o);
  const issued = issueLeafCertificate({
    issuer,
    publicKey: keys.publicKey,
    identity,
    lifetimeMs: o.lifetimeMs ?? 3_600_000,
  });
  return {
    identity,
    trustAnchorsPem: o.trustAnchorsPem,
    certificateChainPem: formatCertificates([issued.certificate, ...issued.intermediates]),
    privateKeyPem: formatPrivateKey(keys.privateKey),
  };
}
