// The network of transparent mode (`tsmesh run --netns`, root): every workload gets a network
// namespace of its own, like a pod, joined by a veth pair to a bridge in a shared hub namespace.
//
//   host netns                 tsmesh-hub netns                 tsmesh-p-<pod> netns
//   tsmesh-host 198.19.250.1 ── tsmesh-up ─┐
//                                          tsmesh0 (bridge) ── tsmh-<id> ══ eth0 198.19.250.N/24
//
// Pods reach each other over the bridge (L2, nothing forwarded by the host, no host sysctl or
// firewall touched) and the control plane at the host end, 198.19.250.1 — the only host address.
// Everything is created with `ip`, is idempotent where shared, and is removed again: a pod's
// namespace (with its veth and its iptables rules) when it ends, the hub with the last pod. Each
// pod namespace records its owner's pid, so the namespaces of a crashed owner are swept.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MeshError, MeshErrorCode } from '@tsmesh/core';
import { pidAlive } from './process-alive.js';

/** The pod subnet of transparent mode (inside 198.18.0.0/15, the benchmarking range). */
export const NETNS_SUBNET = Object.freeze({ prefix: '198.19.250', bits: 24 });
/** The host's address on the pod network: where pods reach the control plane. */
export const NETNS_HOST_ADDRESS = `${NETNS_SUBNET.prefix}.1`;
export const HUB_NETNS = 'tsmesh-hub';
const BRIDGE = 'tsmesh0';
const HOST_LINK = 'tsmesh-host';
const HUB_UPLINK = 'tsmesh-up';
const POD_NETNS_PREFIX = 'tsmesh-p-';
/** Owner pids of pod namespaces, and the lock serializing hub changes. */
const RUN_DIR = '/run/tsmesh/netns';

/** Whether a pod address belongs to the transparent-mode subnet. */
export const isNetnsPodAddress = (ip: string): boolean => {
  const m = new RegExp(`^${NETNS_SUBNET.prefix.replaceAll('.', '\\.')}\\.(\\d{1,3})$`).exec(ip);
  return m !== null && Number(m[1]) >= 2 && Number(m[1]) <= 254;
};

/** Runs a command; rejects with its stderr. */
export function exec(file: string, args: readonly string[], timeoutMs = 20_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, [...args], { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err)
        reject(
          new MeshError(
            MeshErrorCode.Internal,
            `${file} ${args.join(' ')}: ${(stderr || err.message).trim()}`,
            {
              cause: err,
            },
          ),
        );
      else resolve(stdout);
    });
  });
}

const ip = (...args: string[]) => exec('ip', args);
const exists = (err: unknown) => /File exists|already exists/i.test(String((err as Error).message));

/** What transparent mode needs: root, `ip netns` and iptables; the reason when something is missing. */
export async function transparentModeUnavailable(): Promise<string | undefined> {
  if (process.platform !== 'linux') return 'transparent mode needs Linux network namespaces';
  if (process.getuid?.() !== 0) return 'transparent mode needs root (network namespaces and iptables)';
  try {
    await exec('ip', ['netns', 'list']);
  } catch {
    return '`ip netns` (iproute2) is missing';
  }
  for (const bin of ['iptables-legacy', 'iptables-nft', 'iptables'])
    if (
      await exec(bin, ['--version']).then(
        () => true,
        () => false,
      )
    )
      return undefined;
  return 'iptables is missing';
}

/** A mutual exclusion between processes on this machine (mkdir is atomic); a dead holder's lock is taken over. */
async function withLock<T>(fn: () => Promise<T>): Promise<T> {
  mkdirSync(RUN_DIR, { recursive: true });
  const lock = join(RUN_DIR, '.lock');
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      break;
    } catch {
      let holder = NaN;
      try {
        holder = Number(readFileSync(join(lock, 'pid'), 'utf8'));
      } catch {
        // being created or removed
      }
      // A dead holder's lock, or one whose holder died between creating it and writing its pid.
      const age = Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (Number.isInteger(holder) && holder > 0 ? !pidAlive(holder) : age > 10_000)
        rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline)
        throw new MeshError(MeshErrorCode.Timeout, 'the transparent-mode network lock is held too long', {
          where: lock,
          hint: 'another tsmesh run --netns is setting up; if none is running, remove the directory',
        });
      await new Promise((r) => setTimeout(r, 25 + Math.random() * 50));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

async function listNetns(): Promise<string[]> {
  const out = await ip('netns', 'list');
  return out
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter(Boolean);
}

async function ensureHub(): Promise<void> {
  if (!(await listNetns()).includes(HUB_NETNS)) {
    await ip('netns', 'add', HUB_NETNS).catch((err: unknown) => {
      if (!exists(err)) throw err;
    });
  }
  const inHub = (...args: string[]) => ip('-n', HUB_NETNS, ...args);
  await inHub('link', 'add', BRIDGE, 'type', 'bridge').catch((err: unknown) => {
    if (!exists(err)) throw err;
  });
  await inHub('link', 'set', BRIDGE, 'up');
  await inHub('link', 'set', 'lo', 'up');
  const hostLink = await ip('link', 'show', HOST_LINK).then(
    () => true,
    () => false,
  );
  if (!hostLink) {
    await ip('link', 'add', HOST_LINK, 'type', 'veth', 'peer', 'name', HUB_UPLINK, 'netns', HUB_NETNS);
    await ip('addr', 'add', `${NETNS_HOST_ADDRESS}/${NETNS_SUBNET.bits}`, 'dev', HOST_LINK);
  }
  await inHub('link', 'set', HUB_UPLINK, 'master', BRIDGE);
  await inHub('link', 'set', HUB_UPLINK, 'up');
  await ip('link', 'set', HOST_LINK, 'up');
}

