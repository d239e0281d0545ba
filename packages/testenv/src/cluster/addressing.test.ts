import { expect, test } from 'vitest';
import {
  addressingConflict,
  cidrContains,
  cidrRange,
  cidrsOverlap,
  clusterAddressing,
  type ClusterAddressingName,
} from './addressing.js';
import { kubeProxyConfig, nodePaths, type NodeLayout } from './configs.js';

const BENCHMARK = '198.18.0.0/15';
const NAMES: readonly ClusterAddressingName[] = ['default', 'east', 'west'];

test('the default plan is the single cluster of before: pods 198.18.0.0/16, Services 198.19.0.0/16, node 198.18.255.1', () => {
  expect(clusterAddressing()).toEqual({
    name: 'default',
    podCidr: '198.18.0.0/16',
    nodePodSubnet: '198.18.0.0/24',
    nodePodGateway: '198.18.0.1',
    nodeIp: '198.18.255.1',
    serviceCidr: '198.19.0.0/16',
    dnsIp: '198.19.0.10',
    egressAllowed: ['198.18.0.0/15'],
  });
  expect(Object.isFrozen(clusterAddressing('east'))).toBe(true);
});

test.each(NAMES)('plan %s: everything inside 198.18.0.0/15 and consistent', (name) => {
  const p = clusterAddressing(name);
  for (const cidr of [p.podCidr, p.serviceCidr, p.nodePodSubnet, ...p.egressAllowed]) {
    expect(cidrContains(BENCHMARK, cidr), cidr).toBe(true);
  }
  expect(cidrContains(p.podCidr, p.nodePodSubnet)).toBe(true);
  expect(cidrRange(p.nodePodSubnet).first + 1).toBe(cidrRange(`${p.nodePodGateway}/32`).first);
  // The node IP is the cluster's (kube-proxy treats it as local) but no pod's.
  expect(cidrContains(p.podCidr, p.nodeIp)).toBe(true);
  expect(cidrContains(p.nodePodSubnet, p.nodeIp)).toBe(false);
  expect(cidrContains(p.serviceCidr, p.dnsIp)).toBe(true);
  expect(cidrsOverlap(p.podCidr, p.serviceCidr)).toBe(false);
  // The egress proxy reaches this cluster's pods, Services and node, and no other address.
  for (const needed of [p.podCidr, p.serviceCidr, `${p.nodeIp}/32`]) {
    expect(
      p.egressAllowed.some((a) => cidrContains(a, needed)),
      needed,
    ).toBe(true);
  }
});

test('east and west are disjoint (they can be connected); the default overlaps both', () => {
  const east = clusterAddressing('east');
  const west = clusterAddressing('west');
  expect(addressingConflict(east, west)).toBeUndefined();
  expect(addressingConflict(west, east)).toBeUndefined();
  for (const a of east.egressAllowed)
    for (const w of west.egressAllowed) expect(cidrsOverlap(a, w)).toBe(false);
  expect(east.dnsIp).not.toBe(west.dnsIp);
  expect(addressingConflict(clusterAddressing(), east)).toMatch(
    /default's pods \(198\.18\.0\.0\/16\) overlap east's/,
  );
  expect(addressingConflict(west, west)).toMatch(/overlap/);
});

test('unknown plans and malformed addresses are refused with what was wrong', () => {
  expect(() => clusterAddressing('north' as ClusterAddressingName)).toThrow(
    /unknown cluster addressing "north"/,
  );
  expect(() => cidrRange('198.18.0.0')).toThrow(/not an IPv4 CIDR/);
  expect(() => cidrContains('198.18.0.0/15', '198.18.300.1')).toThrow(/not an IPv4 address/);
});

test("kube-proxy of a west node: west's cluster CIDR (masquerade of what is not its pods), NodePorts on its node IP", () => {
  const p = clusterAddressing('west');
  const layout: NodeLayout = {
    dir: '/tmp/c',
    nodeName: 'tsmesh-node',
    nodeIp: p.nodeIp,
    podSubnet: p.nodePodSubnet,
    podGateway: p.nodePodGateway,
    clusterCidr: p.podCidr,
    clusterDns: p.dnsIp,
    cniNetwork: 'tsmesh-node-0a1b2c3d',
    cgroupRoot: '/tsmesh-node-0a1b2c3d',
    pauseImage: 'tsmesh.local/pause:3.10',
  };
  expect(JSON.parse(kubeProxyConfig(layout, nodePaths('/tmp/c').kubeProxyConfig))).toMatchObject({
    clusterCIDR: '198.18.128.0/17',
    detectLocalMode: 'ClusterCIDR',
    nodePortAddresses: ['198.18.255.1/32'],
  });
});
