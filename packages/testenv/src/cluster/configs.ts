/*
 * The configuration files of a one-node cluster's node components, as pure functions of the
 * cluster's layout (unit-tested in configs.test.ts).
 */

export interface NodeLayout {
  /** Cluster directory (absolute). */
  readonly dir: string;
  readonly nodeName: string;
  readonly nodeIp: string;
  /** The pods' subnet on this node (host-local range), e.g. `198.18.0.0/24`. */
  readonly podSubnet: string;
  /** Its first address: the bridge's, the pods' default gateway. */
  readonly podGateway: string;
  /** All pod addresses of the cluster, e.g. `198.18.0.0/16` (kube-proxy's clusterCIDR). */
  readonly clusterCidr: string;
  readonly clusterDns: string;
  /** CNI network name; also names libcni's cache files (unique per cluster). */
  readonly cniNetwork: string;
  /** The kubelet's cgroupRoot (`/tsmesh-…`). */
  readonly cgroupRoot: string;
  readonly pauseImage: string;
}

export interface NodePaths {
  readonly containerdConfig: string;
  readonly containerdRoot: string;
  readonly containerdState: string;
  readonly containerdSocket: string;
  readonly runcRoot: string;
  readonly cniConfDir: string;
  readonly cniIpamDir: string;
  readonly kubeletDir: string;
  readonly kubeletConfig: string;
  readonly podLogsDir: string;
  readonly kubeProxyConfig: string;
  readonly runDir: string;
  readonly apiserverRelaySocket: string;
  readonly egressSocket: string;
  readonly egressSelectorConfig: string;
}

/** Where each node component keeps its files, all under the cluster directory. */
export function nodePaths(dir: string): NodePaths {
  const containerd = `${dir}/containerd`;
  // Unix socket paths are limited to 107 bytes; /run keeps them short even for long DIRs.
  const run = `${dir}/run`;
  return {
    containerdConfig: `${containerd}/config.toml`,
    containerdRoot: `${containerd}/root`,
    containerdState: `${containerd}/state`,
    containerdSocket: `${run}/containerd.sock`,
    runcRoot: `${containerd}/runc`,
    cniConfDir: `${dir}/cni/net.d`,
    cniIpamDir: `${dir}/cni/ipam`,
    kubeletDir: `${dir}/kubelet`,
    kubeletConfig: `${dir}/node/kubelet-config.json`,
    podLogsDir: `${dir}/pod-logs`,
    kubeProxyConfig: `${dir}/node/kube-proxy-config.json`,
    runDir: run,
    apiserverRelaySocket: `${run}/apiserver.sock`,
    egressSocket: `${run}/egress.sock`,
    egressSelectorConfig: `${dir}/node/egress-selector.json`,
  };
}

const q = (s: string): string => JSON.stringify(s);

/**
 * containerd 1.6 config (version 2): own root, state and socket; the CRI plugin with runc
 * (cgroupfs, runc state under the cluster dir), overlayfs, CNI from Debian's /usr/lib/cni, pod
 * netns mounts under the state dir, the streaming server on the namespace's loopback, no registry
 * (images are imported; pods use imagePullPolicy: Never).
 */
export function containerdConfig(layout: NodeLayout, paths: NodePaths): string {
  return `version = 2
root = ${q(paths.containerdRoot)}
state = ${q(paths.containerdState)}
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = ${q(paths.containerdSocket)}

[ttrpc]
  address = ${q(`${paths.containerdSocket}.ttrpc`)}

[metrics]
  address = ""

[debug]
  address = ""
  level = "info"

[plugins."io.containerd.internal.v1.opt"]
  path = ${q(`${paths.containerdRoot}/opt`)}

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = ${q(layout.pauseImage)}
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  netns_mounts_under_state_dir = true
  enable_selinux = false
  disable_apparmor = true
  # Never below containerd's own score: this host's root lacks CAP_SYS_RESOURCE, so runc's write of
  # the sandbox's -998 fails ("nsexec: failed to update /proc/self/oom_score_adj: Permission denied").
  restrict_oom_score_adj = true
  tolerate_missing_hugetlb_controller = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = ${q(paths.runcRoot)}
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = ${q(paths.cniConfDir)}
    max_conf_num = 1
`;
}

/** CNI: a bridge with host-local addresses from the node's pod subnet (loopback is containerd's own). */
export function cniConfig(layout: NodeLayout, paths: NodePaths): string {
  return `${JSON.stringify(
    {
      cniVersion: '0.4.0',
      name: layout.cniNetwork,
      plugins: [
        {
          type: 'bridge',
          bridge: 'cni0',
          isGateway: true,
          // Nothing to masquerade for: the namespace has no way out.
          ipMasq: false,
          // A pod reaching itself through a Service (kube-proxy DNAT back to the same port).
          hairpinMode: true,
          ipam: {
            type: 'host-local',
            ranges: [[{ subnet: layout.podSubnet, gateway: layout.podGateway }]],
            routes: [{ dst: '0.0.0.0/0' }],
            dataDir: paths.cniIpamDir,
          },
        },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    },
    null,
    2,
  )}\n`;
}

