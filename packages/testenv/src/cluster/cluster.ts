import { randomBytes } from 'node:crypto';
import { access, mkdir, mkdtemp, readFile, readdir, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ensureBinaries, packageScriptsDir, type Binaries } from '../binaries.js';
import { findFreePort } from '../free-port.js';
import { probe } from '../http-probe.js';
import { writeKubeconfig } from '../kubeconfig.js';
import { ManagedProcess, sleep, stopPid, tailFile } from '../managed-process.js';
import { issueCertificate } from '../pki.js';
import { readStateFile } from '../state-file.js';
import { startTestEnv, stopTestEnvInDir, type TestEnv } from '../test-env.js';
import { TestEnvError } from '../test-env-error.js';
import { Watchdog } from '../watchdog.js';
import {
  cniConfig,
  containerdConfig,
  egressSelectorConfig,
  kubeletConfig,
  kubeProxyConfig,
  nodePaths,
  type NodeLayout,
} from './configs.js';
import {
  addressingConflict,
  clusterAddressing,
  type ClusterAddressing,
  type ClusterAddressingName,
} from './addressing.js';
import { corednsManifests } from './coredns.js';
import {
  connectNodeNetworks,
  createCgroupRoot,
  createNodeNetwork,
  disconnectNodeNetworks,
  deleteNodeNetwork,
  inNetns,
  pidsWithCommandLine,
  removeCgroupRoot,
  removeCniCache,
  removeContainerLogLinks,
  unmountBelow,
} from './host.js';
import { ensureClusterImages, importImages, type ClusterImages } from './images.js';
import { runCommand, type CommandResult, type RunCommandOptions } from './run-command.js';

export const DEFAULT_NODE_NAME = 'tsmesh-node';

/** Debian packages the node needs, by the command that proves each is installed. */
export const CLUSTER_HOST_COMMANDS: Readonly<Record<string, string>> = Object.freeze({
  containerd: 'containerd',
  'containerd-shim-runc-v2': 'containerd',
  ctr: 'containerd',
  runc: 'runc',
  socat: 'socat',
  nsenter: 'util-linux',
  flock: 'util-linux',
  ip: 'iproute2',
  iptables: 'iptables',
  conntrack: 'conntrack',
  gcc: 'gcc',
});
const CNI_PLUGINS = ['bridge', 'host-local', 'loopback', 'portmap'];

export interface StartClusterOptions {
  /** Default: a fresh directory under the OS temp dir, removed by `stop()`. */
  dir?: string;
  signal?: AbortSignal;
  /** Processes outlive this Node process (the CLI's `up --cluster`). Default false (watchdog). */
  detached?: boolean;
  /** Per wait (each component's readiness). Default 120 000. */
  startTimeoutMs?: number;
  nodeName?: string;
  /** Deploy CoreDNS (default true). */
  dns?: boolean;
  /**
   * The address plan (default `default`: pods 198.18.0.0/16, Services 198.19.0.0/16, node
   * 198.18.255.1). `east` and `west` are disjoint halves, for two clusters connected with
   * {@link connectClusterNodes}.
   */
  addressing?: ClusterAddressingName;
  onLog?: (line: string) => void;
}

/** How long each phase of `startCluster` took, in milliseconds. */
export interface ClusterTimings {
  binariesMs: number;
  imagesMs: number;
  controlPlaneMs: number;
  nodeNetworkMs: number;
  containerdMs: number;
  imageImportMs: number;
  /** kubelet start to Node Ready. */
  nodeReadyMs: number;
  /** kube-proxy start to its rules for the `kubernetes` Service. */
  kubeProxyMs: number;
  /** CoreDNS applied to its Deployment available. */
  dnsMs: number;
  totalMs: number;
}

export type ClusterProcessName =
  | 'apiserver-relay-host'
  | 'apiserver-relay-node'
  | 'egress-proxy'
  | 'containerd'
  | 'kubelet'
  | 'kube-proxy'
  | 'kube-scheduler';

