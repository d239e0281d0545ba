// Pods of local workloads. `tsmesh run` registers a workload; the registry gives it a loopback pod
// IP of its own (127.0.1.N, then 127.0.2.N, …) and builds the Pod a cluster would hold for an
// injected workload, so the controllers treat it exactly like a meshed pod.
import { randomBytes, randomUUID } from 'node:crypto';
import { accessSync, chmodSync, constants, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DefaultPort, MeshError, MeshErrorCode } from '@tsmesh/core';
import type { KubeObject } from '@tsmesh/kube';
import { pidAlive } from './process-alive.js';
import { isNetnsPodAddress, NETNS_HOST_ADDRESS, NETNS_SUBNET } from './netns-network.js';
import { CONTROL_PLANE_NAMESPACE } from './state-dir.js';

export interface WorkloadPort {
  readonly port: number;
  readonly name?: string;
  readonly protocol?: string;
}

export interface WorkloadRegistration {
  readonly workload: string;
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly ports: readonly WorkloadPort[];
  readonly labels?: Readonly<Record<string, string>>;
  /**
   * `loopback` (default, explicit mode): a 127.x.y.z address. `netns` (transparent mode): an
   * address of the transparent-mode pod subnet, for the workload's own network namespace.
   */
  readonly network?: 'loopback' | 'netns';
  /** Extra Pod annotations (e.g. config.linkerd.io/opaque-ports of the declared Workload). */
  readonly annotations?: Readonly<Record<string, string>>;
  /** Ask for this pod IP again (a workload re-registering after a control-plane restart). */
  readonly podIP?: string;
  readonly podName?: string;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** Checks a registration; throws a MeshError naming the field. */
export function validateRegistration(input: unknown): WorkloadRegistration {
  const r = (input ?? {}) as Record<string, unknown>;
  const bad = (field: string, hint: string) =>
    new MeshError(MeshErrorCode.InvalidArgument, `invalid ${field}`, { where: field, hint });
  for (const field of ['workload', 'namespace', 'serviceAccount'] as const) {
    if (typeof r[field] !== 'string' || !DNS_LABEL.test(r[field]))
      throw bad(field, 'a DNS label: lower-case letters, digits and -, at most 63 characters');
  }
  if (!Array.isArray(r.ports)) throw bad('ports', 'a list of {port, name?}');
  for (const [i, p] of (r.ports as Record<string, unknown>[]).entries()) {
    if (!Number.isInteger(p.port) || (p.port as number) < 1 || (p.port as number) > 65535)
      throw bad(`ports[${i}].port`, 'a port from 1 to 65535');
  }
  if (
    r.annotations !== undefined &&
    (typeof r.annotations !== 'object' ||
      r.annotations === null ||
      Object.values(r.annotations).some((v) => typeof v !== 'string'))
  )
    throw bad('annotations', 'a map of names to strings');
  if (r.network !== undefined && r.network !== 'loopback' && r.network !== 'netns')
    throw bad('network', 'loopback or netns');
  if (r.network === 'netns') {
    if (r.podIP !== undefined && (typeof r.podIP !== 'string' || !isNetnsPodAddress(r.podIP)))
      throw bad('podIP', `an address of ${NETNS_SUBNET.prefix}.0/${NETNS_SUBNET.bits}`);
  } else if (r.podIP !== undefined && (typeof r.podIP !== 'string' || !/^127\.\d+\.\d+\.\d+$/.test(r.podIP)))
    throw bad('podIP', 'a 127.x.y.z address');
  return r as unknown as WorkloadRegistration;
}

/** True if host:port can be bound now (nothing else, e.g. another local mesh, holds it). */
export function canBind(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * Pod addresses are claimed machine-wide with a file per address holding the claimer's pid
 * (created exclusively), so two local control planes never hand out the same address; a claim
 * whose process is gone is taken over.
 */
export function createAddressClaims(dir = claimsDir()) {
  mkdirSync(dir, { recursive: true });
  const held = new Set<string>();
  const fileOf = (ip: string) => join(dir, ip);
  const tryCreate = (ip: string) => {
    try {
      writeFileSync(fileOf(ip), String(process.pid), { flag: 'wx' });
      return true;
    } catch {
      return false;
    }
  };
  return {
    claim(ip: string): boolean {
      if (held.has(ip)) return true;
      if (!tryCreate(ip)) {
        let owner = NaN;
        try {
          owner = Number(readFileSync(fileOf(ip), 'utf8'));
        } catch {
          // released meanwhile
        }
        if (Number.isInteger(owner) && owner !== process.pid && pidAlive(owner)) return false;
        rmSync(fileOf(ip), { force: true });
        if (!tryCreate(ip)) return false;
      }
      held.add(ip);
      return true;
    },
    release(ip: string): void {
      if (held.delete(ip)) rmSync(fileOf(ip), { force: true });
    },
    releaseAll(): void {
      for (const ip of [...held]) this.release(ip);
    },
  };
}

/**
 * The shared claims directory, world-writable and sticky like /tmp so every user's local mesh
 * coordinates; a per-user one when the shared one cannot be written.
 */
function claimsDir(): string {
  const shared = join(tmpdir(), 'tsmesh-pod-addresses');
  try {
    mkdirSync(shared, { recursive: true });
    try {
      chmodSync(shared, 0o1777);
    } catch {
      // someone else's: fine if it is writable
    }
    accessSync(shared, constants.W_OK);
    return shared;
  } catch {
    return join(tmpdir(), `tsmesh-pod-addresses-${process.getuid?.() ?? 'user'}`);
  }
}

export type AddressClaims = ReturnType<typeof createAddressClaims>;

export interface PodRegistryOptions {
  /** First address handed out; default 127.0.1.1. */
  readonly firstAddress?: string;
  readonly probe?: (host: string, port: number) => Promise<boolean>;
  /** Machine-wide address claims; default files in the temporary directory. */
  readonly claims?: AddressClaims;
}

export class PodRegistry {
  readonly #pods = new Map<string, KubeObject>();
  readonly #ips = new Set<string>();
  readonly #first: number;
  readonly #probe: (host: string, port: number) => Promise<boolean>;
  readonly #claims: AddressClaims;
  #onChange: (() => void) | undefined;

  constructor(options: PodRegistryOptions = {}) {
    this.#first = ipToNumber(options.firstAddress ?? '127.0.1.1');
    this.#probe = options.probe ?? canBind;
    this.#claims = options.claims ?? createAddressClaims();
  }

  /** Gives up every address this registry holds (the control plane stops). */
  close(): void {
    this.#claims.releaseAll();
  }

  onChange(listener: () => void): void {
    this.#onChange = listener;
  }

  pods(): KubeObject[] {
    return [...this.#pods.values()];
  }

  /** A transparent-mode address: nothing binds it on the host, so the claim alone decides. */
  #allocateNetns(hint: string | undefined): string {
    if (hint && !this.#ips.has(hint) && this.#claims.claim(hint)) return hint;
    for (let last = 2; last <= 254; last++) {
      const ip = `${NETNS_SUBNET.prefix}.${last}`;
      if (!this.#ips.has(ip) && this.#claims.claim(ip)) return ip;
    }
    throw new MeshError(MeshErrorCode.Unavailable, 'no free transparent-mode pod address', {
      hint: 'stop some workloads run with --netns',
    });
  }

  async #allocate(hint: string | undefined, ports: readonly WorkloadPort[]): Promise<string> {
    const free = async (ip: string) =>
      !this.#ips.has(ip) &&
      (await this.#probe(ip, DefaultPort.Inbound)) &&
      (await Promise.all(ports.map((p) => this.#probe(ip, p.port)))).every(Boolean);
    // A workload registering again (control-plane restart) holds its address itself: its proxy is
    // listening there, so no bind probe — only no other registered pod may have it.
    if (hint && !this.#ips.has(hint) && this.#claims.claim(hint)) return hint;
    // 127.0.1.1 … 127.0.1.254, 127.0.2.1 …: never .0 or .255 in the last octet.
    for (let n = this.#first; n < ipToNumber('127.255.255.0'); n++) {
      const last = n & 0xff;
      if (last === 0 || last === 255) continue;
      const ip = numberToIp(n);
      if (this.#ips.has(ip) || !this.#claims.claim(ip)) continue;
      if (await free(ip)) return ip;
      this.#claims.release(ip);
    }
    throw new MeshError(MeshErrorCode.Unavailable, 'no free loopback pod address', {
      hint: 'stop some local workloads',
    });
  }

  /** Registers a workload instance; returns its Pod. */
  async register(reg: WorkloadRegistration): Promise<KubeObject> {
    const podIP =
      reg.network === 'netns' ? this.#allocateNetns(reg.podIP) : await this.#allocate(reg.podIP, reg.ports);
    this.#ips.add(podIP);
    const name =
      reg.podName && !this.#pods.has(`${reg.namespace}/${reg.podName}`)
        ? reg.podName
        : `${reg.workload}-${randomBytes(4).toString('hex').slice(0, 5)}`;
    const pod = buildPod({ ...reg, podIP, podName: name });
    this.#pods.set(`${reg.namespace}/${name}`, pod);
    this.#onChange?.();
    return pod;
  }

  remove(namespace: string, name: string): void {
    const pod = this.#pods.get(`${namespace}/${name}`);
    if (!pod) return;
    this.#pods.delete(`${namespace}/${name}`);
    const ip = (pod.status as { podIP: string }).podIP;
    this.#ips.delete(ip);
    this.#claims.release(ip);
    this.#onChange?.();
  }
}

/** The Pod a cluster would hold for this workload after Linkerd's injector ran. */
export function buildPod(reg: WorkloadRegistration & { podIP: string; podName: string }): KubeObject {
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const ports = reg.ports.map((p) => ({
    containerPort: p.port,
    protocol: p.protocol ?? 'TCP',
    ...(p.name ? { name: p.name } : {}),
  }));
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: reg.podName,
      namespace: reg.namespace,
      uid: randomUUID(),
      labels: {
        app: reg.workload,
        ...reg.labels,
        'linkerd.io/control-plane-ns': CONTROL_PLANE_NAMESPACE,
        'linkerd.io/workload-ns': reg.namespace,
        'linkerd.io/proxy-deployment': reg.workload,
      },
      annotations: {
        ...reg.annotations,
        'linkerd.io/inject': 'enabled',
        'linkerd.io/proxy-version': 'tsmesh-local',
        // Every local proxy is given the tap identity (LINKERD2_PROXY_TAP_SVC_NAME), as viz's
        // tap-injector marks the pods it configured.
        'viz.linkerd.io/tap-enabled': 'true',
      },
    },
    spec: {
      serviceAccountName: reg.serviceAccount,
      nodeName: 'localhost',
      containers: [
        { name: reg.workload, ports },
        {
          name: 'linkerd-proxy',
          ports: [
            { name: 'linkerd-proxy', containerPort: DefaultPort.Inbound, protocol: 'TCP' },
            { name: 'linkerd-admin', containerPort: DefaultPort.Admin, protocol: 'TCP' },
          ],
          env: [
            { name: 'LINKERD2_PROXY_INBOUND_LISTEN_ADDR', value: `0.0.0.0:${DefaultPort.Inbound}` },
            { name: 'LINKERD2_PROXY_ADMIN_LISTEN_ADDR', value: `0.0.0.0:${DefaultPort.Admin}` },
            { name: 'LINKERD2_PROXY_CONTROL_LISTEN_ADDR', value: `0.0.0.0:${DefaultPort.Control}` },
            { name: 'LINKERD2_PROXY_OUTBOUND_LISTEN_ADDR', value: `127.0.0.1:${DefaultPort.Outbound}` },
          ],
        },
      ],
    },
    status: {
      phase: 'Running',
      podIP: reg.podIP,
      podIPs: [{ ip: reg.podIP }],
      hostIP: reg.network === 'netns' ? NETNS_HOST_ADDRESS : '127.0.0.1',
      startTime: now,
      conditions: [
        { type: 'Initialized', status: 'True', lastTransitionTime: now },
        { type: 'Ready', status: 'True', lastTransitionTime: now },
        { type: 'ContainersReady', status: 'True', lastTransitionTime: now },
        { type: 'PodScheduled', status: 'True', lastTransitionTime: now },
      ],
    },
  };
}

function ipToNumber(ip: string): number {
  return ip.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
}

function numberToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff].join('.');
}