async function removeHubIfUnused(): Promise<void> {
  const left = (await listNetns()).filter((n) => n.startsWith(POD_NETNS_PREFIX));
  if (left.length > 0) return;
  await ip('link', 'del', HOST_LINK).catch(() => undefined);
  await ip('netns', 'del', HUB_NETNS).catch(() => undefined);
}

export interface PodNetwork {
  /** The pod's network namespace (`ip netns exec NAME …`). */
  readonly netns: string;
  readonly podIP: string;
  /** The pod end's peer in the hub (capture here to see the pod's traffic). */
  readonly hubVeth: string;
  /** Files `ip netns exec` shows the pod as /etc/FILE (hosts, resolv.conf). */
  readonly etcDir: string;
  /** Removes the namespace (its veth and iptables rules go with it), and the hub with the last pod. */
  close(): Promise<void>;
}

/** `tsmesh-p-<pod>` and `tsmh-<8 hex>` for a pod name. */
export function podNetworkNames(podName: string): { netns: string; hubVeth: string; podVeth: string } {
  const id = createHash('sha256').update(podName).digest('hex').slice(0, 8);
  return { netns: `${POD_NETNS_PREFIX}${podName}`, hubVeth: `tsmh-${id}`, podVeth: `tsmp-${id}` };
}

/** Where a pod's files live while it runs (its ServiceAccount token): removed with its namespace. */
export const podRunDir = (netns: string): string => join('/run/tsmesh/pods', netns);

async function removePodNamespace(netns: string): Promise<void> {
  await ip('netns', 'del', netns).catch(() => undefined);
  rmSync(join('/etc/netns', netns), { recursive: true, force: true });
  rmSync(podRunDir(netns), { recursive: true, force: true });
  rmSync(join(RUN_DIR, netns), { force: true });
}

/** Creates the pod's namespace, its veth pair into the hub and its address and routes. */
export async function createPodNetwork(podName: string, podIP: string): Promise<PodNetwork> {
  if (!isNetnsPodAddress(podIP))
    throw new MeshError(MeshErrorCode.InvalidArgument, `${podIP} is not a transparent-mode pod address`, {
      hint: `pod addresses are ${NETNS_SUBNET.prefix}.2-254`,
    });
  const { netns, hubVeth, podVeth } = podNetworkNames(podName);
  const etcDir = join('/etc/netns', netns);
  await withLock(async () => {
    await sweepStaleNamespaces();
    await ensureHub();
    // A leftover of the same name (an owner that died) goes first.
    if ((await listNetns()).includes(netns)) await removePodNamespace(netns);
    await ip('netns', 'add', netns);
    mkdirSync(RUN_DIR, { recursive: true });
    writeFileSync(join(RUN_DIR, netns), String(process.pid));
    try {
      await ip('link', 'add', hubVeth, 'type', 'veth', 'peer', 'name', podVeth, 'netns', netns);
      await ip('link', 'set', hubVeth, 'netns', HUB_NETNS);
      await ip('-n', HUB_NETNS, 'link', 'set', hubVeth, 'master', BRIDGE);
      await ip('-n', HUB_NETNS, 'link', 'set', hubVeth, 'up');
      const inPod = (...args: string[]) => ip('-n', netns, ...args);
      await inPod('link', 'set', podVeth, 'name', 'eth0');
      await inPod('addr', 'add', `${podIP}/${NETNS_SUBNET.bits}`, 'dev', 'eth0');
      await inPod('link', 'set', 'eth0', 'up');
      await inPod('link', 'set', 'lo', 'up');
      await inPod('route', 'add', 'default', 'via', NETNS_HOST_ADDRESS);
    } catch (err) {
      await removePodNamespace(netns);
      throw err;
    }
  });
  mkdirSync(etcDir, { recursive: true });
  let closed: Promise<void> | undefined;
  return {
    netns,
    podIP,
    hubVeth,
    etcDir,
    close() {
      closed ??= withLock(async () => {
        await removePodNamespace(netns);
        await removeHubIfUnused();
      });
      return closed;
    },
  };
}

/** Removes pod namespaces whose owner is gone (a crashed `tsmesh run --netns`), and an unused hub. */
async function sweepStaleNamespaces(): Promise<string[]> {
  const removed: string[] = [];
  for (const netns of await listNetns()) {
    if (!netns.startsWith(POD_NETNS_PREFIX)) continue;
    let owner = NaN;
    try {
      owner = Number(readFileSync(join(RUN_DIR, netns), 'utf8'));
    } catch {
      // no record: created by an owner that died before writing it
    }
    if (Number.isInteger(owner) && owner > 0 && pidAlive(owner)) continue;
    await removePodNamespace(netns);
    removed.push(netns);
  }
  return removed;
}

/**
 * `tsmesh down`-style cleanup: removes every transparent-mode namespace whose owner is gone (all of
 * them with `all`), and the hub when no pod is left. Returns the namespaces removed.
 */
export async function cleanupTransparentNetworks(options: { all?: boolean } = {}): Promise<string[]> {
  return withLock(async () => {
    const removed: string[] = [];
    if (options.all) {
      for (const netns of await listNetns())
        if (netns.startsWith(POD_NETNS_PREFIX)) {
          await removePodNamespace(netns);
          removed.push(netns);
        }
    } else removed.push(...(await sweepStaleNamespaces()));
    await removeHubIfUnused();
    return removed;
  });
}
