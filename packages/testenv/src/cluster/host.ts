import { readdir, readFile, mkdir, rmdir, writeFile, rm, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { sleep } from '../managed-process.js';
import { TestEnvError } from '../test-env-error.js';
import { runCommand } from './run-command.js';

/*
 * What a cluster node changes on the host, each piece created here and removed by the matching
 * function: a network namespace (interfaces, routes and iptables rules all live inside it), a
 * cgroup per v1 hierarchy (the kubelet's cgroupRoot), mounts under the cluster directory
 * (containerd's rootfs and netns mounts, the kubelet's volumes), CNI cache files.
 */

const CGROUP_FS = '/sys/fs/cgroup';

/** `/run/netns/<name>`, as `ip netns add` creates it. */
export function netnsPath(name: string): string {
  return `/run/netns/${name}`;
}

/** The command prefix that runs a program in the node's network namespace only (same mount namespace). */
export function inNetns(name: string, command: string, args: readonly string[]): [string, string[]] {
  return ['nsenter', [`--net=${netnsPath(name)}`, '--', command, ...args]];
}

export interface NodeNetworkOptions {
  /** netns name, e.g. `tsmesh-1a2b3c4d`. */
  name: string;
  /** The node's InternalIP, on an interface inside the namespace (a /32). */
  nodeIp: string;
  /** Routed to the dummy interface so that processes in the namespace can reach ClusterIPs (kube-proxy DNATs them). */
  serviceCidr: string;
}

/**
 * Creates the node's network namespace: loopback up, an interface `tsmesh0` holding the node
 * IP, a route for the service CIDR, IP forwarding on. No interface connects it to the host: nothing
 * in it is reachable from outside, and nothing in it can reach any network.
 */
export async function createNodeNetwork(options: NodeNetworkOptions): Promise<void> {
  const { name } = options;
  await runCommand('ip', ['netns', 'add', name]);
  const ip = (...args: string[]) => runCommand('ip', ['-n', name, ...args]);
  await ip('link', 'set', 'lo', 'up');
  // A veth pair with both ends inside (this kernel has no dummy driver): tsmesh0 carries the node IP.
  await ip('link', 'add', 'tsmesh0', 'type', 'veth', 'peer', 'name', 'tsmesh1');
  await ip('addr', 'add', `${options.nodeIp}/32`, 'dev', 'tsmesh0');
  await ip('link', 'set', 'tsmesh1', 'up');
  await ip('link', 'set', 'tsmesh0', 'up');
  await ip('route', 'add', options.serviceCidr, 'dev', 'tsmesh0', 'src', options.nodeIp);
  // /proc/sys/net belongs to the writer's network namespace.
  const [cmd, args] = inNetns(name, 'sysctl', [
    '-q',
    '-w',
    'net.ipv4.ip_forward=1',
    'net.bridge.bridge-nf-call-iptables=1',
  ]);
  await runCommand(cmd, args);
}

/** Deletes the namespace (and with it its interfaces, routes and iptables rules). */
export async function deleteNodeNetwork(name: string): Promise<void> {
  const { code, stderr } = await runCommand('ip', ['netns', 'delete', name], { allowFailure: true });
  if (code !== 0 && !/No such file|not found|Invalid argument/i.test(stderr)) {
    throw new TestEnvError('PROCESS_EXITED', `ip netns delete ${name}: ${stderr.trim()}`);
  }
}

/**
 * The cgroup hierarchies mounted under /sys/fs/cgroup (or `['']` for a pure cgroup v2 host); on a
 * v1 host this includes a hybrid cgroup2 mount (`unified`), where runc creates directories too.
 */
async function cgroupHierarchies(): Promise<string[]> {
  try {
    await readFile(join(CGROUP_FS, 'cgroup.controllers'), 'utf8');
    return [''];
  } catch {
    // cgroup v1 (possibly with cgroup2 at /sys/fs/cgroup/unified, which the kubelet does not use in v1 mode)
  }
  const mountinfo = await readFile('/proc/self/mountinfo', 'utf8');
  const dirs: string[] = [];
  for (const line of mountinfo.split('\n')) {
    const [pre, post] = line.split(' - ');
    if (!pre || !post || !(post.startsWith('cgroup ') || post.startsWith('cgroup2 '))) continue;
    const mountPoint = pre.split(' ')[4];
    if (mountPoint?.startsWith(`${CGROUP_FS}/`)) dirs.push(mountPoint.slice(CGROUP_FS.length + 1));
  }
  return dirs;
}

/** Whether the host runs cgroup v1 (the kubelet then needs `failCgroupV1: false`). */
export async function isCgroupV1(): Promise<boolean> {
  const h = await cgroupHierarchies();
  return !(h.length === 1 && h[0] === '');
}

/**
 * Creates `<hierarchy>/<name>` in every hierarchy: the kubelet's cgroupRoot, so its pods live
 * in a tree of their own (two clusters on one host do not garbage-collect each other's pods).
 */
export async function createCgroupRoot(name: string): Promise<void> {
  for (const h of await cgroupHierarchies()) {
    const dir = join(CGROUP_FS, h, name);
    await mkdir(dir, { recursive: true });
    if (h === 'cpuset') {
      // A new v1 cpuset has no CPUs or memory nodes; inherit the parent's.
      for (const f of ['cpuset.cpus', 'cpuset.mems']) {
        const value = (await readFile(join(CGROUP_FS, h, f), 'utf8')).trim();
        await writeFile(join(dir, f), value);
      }
    }
  }
}

/** Every PID in the cgroup tree `name` (any hierarchy that has `cgroup.procs`). */
async function cgroupPids(name: string): Promise<number[]> {
  const pids = new Set<number>();
  const walk = async (dir: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    try {
      for (const p of (await readFile(join(dir, 'cgroup.procs'), 'utf8')).split('\n')) {
        if (p) pids.add(Number(p));
      }
    } catch {
      // gone meanwhile
    }
    for (const e of entries) if (e.isDirectory()) await walk(join(dir, e.name));
  };
  for (const h of await cgroupHierarchies()) await walk(join(CGROUP_FS, h, name));
  return [...pids];
}

/**
 * Kills (SIGKILL) every process in the cgroup tree — the pods' containers, started by this
 * cluster's runc — then removes the tree's directories bottom-up. Bounded: gives up after `timeoutMs`
 * and reports what is left.
 */
export async function removeCgroupRoot(name: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pids = await cgroupPids(name);
    if (pids.length === 0) break;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    if (Date.now() > deadline) {
      throw new TestEnvError(
        'PROCESS_EXITED',
        `processes ${pids.join(', ')} in cgroup ${name} survived SIGKILL for ${timeoutMs} ms`,
      );
    }
    await sleep(100);
  }
  const removeTree = async (dir: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) if (e.isDirectory()) await removeTree(join(dir, e.name));
    // A cgroup with a just-killed process can be busy for a moment.
    for (let i = 0; ; i++) {
      try {
        await rmdir(dir);
        return;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') return;
        if (i >= 50) throw err;
        await sleep(100);
      }
    }
  };
  for (const h of await cgroupHierarchies()) await removeTree(join(CGROUP_FS, h, name));
}