export interface KubeletConfigInput {
  readonly clientCaFile: string;
  readonly tlsCertFile: string;
  readonly tlsPrivateKeyFile: string;
}

/**
 * KubeletConfiguration (v1beta1). cgroup v1 hosts: Kubernetes 1.31+ keeps cgroup v1 in maintenance
 * mode and 1.35 makes the kubelet refuse it by default; `failCgroupV1: false` (1.34's default too)
 * states the choice. Image garbage collection is off (imported images cannot be pulled again),
 * evictions only at the last percent (the machine is shared), the API served on the node IP only
 * with client-certificate authentication and SubjectAccessReview authorization.
 */
export function kubeletConfig(layout: NodeLayout, paths: NodePaths, input: KubeletConfigInput): string {
  return `${JSON.stringify(
    {
      apiVersion: 'kubelet.config.k8s.io/v1beta1',
      kind: 'KubeletConfiguration',
      address: layout.nodeIp,
      port: 10250,
      readOnlyPort: 0,
      healthzBindAddress: '127.0.0.1',
      healthzPort: 10248,
      authentication: {
        anonymous: { enabled: false },
        webhook: { enabled: true },
        x509: { clientCAFile: input.clientCaFile },
      },
      authorization: { mode: 'Webhook' },
      tlsCertFile: input.tlsCertFile,
      tlsPrivateKeyFile: input.tlsPrivateKeyFile,
      rotateCertificates: false,
      serverTLSBootstrap: false,
      containerRuntimeEndpoint: `unix://${paths.containerdSocket}`,
      cgroupDriver: 'cgroupfs',
      cgroupRoot: layout.cgroupRoot,
      cgroupsPerQOS: true,
      failCgroupV1: false,
      failSwapOn: false,
      clusterDNS: [layout.clusterDns],
      clusterDomain: 'cluster.local',
      // Pods get only the cluster DNS; the host's resolvers are never handed out.
      resolvConf: '',
      podLogsDir: paths.podLogsDir,
      volumePluginDir: `${paths.kubeletDir}/volume-plugins`,
      imageGCHighThresholdPercent: 100,
      imageGCLowThresholdPercent: 99,
      evictionHard: {
        'memory.available': '100Mi',
        'nodefs.available': '1%',
        'nodefs.inodesFree': '1%',
        'imagefs.available': '1%',
      },
      // Restarts and readiness in tests should not wait for the 10 s default.
      nodeStatusReportFrequency: '10s',
      syncFrequency: '10s',
      fileCheckFrequency: '10s',
      serializeImagePulls: false,
      maxPods: 50,
      registerNode: true,
      enableServer: true,
      protectKernelDefaults: false,
      localStorageCapacityIsolation: true,
    },
    null,
    2,
  )}\n`;
}

/** KubeProxyConfiguration (v1alpha1), iptables mode, conntrack sysctls left alone (not settable in a netns). */
export function kubeProxyConfig(layout: NodeLayout, kubeconfigPath: string): string {
  return `${JSON.stringify(
    {
      apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
      kind: 'KubeProxyConfiguration',
      mode: 'iptables',
      clientConnection: { kubeconfig: kubeconfigPath },
      hostnameOverride: layout.nodeName,
      bindAddress: layout.nodeIp,
      healthzBindAddress: '127.0.0.1:10256',
      metricsBindAddress: '127.0.0.1:10249',
      clusterCIDR: layout.clusterCidr,
      detectLocalMode: 'ClusterCIDR',
      nodePortAddresses: [`${layout.nodeIp}/32`],
      iptables: { masqueradeAll: false, syncPeriod: '30s', minSyncPeriod: '0s', localhostNodePorts: false },
      conntrack: {
        maxPerCore: 0,
        min: 0,
        tcpEstablishedTimeout: '0s',
        tcpCloseWaitTimeout: '0s',
      },
    },
    null,
    2,
  )}\n`;
}

/**
 * kube-apiserver EgressSelectorConfiguration: "cluster" traffic (kubelets, webhooks, Services,
 * pods) goes through the HTTP CONNECT proxy on a unix socket, which runs in the node's network
 * namespace; the control plane and etcd stay direct.
 */
export function egressSelectorConfig(paths: NodePaths): string {
  return `${JSON.stringify(
    {
      apiVersion: 'apiserver.k8s.io/v1beta1',
      kind: 'EgressSelectorConfiguration',
      egressSelections: [
        {
          name: 'cluster',
          connection: { proxyProtocol: 'HTTPConnect', transport: { uds: { udsName: paths.egressSocket } } },
        },
      ],
    },
    null,
    2,
  )}\n`;
}
