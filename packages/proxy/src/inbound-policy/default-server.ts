// The policy a port has before the control plane answers (or when none is configured): the
// default from LINKERD2_PROXY_INBOUND_DEFAULT_POLICY over LINKERD2_PROXY_POLICY_CLUSTER_NETWORKS,
// with protocol detection and one route matching everything — linkerd2-proxy's own default.
import {
  compileIdentities,
  DefaultInboundPolicy,
  parseIpNetwork,
  type CompiledAuthentication,
  type NetworkMatch,
} from '@tsmesh/core/data-plane';
import { defaultRouteTable, withRef, type CompiledAuthz, type CompiledServer } from './compile-server.js';

const ALL_CIDRS = ['0.0.0.0/0', '::/0'];
const ANY_CLIENT: CompiledAuthentication = { kind: 'unauthenticated' };
const ANY_IDENTITY: CompiledAuthentication = compileIdentities([{ kind: 'suffix', suffix: '' }]);

/**
 * The compiled default server for a default-policy name. `requireIdentity` (the port is in
 * LINKERD2_PROXY_INBOUND_PORTS_REQUIRE_IDENTITY) turns the *-unauthenticated policies into their
 * authenticated form, as Linkerd does.
 */
export function defaultServer(
  policy: DefaultInboundPolicy,
  clusterNetworks: readonly string[],
  requireIdentity = false,
): CompiledServer {
  const meta = { group: '', kind: 'default', name: policy };
  const nets = (cidrs: readonly string[]): NetworkMatch[] =>
    cidrs.map((c) => ({ net: parseIpNetwork(c, 'LINKERD2_PROXY_POLICY_CLUSTER_NETWORKS'), except: [] }));
  const one = (cidrs: readonly string[], authentication: CompiledAuthentication): CompiledAuthz[] => [
    { ...withRef(meta), networks: nets(cidrs), authentication },
  ];
  const authorizations: CompiledAuthz[] = {
    [DefaultInboundPolicy.Deny]: [],
    [DefaultInboundPolicy.Audit]: one(ALL_CIDRS, ANY_CLIENT),
    [DefaultInboundPolicy.AllUnauthenticated]: one(ALL_CIDRS, requireIdentity ? ANY_IDENTITY : ANY_CLIENT),
    [DefaultInboundPolicy.AllAuthenticated]: one(ALL_CIDRS, ANY_IDENTITY),
    [DefaultInboundPolicy.ClusterUnauthenticated]: one(
      clusterNetworks,
      requireIdentity ? ANY_IDENTITY : ANY_CLIENT,
    ),
    [DefaultInboundPolicy.ClusterAuthenticated]: one(clusterNetworks, ANY_IDENTITY),
  }[policy];
  return {
    meta,
    protocol: 'detect',
    authorizations,
    // The route has no authorizations of its own: requests are admitted by the server's.
    routes: defaultRouteTable([]),
    routeCount: 1,
    rateLimit: undefined,
    detectTimeoutMs: undefined,
  };
}