/** Unmounts everything mounted at or below `dir` (deepest first, lazily). */
export async function unmountBelow(dir: string): Promise<void> {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  for (let round = 0; round < 5; round++) {
    const mountinfo = await readFile('/proc/self/mountinfo', 'utf8');
    const points = mountinfo
      .split('\n')
      .map((l) => l.split(' ')[4])
      .filter((p): p is string => p !== undefined && (p === dir || p.startsWith(prefix)))
      // mountinfo escapes spaces etc. as octal; our paths have none.
      .sort((a, b) => b.length - a.length);
    if (points.length === 0) return;
    for (const p of points) await runCommand('umount', ['-l', p], { allowFailure: true });
  }
}

/** PIDs of live processes whose command line contains `marker` (e.g. containerd shims of our socket). */
export async function pidsWithCommandLine(marker: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).split('\0').join(' ');
      if (cmdline.includes(marker)) pids.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return pids.filter((p) => p !== process.pid);
}

/**
 * Removes libcni's cache entries in /var/lib/cni/results of a cluster: those of its CNI network
 * (`<network>-<sandbox>-eth0`) and containerd's loopback network for its pod sandboxes
 * (`cni-loopback-<sandbox>-lo`).
 */
export async function removeCniCache(network: string, sandboxIds: readonly string[]): Promise<void> {
  const dir = '/var/lib/cni/results';
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch {
    return;
  }
  const ours = (e: string): boolean =>
    e.startsWith(`${network}-`) || sandboxIds.some((id) => e === `cni-loopback-${id}-lo`);
  await Promise.all(entries.filter(ours).map((e) => rm(join(dir, e), { force: true })));
}