/** What `D/cluster.json` records, so that `testenv down` removes exactly what `up --cluster` made. */
export interface ClusterState {
  readonly version: 1;
  readonly dir: string;
  readonly createdDir: boolean;
  readonly controlPlaneDir: string;
  readonly kubeconfigPath: string;
  readonly netns: string;
  readonly cgroupRoot: string;
  readonly cniNetwork: string;
  readonly containerdSocket: string;
  readonly nodeName: string;
  /** The address plan's name (absent in files written before plans existed: `default`). */
  readonly addressing?: ClusterAddressingName;
  readonly pids: Partial<Record<ClusterProcessName, number>>;
  readonly startedAt: string;
}

export const CLUSTER_STATE_FILE = 'cluster.json';

/** A running one-node cluster. Dispose it (`await using`) or call `stop()`. */
export interface Cluster extends AsyncDisposable {
  readonly dir: string;
  /** Admin kubeconfig (`O=system:masters`), server `https://127.0.0.1:<port>`. */
  readonly kubeconfigPath: string;
  readonly server: string;
  readonly controlPlane: TestEnv;
  readonly binaries: Binaries;
  readonly images: ClusterImages;
  readonly nodeName: string;
  readonly nodeIp: string;
  /** Where its pod, Service, node and DNS addresses come from. */
  readonly addressing: ClusterAddressing;
  /** The node's network namespace (`ip netns` name): pods, Services and the node IP are reachable only in it. */
  readonly netns: string;
  readonly timings: ClusterTimings;
  readonly pids: Readonly<Partial<Record<ClusterProcessName, number>>>;
  readonly logsDir: string;
  /** Runs a command in the node's network namespace (e.g. `curl` to a ClusterIP). */
  execInNode(command: string, args: readonly string[], options?: RunCommandOptions): Promise<CommandResult>;
  /** Imports OCI image archives into the node's containerd (`k8s.io` namespace); pods then use them without a pull. */
  importImages(archives: readonly string[]): Promise<void>;
  /** Runs the cluster's kubectl with the admin kubeconfig. */
  kubectl(args: readonly string[], options?: RunCommandOptions): Promise<CommandResult>;
  /** Stops everything and removes its state, containers, mounts, cgroups and network namespace. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts a one-node Kubernetes cluster: the control plane of {@link startTestEnv} on 127.0.0.1
 * (apiserver with the Node authorizer and an egress selector into the node), kube-scheduler, and a
 * node in a network namespace of its own — containerd + runc + CNI bridge, kubelet, kube-proxy
 * (iptables), CoreDNS — with the pause, node-base and CoreDNS images imported. Needs root.
 */
export async function startCluster(options: StartClusterOptions = {}): Promise<Cluster> {
  const t0 = performance.now();
  const log = options.onLog ?? (() => {});
  const { signal } = options;
  const detached = options.detached ?? false;
  const timeoutMs = options.startTimeoutMs ?? 120_000;
  const nodeName = options.nodeName ?? DEFAULT_NODE_NAME;
  const addressing = clusterAddressing(options.addressing);
  const { nodeIp } = addressing;
  await checkHost();

  let dir: string;
  let createdDir: boolean;
  if (options.dir === undefined) {
    dir = await mkdtemp(join(tmpdir(), 'tsmesh-cluster-'));
    createdDir = true;
  } else {
    dir = resolve(options.dir);
    createdDir = !(await exists(dir));
    if (!createdDir) {
      const previous = await readClusterState(dir);
      if (previous) {
        log(`testenv: removing the cluster previously recorded in ${dir}`);
        await teardown(previous, { stopControlPlane: () => stopTestEnvInDir(previous.controlPlaneDir) });
        createdDir = previous.createdDir;
      }
    }
  }
  const paths = nodePaths(dir);
  const logsDir = join(dir, 'logs');
  for (const d of [
    logsDir,
    paths.runDir,
    join(dir, 'node'),
    join(dir, 'containerd'),
    paths.cniConfDir,
    paths.cniIpamDir,
    paths.kubeletDir,
    paths.podLogsDir,
  ]) {
    await mkdir(d, { recursive: true });
  }

  const id = randomBytes(4).toString('hex');
  const pids: Partial<Record<ClusterProcessName, number>> = {};
  const processes: Partial<Record<ClusterProcessName, ManagedProcess>> = {};
  const watchdog = detached ? undefined : new Watchdog();
  const controlPlaneDir = join(dir, 'control-plane');
  const kubeconfigPath = join(dir, 'kubeconfig');
  const state: ClusterState = {
    version: 1,
    dir,
    createdDir,
    controlPlaneDir,
    kubeconfigPath,
    netns: `tsmesh-node-${id}`,
    cgroupRoot: `/tsmesh-node-${id}`,
    cniNetwork: `tsmesh-node-${id}`,
    containerdSocket: paths.containerdSocket,
    nodeName,
    addressing: addressing.name,
    pids,
    startedAt: new Date().toISOString(),
  };
  const saveState = async (): Promise<void> => {
    const path = join(dir, CLUSTER_STATE_FILE);
    await writeFile(`${path}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
    await rename(`${path}.tmp`, path);
  };
  const start = async (
    name: ClusterProcessName,
    command: string,
    args: readonly string[],
  ): Promise<ManagedProcess> => {
    const p = await ManagedProcess.start({
      name,
      command,
      args,
      logPath: join(logsDir, `${name}.log`),
      detached,
    });
    processes[name] = p;
    pids[name] = p.pid;
    watchdog?.add(p.pid);
    await saveState();
    return p;
  };
  // After teardown: the stopped PIDs are unregistered first, so that the watchdog, on close, never
  // signals a PID the kernel has meanwhile given to another process.
  const releaseWatchdog = (): void => {
    for (const pid of Object.values(pids)) watchdog?.remove(pid);
    watchdog?.close();
  };
  const waitFor = async (
    what: string,
    proc: ManagedProcess | undefined,
    check: () => Promise<boolean>,
    limitMs = timeoutMs,
  ): Promise<void> => {
    const deadline = Date.now() + limitMs;
    let last = '';
    for (;;) {
      if (signal?.aborted) throw new TestEnvError('ABORTED', `aborted while waiting for ${what}`);
      if (proc?.exit) {
        throw new TestEnvError(
          'PROCESS_EXITED',
          `${proc.name} exited (${proc.exit.code ?? proc.exit.signal}) while waiting for ${what}; ${proc.logPath}:\n${await proc.logTail(30)}`,
        );
      }
      try {
        if (await check()) return;
        last = 'not yet';
      } catch (err) {
        last = (err as Error).message;
      }
      if (Date.now() > deadline) {
        const tail = proc ? `; ${proc.logPath}:\n${await tailFile(proc.logPath, 30)}` : '';
        throw new TestEnvError('START_TIMEOUT', `${what}: not after ${limitMs} ms (${last})${tail}`);
      }
      await sleep(250, signal);
    }
  };

  const timings: ClusterTimings = {
    binariesMs: 0,
    imagesMs: 0,
    controlPlaneMs: 0,
    nodeNetworkMs: 0,
    containerdMs: 0,
    imageImportMs: 0,
    nodeReadyMs: 0,
    kubeProxyMs: 0,
    dnsMs: 0,
    totalMs: 0,
  };
  let controlPlane: TestEnv | undefined;
  let binaries: Binaries;
  let images: ClusterImages;
  try {
    await saveState();
    let t = performance.now();
    binaries = await ensureBinaries({
      components: ['kube', 'etcd', 'kubectl', 'node', 'coredns'],
      signal,
      onLog: log,
    });
    timings.binariesMs = performance.now() - t;

    t = performance.now();
    images = await ensureClusterImages({ cacheDir: binaries.cacheDir, corednsBinary: binaries.coredns });
    timings.imagesMs = performance.now() - t;

    const layout: NodeLayout = {
      dir,
      nodeName,
      nodeIp,
      podSubnet: addressing.nodePodSubnet,
      podGateway: addressing.nodePodGateway,
      clusterCidr: addressing.podCidr,
      clusterDns: addressing.dnsIp,
      cniNetwork: state.cniNetwork,
      cgroupRoot: state.cgroupRoot,
      pauseImage: images.pause.ref,
    };
    await writeFile(paths.egressSelectorConfig, egressSelectorConfig(paths));

    // Control plane on the host's loopback. The apiserver reaches the node through the egress proxy.
    t = performance.now();
    const cpPki = join(controlPlaneDir, 'pki');
    controlPlane = await startTestEnv({
      dir: controlPlaneDir,
      signal,
      detached,
      binaries,
      startTimeoutMs: timeoutMs,
      serviceClusterIpRange: addressing.serviceCidr,
      advertiseAddress: nodeIp,
      // Reached at the node IP too (the relay in the node's netns), e.g. by another cluster's service mirror.
      apiserverIpAddresses: [nodeIp],
      controllers: ['*'],
      authorizationModes: ['Node', 'RBAC'],
      apiserverArgs: [
        '--enable-admission-plugins=NodeRestriction',
        `--egress-selector-config-file=${paths.egressSelectorConfig}`,
        // The apiserver's client identity towards kubelets (system:masters) and the CA of their serving certificates.
        `--kubelet-client-certificate=${join(cpPki, 'admin.crt')}`,
        `--kubelet-client-key=${join(cpPki, 'admin.key')}`,
        `--kubelet-certificate-authority=${join(cpPki, 'ca.crt')}`,
        '--kubelet-preferred-address-types=InternalIP',
      ],
      controllerManagerArgs: [`--cluster-cidr=${addressing.podCidr}`],
      onLog: log,
    });
    timings.controlPlaneMs = performance.now() - t;
    const cp = controlPlane;
    const server = cp.server;
    const apiserverPort = Number(new URL(server).port);
    await writeKubeconfig({
      path: kubeconfigPath,
      server,
      caCertPath: cp.pki.ca.certPath,
      clientCertPath: cp.pki.admin.certPath,
      clientKeyPath: cp.pki.admin.keyPath,
    });
    const [caPem, adminCert, adminKey] = await Promise.all([
      readFile(cp.pki.ca.certPath),
      readFile(cp.pki.admin.certPath),
      readFile(cp.pki.admin.keyPath),
    ]);
    const getJson = async (path: string): Promise<unknown> => {
      const r = await probe(`${server}${path}`, { ca: caPem, cert: adminCert, key: adminKey });
      if (r.status !== 200) throw new Error(`GET ${path}: ${r.status}`);
      return JSON.parse(r.body) as unknown;
    };

    // Identities of the node components, from the cluster CA.
    const nodePki = join(dir, 'node', 'pki');
    const issue = (name: string, commonName: string, organizations: string[] = []) =>
      issueCertificate({ ca: cp.pki.ca, dir: nodePki, name, commonName, organizations, usage: 'client' });
    const [kubeletClient, kubeletServing, proxyClient, schedulerClient] = await Promise.all([
      issue('kubelet-client', `system:node:${nodeName}`, ['system:nodes']),
      issueCertificate({
        ca: cp.pki.ca,
        dir: nodePki,
        name: 'kubelet-serving',
        commonName: nodeName,
        usage: 'server',
        ipAddresses: [nodeIp],
        dnsNames: [nodeName],
      }),
      issue('kube-proxy-client', 'system:kube-proxy'),
      issue('kube-scheduler-client', 'system:kube-scheduler'),
    ]);
    const kubeconfigFor = async (name: string, cert: { certPath: string; keyPath: string }, user: string) => {
      const path = join(dir, 'node', `${name}.kubeconfig`);
      await writeKubeconfig({
        path,
        server,
        caCertPath: cp.pki.ca.certPath,
        clientCertPath: cert.certPath,
        clientKeyPath: cert.keyPath,
        userName: user,
      });
      return path;
    };
    const kubeletKubeconfig = await kubeconfigFor('kubelet', kubeletClient, `system:node:${nodeName}`);
    const proxyKubeconfig = await kubeconfigFor('kube-proxy', proxyClient, 'system:kube-proxy');
    const schedulerKubeconfig = await kubeconfigFor(
      'kube-scheduler',
      schedulerClient,
      'system:kube-scheduler',
    );

    // kube-scheduler on the host, like the rest of the control plane.
    const schedulerPort = await findFreePort();
    const scheduler = await start('kube-scheduler', binaries.kubeScheduler, [
      `--kubeconfig=${schedulerKubeconfig}`,
      `--authentication-kubeconfig=${schedulerKubeconfig}`,
      `--authorization-kubeconfig=${schedulerKubeconfig}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${schedulerPort}`,
      '--leader-elect=false',
      '--profiling=false',
      '--v=1',
    ]);

    // The node's network namespace, and the two bridges across it: the apiserver relayed into the
    // namespace (the node's components and pods connect to 127.0.0.1:<port> / the node IP), and the
    // egress proxy the apiserver dials out through.
    t = performance.now();
    await createNodeNetwork({ name: state.netns, nodeIp, serviceCidr: addressing.serviceCidr });
    await saveState();
    await createCgroupRoot(state.cgroupRoot);
    const relayHost = await start('apiserver-relay-host', 'socat', [
      `UNIX-LISTEN:${paths.apiserverRelaySocket},fork,unlink-early,mode=600`,
      `TCP:127.0.0.1:${apiserverPort}`,
    ]);
    const relayNode = await start(
      'apiserver-relay-node',
      ...inNetns(state.netns, 'socat', [
        `TCP-LISTEN:${apiserverPort},fork,reuseaddr`,
        `UNIX-CONNECT:${paths.apiserverRelaySocket}`,
      ]),
    );
    const egress = await start(
      'egress-proxy',
      ...inNetns(state.netns, process.execPath, [
        join(packageScriptsDir, 'egress-proxy.mjs'),
        paths.egressSocket,
        ...addressing.egressAllowed,
      ]),
    );
    await waitFor('the apiserver relay socket', relayHost, () => exists(paths.apiserverRelaySocket));
    await waitFor('the egress proxy socket', egress, () => exists(paths.egressSocket));
    if (relayNode.exit)
      throw new TestEnvError('PROCESS_EXITED', `apiserver relay exited: ${await relayNode.logTail()}`);
    timings.nodeNetworkMs = performance.now() - t;

    // containerd, then the images (the kubelet starts meanwhile).
    t = performance.now();
    await writeFile(paths.containerdConfig, containerdConfig(layout, paths));
    await writeFile(join(paths.cniConfDir, '10-tsmesh.conflist'), cniConfig(layout, paths));
    const containerd = await start(
      'containerd',
      ...inNetns(state.netns, 'containerd', ['--config', paths.containerdConfig]),
    );
    await waitFor('containerd', containerd, async () => {
      const r = await runCommand('ctr', ['--address', paths.containerdSocket, 'version'], {
        allowFailure: true,
        timeoutMs: 5_000,
      });
      return r.code === 0;
    });
    timings.containerdMs = performance.now() - t;
    t = performance.now();
    const imported = importImages(paths.containerdSocket, [
      images.pause.archive,
      images.nodeBase.archive,
      images.coredns.archive,
    ]).then(() => (timings.imageImportMs = performance.now() - t));

    const tKubelet = performance.now();
    await writeFile(
      paths.kubeletConfig,
      kubeletConfig(layout, paths, {
        clientCaFile: cp.pki.ca.certPath,
        tlsCertFile: kubeletServing.certPath,
        tlsPrivateKeyFile: kubeletServing.keyPath,
      }),
    );
    const kubelet = await start(
      'kubelet',
      ...inNetns(state.netns, binaries.kubelet, [
        `--config=${paths.kubeletConfig}`,
        `--kubeconfig=${kubeletKubeconfig}`,
        `--root-dir=${paths.kubeletDir}`,
        `--node-ip=${nodeIp}`,
        `--hostname-override=${nodeName}`,
        '--v=1',
      ]),
    );
    await writeFile(paths.kubeProxyConfig, kubeProxyConfig(layout, proxyKubeconfig));
    const tProxy = performance.now();
    const kubeProxy = await start(
      'kube-proxy',
      ...inNetns(state.netns, binaries.kubeProxy, [`--config=${paths.kubeProxyConfig}`, '--v=1']),
    );
    await imported;
    await waitFor(`Node ${nodeName} Ready`, kubelet, async () => {
      const node = (await getJson(`/api/v1/nodes/${nodeName}`)) as {
        status?: { conditions?: { type: string; status: string; message?: string }[] };
      };
      const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
      if (ready?.status !== 'True')
        throw new Error(`Ready=${ready?.status ?? 'unknown'}: ${ready?.message ?? ''}`);
      return true;
    });
    timings.nodeReadyMs = performance.now() - tKubelet;
    await waitFor('kube-proxy rules for the kubernetes Service', kubeProxy, async () => {
      const [cmd, args] = inNetns(state.netns, 'iptables', ['-w', '5', '-t', 'nat', '-S', 'KUBE-SERVICES']);
      const r = await runCommand(cmd, args, { allowFailure: true, timeoutMs: 10_000 });
      return r.code === 0 && r.stdout.includes('default/kubernetes:https');
    });
    timings.kubeProxyMs = performance.now() - tProxy;
    await waitFor('kube-scheduler /healthz', scheduler, async () => {
      const r = await probe(`https://127.0.0.1:${schedulerPort}/healthz`, { insecureSkipVerify: true });
      return r.status === 200;
    });

    if (options.dns ?? true) {
      t = performance.now();
      await runCommand(binaries.kubectl, ['--kubeconfig', kubeconfigPath, 'apply', '-f', '-'], {
        input: corednsManifests({ image: images.coredns.ref, clusterIp: addressing.dnsIp }),
      });
      await waitFor('CoreDNS Deployment available', undefined, async () => {
        const d = (await getJson('/apis/apps/v1/namespaces/kube-system/deployments/coredns')) as {
          status?: { availableReplicas?: number };
        };
        return (d.status?.availableReplicas ?? 0) >= 1;
      });
      timings.dnsMs = performance.now() - t;
    }
    timings.totalMs = performance.now() - t0;
    log(
      `testenv: cluster up in ${(timings.totalMs / 1000).toFixed(1)} s: node ${nodeName} Ready (${nodeIp}, netns ${state.netns})`,
    );
  } catch (err) {
    await teardown(state, {
      stopControlPlane: () => controlPlane?.stop() ?? stopTestEnvInDir(controlPlaneDir).then(() => {}),
      keepLogs: true,
    }).catch((cleanupErr: unknown) =>
      log(`testenv: cleanup after failed start: ${(cleanupErr as Error).message}`),
    );
    releaseWatchdog();
    const message = `cluster failed to start: ${(err as Error).message}\n(logs kept in ${logsDir})`;
    if (err instanceof TestEnvError) {
      err.message = message;
      throw err;
    }
    throw new TestEnvError('PROCESS_EXITED', message, { cause: err });
  }

