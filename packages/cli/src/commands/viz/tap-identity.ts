// `tsmesh viz tap-server`'s tap identity: the tap Deployment's process (startClusterTapServer in
// @tsmesh/viz) taps proxies as the `tap` ServiceAccount's mesh identity — a certificate it asks the
// identity service for with its ServiceAccount token (Identity.Certify, renewed as a proxy renews
// its own, by the proxy's identity client), checked against linkerd-identity-trust-roots.
import { Registry } from 'prom-client';
import { DEFAULT_IDENTITY_TOKEN_FILE, MeshError, MeshErrorCode } from '@tsmesh/core';
import { CoreKinds, type KubeApiClient, type KubeObject } from '@tsmesh/kube';
import { startProxyIdentity } from '@tsmesh/proxy';
import { tapIdentity, type TapClientTls } from '@tsmesh/viz';

/** The tap ServiceAccount's mesh certificate from the identity service (renewed in the background). */
export async function tapIdentityFromIdentityService(o: {
  client: KubeApiClient;
  identityAddr: string;
  tokenFile?: string;
  controlPlaneNamespace: string;
  trustDomain: string;
  signal: AbortSignal;
}): Promise<() => TapClientTls> {
  const roots = await o.client.get<KubeObject & { data?: Record<string, string> }>(CoreKinds.ConfigMap, {
    namespace: o.controlPlaneNamespace,
    name: 'linkerd-identity-trust-roots',
  });
  const trustAnchorsPem = roots.data?.['ca-bundle.crt'] ?? '';
  const identity = startProxyIdentity({
    address: o.identityAddr,
    localName: tapIdentity({ controlPlaneNamespace: o.controlPlaneNamespace, trustDomain: o.trustDomain }),
    tokenFile: o.tokenFile ?? DEFAULT_IDENTITY_TOKEN_FILE,
    trustAnchorsPem,
    registry: new Registry(),
    signal: o.signal,
  });
  await identity.ready();
  return () => {
    const cert = identity.current();
    if (!cert)
      throw new MeshError(MeshErrorCode.Unavailable, 'the tap identity has no certificate yet', {
        where: 'tap',
      });
    return {
      trustAnchorsPem,
      certificateChainPem: cert.certificateChainPem,
      privateKeyPem: cert.privateKeyPem,
    };
  };
}
