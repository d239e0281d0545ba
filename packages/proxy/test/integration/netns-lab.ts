// Network namespaces for transparent-mode tests (root only): `ip netns add`, veth pairs with
// addresses from 198.18.0.0/15, commands and long-running processes inside a namespace, and a
// dispose() that kills what it started and deletes every namespace (and so its veths and rules).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

/** Why netns tests cannot run here, or undefined when they can. */
export function netnsUnavailableReason(): string | undefined {
  if (process.platform !== 'linux') return 'needs Linux network namespaces';
  if (process.getuid?.() !== 0) return 'needs root (ip netns add, iptables)';
  for (const cmd of ['ip', 'nsenter', 'setpriv', 'curl']) if (!has(cmd)) return `needs ${cmd}`;
  return undefined;
}

export const hasBinary = has;

export interface Netns {
  readonly name: string;
  /** /var/run/netns/NAME, for --netns and nsenter. */
  readonly path: string;
}

export interface RunResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface NetnsLab {
  add(label: string): Netns;
  /**
   * A veth pair between two namespaces, each end with its addresses (CIDR, e.g. 198.18.7.1/24, and
   * optionally an IPv6 one, added without duplicate address detection so it is usable at once).
   */
  link(a: Netns, aAddr: string | string[], b: Netns, bAddr: string | string[]): void;
  /** Runs a command inside a namespace and waits (synchronously) for it. */
  run(
    ns: Netns,
    file: string,
    args: readonly string[],
    options?: { env?: NodeJS.ProcessEnv; uid?: number },
  ): RunResult;
  /** Starts a long-running process inside a namespace, optionally as another uid/gid. */
  start(
    ns: Netns,
    file: string,
    args: readonly string[],
    options?: { env?: NodeJS.ProcessEnv; uid?: number },
  ): LabProcess;
  dispose(): Promise<void>;
}

export interface LabProcess {
  readonly child: ChildProcess;
  output(): string;
}

let counter = 0;

function wrap(ns: Netns, file: string, args: readonly string[], uid: number | undefined): string[] {
  const inner =
    uid === undefined
      ? [file, ...args]
      : ['setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', file, ...args];
  return ['netns', 'exec', ns.name, ...inner];
}

export function createNetnsLab(): NetnsLab {
  const namespaces: Netns[] = [];
  const processes: ChildProcess[] = [];
  const ip = (...args: string[]) => {
    const r = spawnSync('ip', args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`ip ${args.join(' ')} failed: ${r.stderr}`);
  };
  return {
    add(label) {
      // Short names: veth names derived from them must fit in 15 characters.
      const name = `tsm${process.pid % 100000}${label}${counter++}`.slice(0, 14);
      ip('netns', 'add', name);
      const ns = { name, path: `/var/run/netns/${name}` };
      namespaces.push(ns);
      ip('-n', name, 'link', 'set', 'lo', 'up');
      return ns;
    },
    link(a, aAddr, b, bAddr) {
      const id = counter++;
      const va = `tva${process.pid % 10000}x${id}`;
      const vb = `tvb${process.pid % 10000}x${id}`;
      ip('link', 'add', va, 'netns', a.name, 'type', 'veth', 'peer', 'name', vb, 'netns', b.name);
      const add = (ns: Netns, dev: string, addrs: string | string[]) => {
        for (const addr of [addrs].flat()) {
          ip('-n', ns.name, 'addr', 'add', addr, 'dev', dev, ...(addr.includes(':') ? ['nodad'] : []));
        }
      };
      add(a, va, aAddr);
      add(b, vb, bAddr);
      ip('-n', a.name, 'link', 'set', va, 'up');
      ip('-n', b.name, 'link', 'set', vb, 'up');
    },
    run(ns, file, args, options = {}) {
      const r = spawnSync('ip', wrap(ns, file, args, options.uid), {
        encoding: 'utf8',
        timeout: 30_000,
        env: options.env ?? process.env,
      });
      return { status: r.status, stdout: r.stdout, stderr: r.stderr };
    },
    start(ns, file, args, options = {}) {
      const child = spawn('ip', wrap(ns, file, args, options.uid), {
        env: options.env ?? process.env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let log = '';
      child.stdout?.on('data', (d: Buffer) => (log += d.toString()));
      child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
      processes.push(child);
      return { child, output: () => log };
    },
    async dispose() {
      for (const child of processes) if (child.exitCode === null) child.kill('SIGTERM');
      await Promise.all(
        processes.map((c) =>
          c.exitCode === null && c.signalCode === null
            ? Promise.race([once(c, 'exit'), new Promise((r) => setTimeout(r, 3000))])
            : undefined,
        ),
      );
      for (const child of processes) if (child.exitCode === null) child.kill('SIGKILL');
      for (const ns of namespaces.splice(0)) spawnSync('ip', ['netns', 'del', ns.name]);
    },
  };
}

/** Polls until fn returns a value (or throws the last error after timeoutMs). */
export async function waitFor<T>(what: string, timeoutMs: number, fn: () => T | undefined): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs}ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
