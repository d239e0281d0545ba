// `tsmesh run --netns` as a library (root): the workload runs as in a pod. It gets a network
// namespace of its own with a pod address from the transparent-mode subnet (netns-network.ts);
// `tsmesh-proxy init` installs proxy-init's iptables rules in it (inbound → 4143, outbound →
// 4140, the proxy's uid/gid skipped); the proxy runs in it as its own user (uid 2102, Linkerd's
// default) with the injector's addresses and the control plane through the host's TLS gateway;
// then the app runs in it with no hints: it dials peers by Service name (a hosts file maps names
// to clusterIPs) or pod address, and the rules carry it through the proxy. On exit everything is
// removed again; proxy and app get SIGTERM if this process dies (setpriv --pdeathsig), and the
// namespace of a dead owner is swept by the next run or `cleanupTransparentNetworks`.
import { spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { DefaultPort, MeshError, MeshErrorCode, ProxyEnv } from '@tsmesh/core';
import type { KubeObject } from '@tsmesh/kube';
import { exitCodeOf, stopChild } from './child-process.js';
import { startControlPlaneGateway, type ControlPlaneGateway } from './control-plane-gateway.js';
import {
  createPodNetwork,
  exec,
  NETNS_HOST_ADDRESS,
  podNetworkNames,
  podRunDir,
  transparentModeUnavailable,
  type PodNetwork,
} from './netns-network.js';
import { ExplicitProxyEnv, localProxyEnv } from './proxy-env.js';
import { openRegistration, type Registration } from './registration.js';
import { readControlPlaneInfo } from './state-dir.js';
import { workloadAppEnv, type RunWorkloadOptions } from './workload-runner.js';

/** The proxy's user and group in transparent mode (Linkerd's default proxy uid). */
export const PROXY_UID = 2102;
/** Ports proxy-init leaves alone besides control and admin (Linkerd's defaults). */
const IGNORED_PORTS = '4567,4568';

export interface RunTransparentOptions extends RunWorkloadOptions {
  /** proxy-init's iptables flavour; default legacy (linkerd2-proxy-init's default). */
  readonly iptablesMode?: 'legacy' | 'nft';
  /** Called once the proxy is ready, before the app starts (tests: capture, metrics). */
  onReady?(pod: { podIP: string; podName: string; netns: string; hubVeth: string }): void;
}

/** The tsmesh-proxy launcher of the installed @tsmesh/proxy. */
function proxyBinary(): string {
  const pkg = createRequire(import.meta.url).resolve('@tsmesh/proxy/package.json');
  const dir = dirname(pkg);
  if (!existsSync(join(dir, 'dist', 'main.js')))
    throw new MeshError(MeshErrorCode.FailedPrecondition, 'the proxy is not built', {
      where: join(dir, 'dist', 'main.js'),
      hint: 'run `npm run build` at the repository root (or `pnpm exec nx run @tsmesh/proxy:build`)',
    });
  return join(dir, 'bin', 'tsmesh-proxy.js');
}

/**
 * The node flags the launcher's shebang (`#!/usr/bin/env -S node FLAGS`) runs the proxy with — its
 * measured heap settings (bench/README.md) — for starting it through process.execPath as well.
 */
export function launcherNodeFlags(bin: string): string[] {
  const first = readFileSync(bin, 'utf8').split('\n', 1)[0] ?? '';
  return first.startsWith('#!') ? first.split(/\s+/).filter((t) => t.startsWith('--')) : [];
}

/**
 * Whether the proxy's files can be read as PROXY_UID (a checkout under /root cannot): then the
 * proxy runs as that user; otherwise as root in PROXY_UID's group (proxy-init skips both).
 */
async function proxyUserCanRead(bin: string): Promise<boolean> {
  const require = createRequire(bin);
  const paths = [bin, join(dirname(bin), '..', 'dist', 'main.js')];
  for (const dep of ['@grpc/grpc-js', 'prom-client', '@tsmesh/core'])
    try {
      paths.push(require.resolve(dep));
    } catch {
      // resolved differently at run time; the proxy says so itself
    }
  const as = ['--reuid', String(PROXY_UID), '--regid', String(PROXY_UID), '--clear-groups', '--'];
  for (const path of paths)
    if (
      !(await exec('setpriv', [...as, 'test', '-r', path]).then(
        () => true,
        () => false,
      ))
    )
      return false;
  return true;
}

/** /etc/hosts of the pod: its own name, and every Service with a clusterIP by its DNS names. */
export function podHostsFile(
  podName: string,
  podIP: string,
  namespace: string,
  services: readonly KubeObject[],
): string {
  const lines = ['127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost', `${podIP}\t${podName}`];
  for (const svc of services as (KubeObject & { spec?: { clusterIP?: string } })[]) {
    const ip = svc.spec?.clusterIP;
    if (!ip || ip === 'None') continue;
    const name = svc.metadata?.name ?? '';
    const ns = svc.metadata?.namespace ?? 'default';
    const names = [`${name}.${ns}.svc.cluster.local`, `${name}.${ns}.svc`, `${name}.${ns}`];
    if (ns === namespace) names.push(name);
    lines.push(`${ip}\t${names.join(' ')}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Lines of a child's stderr to the logger. */
function logLines(child: ChildProcess, write: (line: string) => void, keep: string[]): void {
  let rest = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) {
      keep.push(line);
      if (keep.length > 20) keep.shift();
      write(line);
    }
  });
}

/** Runs the workload in its own network namespace until its app exits (its exit code) or the signal aborts. */
export async function runTransparentWorkload(options: RunTransparentOptions): Promise<number> {
  const { logger } = options;
  const unavailable = await transparentModeUnavailable();
  if (unavailable)
    throw new MeshError(MeshErrorCode.FailedPrecondition, unavailable, {
      hint: 'run as root on Linux with iproute2 and iptables, or without --netns (explicit mode)',
    });
  const bin = proxyBinary();
  const session = await openRegistration({ ...options, network: 'netns' });
  const { controller, paths, info, podName, podIP } = session;
  let registration: Registration = session.first;
  const pod = `${options.namespace}/${podName}`;
  let net: PodNetwork | undefined;
  let gateway: ControlPlaneGateway | undefined;
  let proxy: ChildProcess | undefined;
  let app: ChildProcess | undefined;
  let hostsTimer: NodeJS.Timeout | undefined;
  // Named after the namespace, so the sweep of a crashed run removes its token too.
  const runDir = podRunDir(podNetworkNames(podName).netns);
  let proxyUid: number | undefined;
  const tokenFile = join(runDir, 'token');
  const writeToken = (token: string) => {
    writeFileSync(tokenFile, token, { mode: 0o400 });
    if (proxyUid !== undefined) chownSync(tokenFile, proxyUid, PROXY_UID);
  };
  const keep = session.keep((fresh) => {
    registration = fresh;
    writeToken(fresh.token);
    logger.info({ pod }, 'registered again with the control plane');
  });
  try {
    net = await createPodNetwork(podName, podIP);
    logger.info(
      { pod, podIP, netns: net.netns, identity: registration.identity },
      'registered; own network namespace',
    );
    gateway = await startControlPlaneGateway({ paths, info, host: NETNS_HOST_ADDRESS, logger });

    // The pod's /etc/hosts and resolv.conf (ip netns exec shows /etc/netns/NAME/* as /etc/*): names
    // of Services resolve to their clusterIPs; nothing is asked of a DNS server.
    const etc = net.etcDir;
    writeFileSync(join(etc, 'resolv.conf'), 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n');
    let hosts = '';
    const refreshHosts = async () => {
      try {
        const res = await fetch(new URL('/v1/services', readControlPlaneInfo(paths).api), {
          signal: controller.signal,
        });
        const next = podHostsFile(
          podName,
          podIP,
          options.namespace,
          ((await res.json()) as { items: KubeObject[] }).items,
        );
        // Rewritten in place: the running app's bind mount sees the same file.
        if (next !== hosts) writeFileSync(join(etc, 'hosts'), (hosts = next));
      } catch {
        // the control plane is restarting: keep the last list
      }
    };
    await refreshHosts();
    if (!hosts)
      writeFileSync(join(etc, 'hosts'), (hosts = podHostsFile(podName, podIP, options.namespace, [])));
    hostsTimer = setInterval(() => void refreshHosts(), 2000);
    hostsTimer.unref();

    // proxy-init, exactly as the injector's init container runs it.
    const initArgs = [
      'init',
      '--incoming-proxy-port',
      String(DefaultPort.Inbound),
      '--outgoing-proxy-port',
      String(DefaultPort.Outbound),
      '--proxy-uid',
      String(PROXY_UID),
      '--proxy-gid',
      String(PROXY_UID),
      '--inbound-ports-to-ignore',
      `${DefaultPort.Control},${DefaultPort.Admin},${IGNORED_PORTS}`,
      '--outbound-ports-to-ignore',
      IGNORED_PORTS,
      ...(options.iptablesMode ? ['--iptables-mode', options.iptablesMode] : []),
    ];
    await exec('ip', ['netns', 'exec', net.netns, process.execPath, bin, ...initArgs], 60_000);
    logger.info({ netns: net.netns }, 'proxy-init rules installed');

    mkdirSync(runDir, { recursive: true, mode: 0o755 });
    proxyUid = (await proxyUserCanRead(bin)) ? PROXY_UID : undefined;
    writeToken(registration.token);
    const env: Record<string, string> = {
      ...localProxyEnv({
        info,
        podIP,
        podName,
        namespace: options.namespace,
        identity: registration.identity,
        tokenFile,
        trustAnchorsPem: registration.trustAnchorsPem,
        appPorts: options.ports.map((p) => p.port),
      }),
      // The injector's addresses: the rules bring the traffic.
      [ProxyEnv.InboundListenAddr]: `0.0.0.0:${DefaultPort.Inbound}`,
      [ProxyEnv.OutboundListenAddr]: `127.0.0.1:${DefaultPort.Outbound}`,
      [ProxyEnv.AdminListenAddr]: `0.0.0.0:${DefaultPort.Admin}`,
      [ProxyEnv.ControlListenAddr]: `0.0.0.0:${DefaultPort.Control}`,
      [ProxyEnv.PolicyClusterNetworks]: '127.0.0.0/8,::1/128,198.18.0.0/15',
      [ProxyEnv.DestinationProfileNetworks]: '127.0.0.0/8,::1/128,198.18.0.0/15',
      PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
    };
    // The injector's opaque ports, from the Pod's annotation (a Workload's `opaque: true` ports).
    const opaque = registration.pod.metadata?.annotations?.['config.linkerd.io/opaque-ports'];
    if (opaque) env[ProxyEnv.InboundPortsDisableProtocolDetection] = opaque;
    delete env[ExplicitProxyEnv.InboundListenAddrs];
    delete env[ExplicitProxyEnv.InboundForwardAddr];
    env[ProxyEnv.IdentitySvcAddr] = gateway.addrs.identity!;
    if (gateway.addrs.destination) env[ProxyEnv.DestinationSvcAddr] = gateway.addrs.destination;
    if (gateway.addrs.policy) env[ProxyEnv.PolicySvcAddr] = gateway.addrs.policy;
    const as =
      proxyUid !== undefined
        ? ['--reuid', String(PROXY_UID), '--regid', String(PROXY_UID), '--clear-groups']
        : ['--regid', String(PROXY_UID), '--clear-groups'];
    if (proxyUid === undefined)
      logger.warn(
        { gid: PROXY_UID },
        `uid ${PROXY_UID} cannot read the proxy's files: the proxy runs as root in group ${PROXY_UID}`,
      );
    proxy = spawn(
      'ip',
      [
        'netns',
        'exec',
        net.netns,
        'setpriv',
        '--pdeathsig',
        'TERM',
        ...as,
        '--',
        process.execPath,
        ...launcherNodeFlags(bin),
        bin,
      ],
      { env, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const proxyLog: string[] = [];
    logLines(proxy, (line) => logger.debug({}, `proxy: ${line}`), proxyLog);
    const proxyExited = exitCodeOf(proxy);

    // Ready: the admin server (not redirected: proxy-init skips 4191) answers /ready.
    // A new node process on a busy machine: more time than the in-process proxy of explicit mode.
    const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
    for (;;) {
      if (controller.signal.aborted) return 130;
      if (proxy.exitCode !== null)
        throw new MeshError(MeshErrorCode.Unavailable, `the proxy exited with ${proxy.exitCode}`, {
          where: net.netns,
          hint: proxyLog.slice(-8).join('\n') || 'see the proxy log (--log-level debug)',
        });
      const ready = await fetch(`http://${podIP}:${DefaultPort.Admin}/ready`, {
        signal: AbortSignal.timeout(1000),
      }).then(
        (r) => r.ok,
        () => false,
      );
      if (ready) break;
      if (Date.now() > deadline)
        throw new MeshError(MeshErrorCode.Timeout, 'the proxy did not become ready in time', {
          where: `${podIP}:${DefaultPort.Admin}/ready`,
          hint: proxyLog.slice(-8).join('\n') || 'is the local control plane healthy?',
        });
      await new Promise((r) => setTimeout(r, 100));
    }
    logger.info({ pod, podIP, admin: `http://${podIP}:${DefaultPort.Admin}` }, 'proxy ready');
    options.onReady?.({ podIP, podName, netns: net.netns, hubVeth: net.hubVeth });

    app = spawn(
      'ip',
      ['netns', 'exec', net.netns, 'setpriv', '--pdeathsig', 'TERM', '--', options.command, ...options.args],
      {
        stdio: options.stdio ?? 'inherit',
        env: workloadAppEnv(options, podIP, podName),
      },
    );
    const child = app;
    controller.signal.addEventListener('abort', () => void stopChild(child, 5000), { once: true });
    void proxyExited.then((code) => {
      if (!controller.signal.aborted) {
        logger.error({ code, log: proxyLog.slice(-5).join(' | ') }, 'the proxy exited; stopping the app');
        void stopChild(child, 5000);
      }
    });
    return await exitCodeOf(child);
  } finally {
    controller.abort();
    if (hostsTimer) clearInterval(hostsTimer);
    await stopChild(app, 5000);
    await stopChild(proxy, 5000);
    await gateway?.close();
    await net
      ?.close()
      .catch((err: unknown) => logger.warn({ err: String(err) }, 'removing the namespace failed'));
    registration.release();
    await keep;
    session.detach();
    rmSync(runDir, { recursive: true, force: true });
  }
}
