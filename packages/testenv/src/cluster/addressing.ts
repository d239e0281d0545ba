import { TestEnvError } from '../test-env-error.js';

/*
 * Where a one-node cluster's addresses come from. Every address is inside the benchmark range
 * 198.18.0.0/15 (RFC 2544), which exists only in the network namespaces the tests create.
 *
 * `default` is the single cluster's plan (pods 198.18.0.0/16, Services 198.19.0.0/16, node
 * 198.18.255.1). `east` and `west` split each half of the range in two /17s so that two clusters can
 * run at once and be connected (connectClusterNodes): their pod, Service, node and DNS addresses are
 * disjoint, so a node can route to the other's node IP and take the other's pods' replies back.
 */

export type ClusterAddressingName = 'default' | 'east' | 'west';

export interface ClusterAddressing {
  readonly name: ClusterAddressingName;
  /** Every pod address of the cluster: kube-proxy's clusterCIDR, kube-controller-manager's --cluster-cidr. */
  readonly podCidr: string;
  /** The node's share of it (CNI host-local range). */
  readonly nodePodSubnet: string;
  /** Its first address: the bridge's, the pods' default gateway. */
  readonly nodePodGateway: string;
  /** The node's InternalIP (a /32 in the node's netns, outside the node's pod subnet). */
  readonly nodeIp: string;
  readonly serviceCidr: string;
  /** The `kube-dns` Service's ClusterIP and the kubelet's clusterDNS. */
  readonly dnsIp: string;
  /** What the apiserver's egress proxy may dial: this cluster's pods, Services and node IP only. */
  readonly egressAllowed: readonly string[];
}

const PLANS: Readonly<Record<ClusterAddressingName, ClusterAddressing>> = Object.freeze({
  default: Object.freeze({
    name: 'default',
    podCidr: '198.18.0.0/16',
    nodePodSubnet: '198.18.0.0/24',
    nodePodGateway: '198.18.0.1',
    nodeIp: '198.18.255.1',
    serviceCidr: '198.19.0.0/16',
    dnsIp: '198.19.0.10',
    egressAllowed: Object.freeze(['198.18.0.0/15']),
  }),
  east: Object.freeze({
    name: 'east',
    podCidr: '198.18.0.0/17',
    nodePodSubnet: '198.18.0.0/24',
    nodePodGateway: '198.18.0.1',
    nodeIp: '198.18.127.1',
    serviceCidr: '198.19.0.0/17',
    dnsIp: '198.19.0.10',
    egressAllowed: Object.freeze(['198.18.0.0/17', '198.19.0.0/17']),
  }),
  west: Object.freeze({
    name: 'west',
    podCidr: '198.18.128.0/17',
    nodePodSubnet: '198.18.128.0/24',
    nodePodGateway: '198.18.128.1',
    nodeIp: '198.18.255.1',
    serviceCidr: '198.19.128.0/17',
    dnsIp: '198.19.128.10',
    egressAllowed: Object.freeze(['198.18.128.0/17', '198.19.128.0/17']),
  }),
});

/** The address plan named `name` (default `default`, the single cluster's). */
export function clusterAddressing(name: ClusterAddressingName = 'default'): ClusterAddressing {
  const plan = (PLANS as Partial<Record<string, ClusterAddressing>>)[name];
  if (!plan) {
    throw new TestEnvError(
      'INVALID_ARGUMENT',
      `unknown cluster addressing "${String(name)}" (one of ${Object.keys(PLANS).join(', ')})`,
    );
  }
  return plan;
}

/** `a.b.c.d` as an unsigned 32-bit number. */
export function ipv4ToInt(ip: string): number {
  const parts = ip.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) {
    throw new TestEnvError('INVALID_ARGUMENT', `"${ip}" is not an IPv4 address`);
  }
  return parts.reduce((acc, p) => ((acc << 8) | Number(p)) >>> 0, 0);
}

/** The first and last address of `a.b.c.d/n`, as numbers. */
export function cidrRange(cidr: string): { first: number; last: number } {
  const [ip, bits] = cidr.split('/');
  const n = Number(bits);
  if (ip === undefined || !/^\d{1,2}$/.test(bits ?? '') || n > 32) {
    throw new TestEnvError('INVALID_ARGUMENT', `"${cidr}" is not an IPv4 CIDR`);
  }
  const mask = n === 0 ? 0 : (~0 << (32 - n)) >>> 0;
  const first = (ipv4ToInt(ip) & mask) >>> 0;
  return { first, last: (first | (~mask >>> 0)) >>> 0 };
}

/** Whether `ip` (an address) or `cidr` lies inside `outer`. */
export function cidrContains(outer: string, inner: string): boolean {
  const o = cidrRange(outer);
  const i = inner.includes('/') ? cidrRange(inner) : { first: ipv4ToInt(inner), last: ipv4ToInt(inner) };
  return i.first >= o.first && i.last <= o.last;
}

export function cidrsOverlap(a: string, b: string): boolean {
  const x = cidrRange(a);
  const y = cidrRange(b);
  return x.first <= y.last && y.first <= x.last;
}

/**
 * Why two clusters with these plans cannot be connected (their pod, Service or node addresses
 * collide), or undefined when they can.
 */
export function addressingConflict(a: ClusterAddressing, b: ClusterAddressing): string | undefined {
  const ranges = (p: ClusterAddressing): [string, string][] => [
    ['pods', p.podCidr],
    ['Services', p.serviceCidr],
    ['node IP', `${p.nodeIp}/32`],
  ];
  for (const [whatA, rangeA] of ranges(a)) {
    for (const [whatB, rangeB] of ranges(b)) {
      if (cidrsOverlap(rangeA, rangeB)) {
        return `${a.name}'s ${whatA} (${rangeA}) overlap ${b.name}'s ${whatB} (${rangeB})`;
      }
    }
  }
  return undefined;
}
