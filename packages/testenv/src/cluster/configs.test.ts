import { expect, test } from 'vitest';
import {
  cniConfig,
  containerdConfig,
  egressSelectorConfig,
  kubeletConfig,
  kubeProxyConfig,
  nodePaths,
  type NodeLayout,
} from './configs.js';

const dir = '/tmp/tsmesh-cluster-abc';
const layout: NodeLayout = {
  dir,
  nodeName: 'tsmesh-node',
  nodeIp: '198.18.255.1',
  podSubnet: '198.18.0.0/24',
  podGateway: '198.18.0.1',
  clusterCidr: '198.18.0.0/16',
  clusterDns: '198.19.0.10',
  cniNetwork: 'tsmesh-node-0a1b2c3d',
  cgroupRoot: '/tsmesh-node-0a1b2c3d',
  pauseImage: 'tsmesh.local/pause:3.10',
};
const paths = nodePaths(dir);

test('every node path lives under the cluster directory; sockets stay under the 107-byte limit', () => {
  for (const p of Object.values(paths)) expect(p.startsWith(`${dir}/`)).toBe(true);
  expect(paths.containerdSocket.length).toBeLessThan(100);
});

test('containerd: own root/state/socket, runc state under the dir, cgroupfs, no OOM score below its own', () => {
  const toml = containerdConfig(layout, paths);
  expect(toml).toContain(`root = "${dir}/containerd/root"`);
  expect(toml).toContain(`address = "${dir}/run/containerd.sock"`);
  expect(toml).toContain(`Root = "${dir}/containerd/runc"`);
  expect(toml).toContain('SystemdCgroup = false');
  expect(toml).toContain('restrict_oom_score_adj = true');
  expect(toml).toContain('netns_mounts_under_state_dir = true');
  expect(toml).toContain('sandbox_image = "tsmesh.local/pause:3.10"');
  expect(toml).toContain(`conf_dir = "${dir}/cni/net.d"`);
});

test('CNI: bridge + host-local in the node subnet with IPAM state under the dir, no masquerade', () => {
  const conf = JSON.parse(cniConfig(layout, paths)) as {
    name: string;
    plugins: { type: string; ipMasq?: boolean; ipam?: { ranges: { subnet: string }[][]; dataDir: string } }[];
  };
  expect(conf.name).toBe('tsmesh-node-0a1b2c3d');
  const bridge = conf.plugins.find((p) => p.type === 'bridge')!;
  expect(bridge.ipMasq).toBe(false);
  expect(bridge.ipam?.ranges[0]?.[0]?.subnet).toBe('198.18.0.0/24');
  expect(bridge.ipam?.dataDir).toBe(`${dir}/cni/ipam`);
});

test('kubelet: cgroupfs, cgroup v1 allowed, own cgroup root, cluster DNS only, no image GC', () => {
  const conf = JSON.parse(
    kubeletConfig(layout, paths, {
      clientCaFile: 'ca.crt',
      tlsCertFile: 'k.crt',
      tlsPrivateKeyFile: 'k.key',
    }),
  ) as Record<string, unknown>;
  expect(conf).toMatchObject({
    cgroupDriver: 'cgroupfs',
    failCgroupV1: false,
    cgroupRoot: '/tsmesh-node-0a1b2c3d',
    clusterDNS: ['198.19.0.10'],
    resolvConf: '',
    address: '198.18.255.1',
    readOnlyPort: 0,
    imageGCHighThresholdPercent: 100,
    containerRuntimeEndpoint: `unix://${dir}/run/containerd.sock`,
    authentication: { anonymous: { enabled: false } },
    authorization: { mode: 'Webhook' },
  });
});

test('kube-proxy: iptables mode, cluster CIDR, conntrack sysctls untouched, NodePorts on the node IP only', () => {
  const conf = JSON.parse(kubeProxyConfig(layout, '/k')) as Record<string, unknown>;
  expect(conf).toMatchObject({
    mode: 'iptables',
    clusterCIDR: '198.18.0.0/16',
    nodePortAddresses: ['198.18.255.1/32'],
    conntrack: { maxPerCore: 0, min: 0 },
  });
});

test('egress selector: cluster traffic over HTTP CONNECT on the unix socket', () => {
  expect(JSON.parse(egressSelectorConfig(paths))).toMatchObject({
    kind: 'EgressSelectorConfiguration',
    egressSelections: [
      {
        name: 'cluster',
        connection: {
          proxyProtocol: 'HTTPConnect',
          transport: { uds: { udsName: `${dir}/run/egress.sock` } },
        },
      },
    ],
  });
});
