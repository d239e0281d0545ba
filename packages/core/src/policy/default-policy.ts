// Linkerd's default inbound policies and the authorizations each implies (policy-controller
// `DefaultPolicy::default_authzs`), plus the probe route every default server carries.
import { DefaultInboundPolicy } from '../vocabulary/index.js';
import type { ClientAuthorization } from './client-authorization.js';
import { ALL_NETWORKS, type NetworkMatch } from './ip-network.js';

const ANY_IDENTITY = {
  kind: 'mesh-tls',
  exact: new Set<string>(),
  suffixes: [{ kind: 'suffix', suffix: '' }],
} as const;

/** Parses a default-policy name (the annotation value or Server `accessPolicy`); undefined if unknown. */
export function parseDefaultInboundPolicy(value: string | undefined): DefaultInboundPolicy | undefined {
  return (Object.values(DefaultInboundPolicy) as string[]).includes(value ?? '')
    ? (value as DefaultInboundPolicy)
    : undefined;
}

/**
 * The authorizations a default policy grants. `requireIdentity` (the port is listed in
 * `config.linkerd.io/proxy-require-identity-inbound-ports`) turns the *-unauthenticated policies
 * into their authenticated form, as Linkerd does.
 */
export function defaultAuthorizations(
  policy: DefaultInboundPolicy,
  clusterNetworks: readonly NetworkMatch[],
  requireIdentity = false,
): ClientAuthorization[] {
  const ref = { kind: 'default', name: policy } as const;
  switch (policy) {
    case DefaultInboundPolicy.Deny:
      return [];
    case DefaultInboundPolicy.Audit:
      return [{ ref, networks: ALL_NETWORKS, authentication: { kind: 'unauthenticated' } }];
    case DefaultInboundPolicy.AllUnauthenticated:
    case DefaultInboundPolicy.AllAuthenticated:
    case DefaultInboundPolicy.ClusterUnauthenticated:
    case DefaultInboundPolicy.ClusterAuthenticated: {
      const authenticated = requireIdentity || policy.endsWith('-authenticated');
      const cluster = policy.startsWith('cluster-');
      return [
        {
          ref,
          networks: cluster ? clusterNetworks : ALL_NETWORKS,
          authentication: authenticated ? ANY_IDENTITY : { kind: 'unauthenticated' },
        },
      ];
    }
  }
}

/** Probes come from the kubelet, unauthenticated: `default:probe` admits them from the probe networks. */
export function probeAuthorization(probeNetworks: readonly NetworkMatch[]): ClientAuthorization {
  return {
    ref: { kind: 'default', name: 'probe' },
    networks: probeNetworks,
    authentication: { kind: 'unauthenticated' },
  };
}
