/**
 * `testenv up --dir D [--cluster]` / `testenv down --dir D` / `testenv build [component…]` / `testenv env`
 */
import { parseArgs } from 'node:util';
import {
  BINARY_COMPONENTS,
  DEFAULT_BUILD_COMPONENTS,
  ensureBinaries,
  locateBinaries,
  type BinaryComponent,
} from './binaries.js';
import {
  clusterAddressing,
  readClusterState,
  startCluster,
  stopClusterInDir,
  type ClusterAddressingName,
} from './cluster/index.js';
import { startTestEnv, stopTestEnvInDir } from './test-env.js';
import { isTestEnvError, TestEnvError } from './test-env-error.js';

const USAGE = `usage:
  testenv up --dir DIR [--no-controller-manager] [--timeout-ms N]
      start etcd, kube-apiserver and kube-controller-manager in the background; writes DIR/kubeconfig
  testenv up --cluster --dir DIR [--no-dns] [--addressing default|east|west] [--timeout-ms N]
      a one-node cluster (root): the control plane plus kube-scheduler, and a node in its own network
      namespace (containerd, runc, CNI bridge, kubelet, kube-proxy, CoreDNS); writes DIR/kubeconfig.
      --addressing east / west: disjoint addresses, for two clusters at once (default: the single plan)
  testenv down --dir DIR
      stop exactly the processes 'up' recorded in DIR and remove its files (for a cluster also its
      containers, mounts, cgroups and network namespace)
  testenv build [kube] [etcd] [helm] [kubectl] [node] [coredns]
      build missing binaries into the cache (default: kube etcd helm kubectl)
  testenv env
      print the pinned versions and binary paths`;

export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      dir: { type: 'string' },
      'no-controller-manager': { type: 'boolean', default: false },
      cluster: { type: 'boolean', default: false },
      'no-dns': { type: 'boolean', default: false },
      addressing: { type: 'string' },
      'timeout-ms': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help || command === undefined || command === 'help') {
    console.log(USAGE);
    return command === undefined ? 2 : 0;
  }
  const requireDir = (): string => {
    if (!values.dir)
      throw new TestEnvError('INVALID_ARGUMENT', `testenv ${command}: --dir is required\n${USAGE}`);
    return values.dir;
  };
  switch (command) {
    case 'up': {
      const timeout = values['timeout-ms'] === undefined ? undefined : Number(values['timeout-ms']);
      if (timeout !== undefined && !(timeout > 0))
        throw new TestEnvError('INVALID_ARGUMENT', '--timeout-ms must be a positive number');
      if (values.addressing !== undefined && !values.cluster)
        throw new TestEnvError('INVALID_ARGUMENT', `--addressing goes with --cluster\n${USAGE}`);
      if (values.cluster) {
        // Checked before anything starts: an unknown plan names the known ones.
        const addressing =
          values.addressing === undefined
            ? undefined
            : clusterAddressing(values.addressing as ClusterAddressingName).name;
        const cluster = await startCluster({
          ...(addressing ? { addressing } : {}),
          dir: requireDir(),
          detached: true,
          dns: !values['no-dns'],
          ...(timeout === undefined ? {} : { startTimeoutMs: timeout }),
          onLog: (line) => console.error(line),
        });
        console.error(
          `testenv: timings ${JSON.stringify(cluster.timings, (_k, v: unknown) => (typeof v === 'number' ? Math.round(v) : v))} ms; ` +
            `pids ${JSON.stringify({ ...cluster.controlPlane.pids, ...cluster.pids })}`,
        );
        console.error(
          `testenv: pods, Services and the node IP ${cluster.nodeIp} are reachable only inside: nsenter --net=/run/netns/${cluster.netns} …`,
        );
        console.log(`export KUBECONFIG=${cluster.kubeconfigPath}`);
        return 0;
      }
      const env = await startTestEnv({
        dir: requireDir(),
        detached: true,
        ...(values['no-controller-manager'] ? { controllers: false as const } : {}),
        ...(timeout === undefined ? {} : { startTimeoutMs: timeout }),
        onLog: (line) => console.error(line),
      });
      const t = env.timings;
      console.error(
        `testenv: up in ${(t.totalMs / 1000).toFixed(1)} s (pki ${ms(t.pkiMs)}, etcd ${ms(t.etcdMs)}, ` +
          `kube-apiserver ${ms(t.apiserverMs)}, kube-controller-manager ${ms(t.controllerManagerMs)}); ` +
          `pids ${JSON.stringify(env.pids)}`,
      );
      console.log(`export KUBECONFIG=${env.kubeconfigPath}`);
      return 0;
    }
    case 'down': {
      const dir = requireDir();
      const found = (await readClusterState(dir)) ? await stopClusterInDir(dir) : await stopTestEnvInDir(dir);
      console.error(
        found ? `testenv: stopped the environment in ${dir}` : `testenv: no environment recorded in ${dir}`,
      );
      return 0;
    }
    case 'build': {
      const components = (
        positionals.length > 0 ? positionals : DEFAULT_BUILD_COMPONENTS
      ) as BinaryComponent[];
      for (const c of components) {
        if (!BINARY_COMPONENTS.includes(c))
          throw new TestEnvError('INVALID_ARGUMENT', `unknown component ${c}\n${USAGE}`);
      }
      const b = await ensureBinaries({ components, onLog: (line) => console.error(line) });
      printBinaries(b);
      return 0;
    }
    case 'env': {
      printBinaries(await locateBinaries());
      return 0;
    }
    default:
      throw new TestEnvError('INVALID_ARGUMENT', `unknown command ${JSON.stringify(command)}\n${USAGE}`);
  }
}

function printBinaries(b: Awaited<ReturnType<typeof locateBinaries>>): void {
  console.log(
    JSON.stringify(
      {
        versions: b.versions,
        kubeApiserver: b.kubeApiserver,
        kubeControllerManager: b.kubeControllerManager,
        etcd: b.etcd,
        helm: b.helm,
        kubectl: b.kubectl,
        kubelet: b.kubelet,
        kubeScheduler: b.kubeScheduler,
        kubeProxy: b.kubeProxy,
        coredns: b.coredns,
        cacheDir: b.cacheDir,
      },
      null,
      2,
    ),
  );
}

function ms(value: number): string {
  return `${(value / 1000).toFixed(1)} s`;
}

export async function run(argv: readonly string[]): Promise<void> {
  try {
    process.exitCode = await main(argv);
  } catch (err) {
    console.error(isTestEnvError(err) ? `testenv: ${err.code}: ${err.message}` : err);
    process.exitCode = 1;
  }
}

// Entry point when run as the `testenv` binary (bin/testenv.js imports this file and calls run).
