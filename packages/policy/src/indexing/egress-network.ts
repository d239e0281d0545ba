// EgressNetwork (policy.linkerd.io/v1alpha1): traffic to addresses outside the cluster's Services,
// allowed or denied per network. Unset `networks` means everything outside the cluster networks.
// An EgressNetwork in the client's namespace wins over one in the global egress namespace; among
// those, an explicit network beats the unset default and a narrower network a wider one.
import {
  MeshError,
  MeshErrorCode,
  networkMatchContains,
  parseIpNetwork,
  type IpAddress,
  type NetworkMatch,
} from '@tsmesh/core';
import type { KubeObject } from '@tsmesh/kube';

export interface EgressNetworkInfo {
  readonly namespace: string;
  readonly name: string;
  /** Undefined: everything outside the cluster networks. */
  readonly networks: readonly NetworkMatch[] | undefined;
  readonly trafficPolicy: 'Allow' | 'Deny';
  readonly creationTimestampMs: number | undefined;
}

function bad(where: string, message: string, hint?: string): MeshError {
  return new MeshError(MeshErrorCode.InvalidArgument, message, { where, ...(hint ? { hint } : {}) });
}

export function parseEgressNetwork(object: KubeObject): EgressNetworkInfo {
  const namespace = object.metadata?.namespace ?? 'default';
  const name = object.metadata?.name ?? '';
  const at = `EgressNetwork ${namespace}/${name}: spec`;
  const spec = (object.spec ?? {}) as Record<string, unknown>;
  const policy = spec.trafficPolicy;
  if (policy !== 'Allow' && policy !== 'Deny')
    throw bad(
      `${at}.trafficPolicy`,
      `${JSON.stringify(policy)} is not a traffic policy`,
      'use Allow or Deny',
    );
  let networks: NetworkMatch[] | undefined;
  if (spec.networks !== undefined && spec.networks !== null) {
    if (!Array.isArray(spec.networks)) throw bad(`${at}.networks`, 'must be a list');
    networks = spec.networks.map((n: unknown, i: number) => {
      const where = `${at}.networks[${i}]`;
      const entry = (n ?? {}) as { cidr?: unknown; except?: unknown };
      if (typeof entry.cidr !== 'string') throw bad(`${where}.cidr`, 'is required (a CIDR)');
      const except = Array.isArray(entry.except) ? entry.except : [];
      return {
        net: parseIpNetwork(entry.cidr, `${where}.cidr`),
        except: except.map((e: unknown, j: number) => parseIpNetwork(String(e), `${where}.except[${j}]`)),
      };
    });
  }
  const created = object.metadata?.creationTimestamp;
  const ms = typeof created === 'string' ? Date.parse(created) : NaN;
  return {
    namespace,
    name,
    networks,
    trafficPolicy: policy,
    creationTimestampMs: Number.isNaN(ms) ? undefined : ms,
  };
}

/** The EgressNetwork that captures `ip` for a client in `sourceNamespace`, if any. */
export function selectEgressNetwork(
  egressNetworks: readonly EgressNetworkInfo[],
  ip: IpAddress,
  sourceNamespace: string,
  globalNamespace: string,
  clusterNetworks: readonly NetworkMatch[],
): EgressNetworkInfo | undefined {
  let best: { e: EgressNetworkInfo; rank: number[] } | undefined;
  for (const e of egressNetworks) {
    const nsRank = e.namespace === sourceNamespace ? 1 : e.namespace === globalNamespace ? 0 : -1;
    if (nsRank < 0) continue;
    let prefix: number;
    if (e.networks === undefined) {
      if (clusterNetworks.some((n) => networkMatchContains(n, ip))) continue;
      prefix = -1;
    } else {
      const hits = e.networks.filter((n) => networkMatchContains(n, ip));
      if (hits.length === 0) continue;
      prefix = Math.max(...hits.map((n) => n.net.prefixLength));
    }
    const rank = [nsRank, prefix, -(e.creationTimestampMs ?? Number.MAX_SAFE_INTEGER)];
    if (!best || compare(rank, best.rank) > 0 || (compare(rank, best.rank) === 0 && e.name < best.e.name))
      best = { e, rank };
  }
  return best?.e;
}

function compare(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < a.length; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d;
  }
  return 0;
}