  const cp = controlPlane;
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      signal?.removeEventListener('abort', onAbort);
      await teardown(state, { stopControlPlane: () => cp.stop() });
      releaseWatchdog();
    })();
    return stopped;
  };
  const onAbort = (): void => void stop().catch(() => {});
  signal?.addEventListener('abort', onAbort, { once: true });
  const bins = binaries;
  return {
    dir,
    kubeconfigPath,
    server: cp.server,
    controlPlane: cp,
    binaries: bins,
    images,
    nodeName,
    nodeIp,
    addressing,
    netns: state.netns,
    timings,
    pids: { ...pids },
    logsDir,
    execInNode: (command, args, runOptions) => {
      const [cmd, a] = inNetns(state.netns, command, args);
      return runCommand(cmd, a, runOptions);
    },
    importImages: (archives) => importImages(paths.containerdSocket, archives),
    kubectl: (args, runOptions) =>
      runCommand(bins.kubectl, ['--kubeconfig', kubeconfigPath, ...args], runOptions),
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

/** A link between two clusters' node network namespaces (see {@link connectClusterNodes}). */
export interface ClusterNodeLink extends AsyncDisposable {
  /** The veth end in each node's namespace, e.g. `{ 'tsmesh-node-1a2b3c4d': 'tsmc-5e6f7a8b' }`. */
  readonly interfaces: Readonly<Record<string, string>>;
  /** Removes the veth pair. Idempotent; stopping either cluster removes it too. */
  close(): Promise<void>;
}

/**
 * Connects two running clusters' nodes, as two machines on one network: a veth pair between their
 * node network namespaces, over which each node reaches the other's node IP (NodePorts, external
 * IPs, the apiserver relay) and the other's pods answer back. Only those two namespaces change. The
 * clusters need disjoint address plans (`addressing: 'east'` and `'west'`).
 */
export async function connectClusterNodes(a: Cluster, b: Cluster): Promise<ClusterNodeLink> {
  const conflict = addressingConflict(a.addressing, b.addressing);
  if (conflict) {
    throw new TestEnvError(
      'INVALID_ARGUMENT',
      `clusters ${a.dir} and ${b.dir} cannot be connected: ${conflict}; start them with addressing 'east' and 'west'`,
    );
  }
  // Each end is named after the namespace it leads to: `tsmc-<other's id>` (15 characters at most).
  const end = (self: Cluster, other: Cluster) => ({
    netns: self.netns,
    interfaceName: `tsmc-${other.netns.slice('tsmesh-node-'.length)}`.slice(0, 15),
    nodeIp: self.nodeIp,
    podCidr: self.addressing.podCidr,
  });
  const endA = end(a, b);
  const endB = end(b, a);
  try {
    await connectNodeNetworks(endA, endB);
  } catch (err) {
    await disconnectNodeNetworks(endA).catch(() => {});
    throw err;
  }
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => (closed ??= disconnectNodeNetworks(endA));
  return {
    interfaces: { [endA.netns]: endA.interfaceName, [endB.netns]: endB.interfaceName },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/**
 * What `testenv down` does for a cluster directory: stops the recorded processes (by PID, checking
 * their command line still mentions the directory), kills the pods' processes (the cluster's own
 * cgroup tree) and containerd's shims, unmounts, deletes the network namespace (its iptables rules
 * go with it), removes the cgroups, libcni cache entries and the directory. Returns false if `dir`
 * holds no cluster.
 */
export async function stopClusterInDir(dir: string): Promise<boolean> {
  const state = await readClusterState(resolve(dir));
  if (!state) return false;
  await teardown(state, { stopControlPlane: () => stopTestEnvInDir(state.controlPlaneDir).then(() => {}) });
  return true;
}

export function readClusterState(dir: string): Promise<ClusterState | undefined> {
  return readStateFile(
    join(dir, CLUSTER_STATE_FILE),
    'cluster state file',
    (s: ClusterState) => s.version === 1 && typeof s.netns === 'string' && s.netns.startsWith('tsmesh-node-'),
  );
}

async function teardown(
  state: ClusterState,
  options: { stopControlPlane: () => Promise<unknown>; keepLogs?: boolean },
): Promise<void> {
  const marker = state.dir;
  const errors: string[] = [];
  const step = async (what: string, fn: () => Promise<unknown>): Promise<void> => {
    try {
      await fn();
    } catch (err) {
      errors.push(`${what}: ${(err as Error).message}`);
    }
  };
  const stopNamed = (name: ClusterProcessName, graceMs = 10_000) =>
    step(`stop ${name}`, async () => {
      const pid = state.pids[name];
      if (pid !== undefined) await stopPid(pid, marker, graceMs);
    });
  await stopNamed('kube-scheduler');
  await stopNamed('kube-proxy');
  await stopNamed('kubelet');
  // The pods' processes: everything in the cluster's cgroup tree (runc put them there).
  await step('kill pod processes', () => removeCgroupRoot(state.cgroupRoot));
  await stopNamed('containerd');
  // containerd leaves its shims running by design; they carry our socket path on their command line.
  await step('stop containerd shims', async () => {
    for (const pid of await pidsWithCommandLine(`-address ${state.containerdSocket}`)) {
      await stopPid(pid, state.containerdSocket, 3_000);
    }
  });
  await stopNamed('egress-proxy', 3_000);
  await stopNamed('apiserver-relay-node', 3_000);
  await stopNamed('apiserver-relay-host', 3_000);
  await step('stop the control plane', options.stopControlPlane);
  await step('unmount', () => unmountBelow(state.dir));
  await step('delete the network namespace', () => deleteNodeNetwork(state.netns));
  await step('remove cgroups', () => removeCgroupRoot(state.cgroupRoot));
  await step('remove CNI cache', async () => {
    const sandboxes = join(nodePaths(state.dir).containerdRoot, 'io.containerd.grpc.v1.cri', 'sandboxes');
    const ids = await readdir(sandboxes).catch(() => [] as string[]);
    await removeCniCache(state.cniNetwork, ids);
  });
  await step('remove /var/log/containers links', () => removeContainerLogLinks(state.dir));
  if (process.env.TSMESH_TESTENV_KEEP !== '1') {
    await step('remove files', async () => {
      const keep = options.keepLogs ? ['logs'] : [];
      for (const entry of await readdir(state.dir)) {
        if (!keep.includes(entry)) await rm(join(state.dir, entry), { recursive: true, force: true });
      }
      if (state.createdDir && !options.keepLogs) await rmdir(state.dir).catch(() => {});
    });
  }
  if (errors.length > 0) {
    throw new TestEnvError('PROCESS_EXITED', `cluster teardown incomplete:\n  ${errors.join('\n  ')}`);
  }
}

async function checkHost(): Promise<void> {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new TestEnvError(
      'HOST_UNSUPPORTED',
      'a cluster needs root (network namespaces, cgroups, mounts, containerd); run as root',
    );
  }
  const missing = new Set<string>();
  for (const [command, pkg] of Object.entries(CLUSTER_HOST_COMMANDS)) {
    const r = await runCommand('sh', ['-c', `command -v ${command}`], { allowFailure: true });
    if (r.code !== 0) missing.add(pkg);
  }
  for (const plugin of CNI_PLUGINS) {
    if (!(await exists(`/usr/lib/cni/${plugin}`))) missing.add('containernetworking-plugins');
  }
  if (missing.size > 0) {
    throw new TestEnvError(
      'HOST_UNSUPPORTED',
      `a cluster needs these Debian packages: apt-get install ${[...missing].join(' ')}`,
    );
  }
}

/** Why a cluster cannot start on this host (not root, packages missing), or undefined if it can. */
export async function clusterUnsupportedReason(): Promise<string | undefined> {
  try {
    await checkHost();
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