/** Removes the kubelet's `/var/log/containers` symlinks that point into `dir`. */
export async function removeContainerLogLinks(dir: string): Promise<void> {
  const linksDir = '/var/log/containers';
  let entries: string[];
  try {
    entries = await readdir(linksDir);
  } catch {
    return;
  }
  for (const e of entries) {
    try {
      if ((await readlink(join(linksDir, e))).startsWith(dir)) await rm(join(linksDir, e), { force: true });
    } catch {
      // not a link, or gone
    }
  }
}

/** One end of a link between two node network namespaces: the namespace and what it routes there. */
export interface NodeLinkEnd {
  /** netns name. */
  readonly netns: string;
  /** Name of the veth end inside this namespace (at most 15 characters). */
  readonly interfaceName: string;
  /** This node's IP (already on its tsmesh0): the source of what it sends over the link. */
  readonly nodeIp: string;
  /** This cluster's pod CIDR: the other end routes it here, through this node IP. */
  readonly podCidr: string;
}

/**
 * Connects two node network namespaces with a veth pair (one end in each, no address of its own:
 * the node IPs are the link's addresses) and routes, on each side, the other node's IP and the
 * other cluster's pod CIDR over it — and nothing else. Neither namespace gains a way to the host or
 * any real network. Deleting either namespace (or {@link disconnectNodeNetworks}) removes the pair.
 */
export async function connectNodeNetworks(a: NodeLinkEnd, b: NodeLinkEnd): Promise<void> {
  await runCommand('ip', [
    '-n',
    a.netns,
    'link',
    'add',
    a.interfaceName,
    'type',
    'veth',
    'peer',
    'name',
    b.interfaceName,
    'netns',
    b.netns,
  ]);
  for (const [self, other] of [
    [a, b],
    [b, a],
  ] as const) {
    const ip = (...args: string[]) => runCommand('ip', ['-n', self.netns, ...args]);
    await ip('link', 'set', self.interfaceName, 'up');
    await ip('route', 'add', `${other.nodeIp}/32`, 'dev', self.interfaceName, 'src', self.nodeIp);
    await ip('route', 'add', other.podCidr, 'via', other.nodeIp, 'dev', self.interfaceName, 'onlink');
  }
}

/** Removes the veth pair {@link connectNodeNetworks} made (a no-op when it or the namespace is gone). */
export async function disconnectNodeNetworks(
  end: Pick<NodeLinkEnd, 'netns' | 'interfaceName'>,
): Promise<void> {
  const { code, stderr } = await runCommand('ip', ['-n', end.netns, 'link', 'delete', end.interfaceName], {
    allowFailure: true,
  });
  if (
    code !== 0 &&
    !/Cannot find device|No such file|not found|Invalid argument|does not exist/i.test(stderr)
  ) {
    throw new TestEnvError(
      'PROCESS_EXITED',
      `ip -n ${end.netns} link delete ${end.interfaceName}: ${stderr.trim()}`,
    );
  }
}
