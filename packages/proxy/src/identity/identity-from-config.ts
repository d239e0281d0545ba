// Decides from the proxy's configuration whether it gets its workload identity from an identity
// service, and with which settings. Linkerd's proxy requires the full set (service, token file,
// local name, trust anchors) unless identity is disabled; a partial set is a configuration error
// that names what is missing, so a half-injected pod fails at start-up instead of running
// without mTLS.
import { MeshError, MeshErrorCode, ProxyEnv } from '@tsmesh/core/data-plane';
import type { IdentityConfig } from '../config/index.js';
import { controlPlaneChannelCredentials } from '../tls/index.js';
import type { ProxyIdentityOptions } from './identity-client.js';

export type IdentitySetup =
  | {
      readonly kind: 'enabled';
      readonly options: Pick<
        ProxyIdentityOptions,
        | 'address'
        | 'channelCredentials'
        | 'channelOptions'
        | 'localName'
        | 'tokenFile'
        | 'trustAnchorsPem'
        | 'minRefreshMs'
        | 'maxRefreshMs'
      >;
      /** Whether the identity service is reached over TLS (not on loopback). */
      readonly tls: boolean;
    }
  | { readonly kind: 'disabled'; readonly reason: string };

export function identitySetupFromConfig(identity: IdentityConfig): IdentitySetup {
  if (identity.disabled) return { kind: 'disabled', reason: `${ProxyEnv.IdentityDisabled} is set` };
  const required: [string, unknown][] = [
    [ProxyEnv.IdentitySvcAddr, identity.service],
    [ProxyEnv.IdentityTokenFile, identity.tokenFile],
    [ProxyEnv.IdentityLocalName, identity.localName],
    [ProxyEnv.IdentityTrustAnchors, identity.trustAnchorsPem],
  ];
  const missing = required.filter(([, value]) => value === undefined).map(([name]) => name);
  if (missing.length === required.length) {
    return { kind: 'disabled', reason: 'no identity service is configured' };
  }
  if (missing.length > 0) {
    throw new MeshError(
      MeshErrorCode.Config,
      `identity is partly configured: ${missing.join(', ')} missing`,
      {
        where: missing[0],
        hint: `set all of ${required.map(([name]) => name).join(', ')}, or ${ProxyEnv.IdentityDisabled}=true`,
      },
    );
  }
  // TLS verifying LINKERD2_PROXY_IDENTITY_SVC_NAME against the anchors, unless on loopback.
  const channel = controlPlaneChannelCredentials({ identity }, 'identity')!;
  return {
    kind: 'enabled',
    tls: channel.tls,
    options: {
      address: channel.address,
      channelCredentials: channel.credentials,
      channelOptions: channel.channelOptions,
      localName: identity.localName!,
      tokenFile: identity.tokenFile!,
      trustAnchorsPem: identity.trustAnchorsPem!,
      minRefreshMs: identity.minRefreshMs,
      maxRefreshMs: identity.maxRefreshMs,
    },
  };
}
