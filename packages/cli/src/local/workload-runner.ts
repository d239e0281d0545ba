// `tsmesh run` as a library: register a workload instance with the local control plane (which
// gives it a loopback pod IP and a ServiceAccount token), start its proxy, start the app once the
// proxy holds a certificate, and when the app exits shut the proxy down and deregister — what
// the injector, the kubelet and `linkerd-await` do for a pod.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DefaultPort, MeshError, MeshErrorCode } from '@tsmesh/core';
import type { KubeObject, Logger } from '@tsmesh/kube';
import {
  createEnvSource,
  readProxyConfig,
  startProxy,
  startProxyIdentity,
  type ProxyIdentity,
  type RunningProxy,
} from '@tsmesh/proxy';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { exitCodeOf, stopChild } from './child-process.js';
import { podIdentity } from './local-api.js';
import { openRegistration } from './registration.js';
import type { WorkloadPort } from './pod-registry.js';
import { localProxyEnv } from './proxy-env.js';
import type { ControlPlaneInfo } from './state-dir.js';

/** Environment variables the app gets, telling it where it runs and how to reach dependencies. */
export const WorkloadEnv = {
  PodIp: 'TSMESH_POD_IP',
  PodName: 'TSMESH_POD_NAME',
  Workload: 'TSMESH_WORKLOAD',
  Namespace: 'TSMESH_NAMESPACE',
  /** PODIP:4140 — dial it with the dependency's name as Host / :authority. */
  Outbound: 'TSMESH_OUTBOUND',
  /** PODIP:4191 — the proxy's admin server (/metrics, /ready). */
  ProxyAdmin: 'TSMESH_PROXY_ADMIN',
  /** The local control plane's API (http://127.0.0.1:PORT). */
  ControlPlaneApi: 'TSMESH_CONTROL_PLANE_API',
  /**
   * `proxy` when the proxy resolves service names itself (Destination); `api` when the app must
   * resolve the name through the control plane API and send the endpoint's proxy address as the
   * authority (until the proxy's discovery is in place).
   */
  Discovery: 'TSMESH_DISCOVERY',
  Port: 'PORT',
} as const;

export interface RunWorkloadOptions {
  readonly stateDir: string;
  readonly workload: string;
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly ports: readonly WorkloadPort[];
  readonly labels?: Readonly<Record<string, string>>;
  readonly command: string;
  readonly args: readonly string[];
  readonly logger: Logger;
  /** Extra environment for the app. */
  readonly env?: Readonly<Record<string, string>>;
  /** Where the app's stdout/stderr go; default inherited. */
  readonly stdio?: 'inherit' | 'ignore';
  readonly readyTimeoutMs?: number;
  readonly signal?: AbortSignal;
}

/**
 * The environment every workload's app gets: the runner's own, the caller's extra, and where it
 * runs (pod address and name, workload, namespace, the first port as PORT).
 */
export function workloadAppEnv(
  options: Pick<RunWorkloadOptions, 'env' | 'workload' | 'namespace' | 'ports'>,
  podIP: string,
  podName: string,
): NodeJS.ProcessEnv {
  const appPort = options.ports[0]?.port;
  return {
    ...process.env,
    ...options.env,
    [WorkloadEnv.PodIp]: podIP,
    [WorkloadEnv.PodName]: podName,
    [WorkloadEnv.Workload]: options.workload,
    [WorkloadEnv.Namespace]: options.namespace,
    ...(appPort !== undefined ? { [WorkloadEnv.Port]: String(appPort) } : {}),
  };
}

/**
 * The proxy's TLS hint while it has no discovery of its own: the identity of the pod behind a
 * target address, from the control plane's pod list (refreshed every second).
 */
function createPodIdentityLookup(info: ControlPlaneInfo, signal: AbortSignal) {
  let byIp = new Map<string, { identity: string; ports: Set<number> }>();
  const refresh = async () => {
    try {
      const res = await fetch(new URL('/v1/pods', info.api), { signal });
      const { items } = (await res.json()) as { items: KubeObject[] };
      const next = new Map<string, { identity: string; ports: Set<number> }>();
      for (const pod of items) {
        const identity = podIdentity(pod as never);
        const ip = (pod.status as { podIP?: string } | undefined)?.podIP;
        if (!identity || !ip) continue;
        const ports = new Set<number>([DefaultPort.Inbound]);
        for (const c of (pod.spec as { containers?: { ports?: { containerPort: number }[] }[] }).containers ??
          [])
          for (const p of c.ports ?? []) ports.add(p.containerPort);
        next.set(ip, { identity, ports });
      }
      byIp = next;
    } catch {
      // keep the last list; the control plane may be restarting
    }
  };
  const timer = setInterval(() => void refresh(), 1000);
  timer.unref();
  signal.addEventListener('abort', () => clearInterval(timer), { once: true });
  return {
    refresh,
    identityFor(target: { host: string; port: number }): string | undefined {
      const entry = byIp.get(target.host);
      return entry?.ports.has(target.port) ? entry.identity : undefined;
    },
  };
}

/**
 * Whether the proxy routes by Service name through Destination. Until its outbound discovery is
 * wired into startProxy, apps resolve names through the control plane API (TSMESH_DISCOVERY=api).
 */
const PROXY_RESOLVES_NAMES = true;

/** Runs the workload until its app exits (resolves with the app's exit code) or the signal aborts. */
export async function runWorkload(options: RunWorkloadOptions): Promise<number> {
  const { logger } = options;
  const session = await openRegistration(options);
  const { controller, paths, info, podName, podIP } = session;
  let registration = session.first;
  const workDir = join(paths.workloadsDir, options.namespace, podName);
  mkdirSync(workDir, { recursive: true, mode: 0o700 });
  const tokenFile = join(workDir, 'token');
  writeFileSync(tokenFile, registration.token, { mode: 0o600 });
  logger.info(
    { pod: `${options.namespace}/${podName}`, podIP, identity: registration.identity },
    'registered',
  );

  // Keep the registration: when the control plane restarts, register again with the same name and
  // address (the proxy keeps serving meanwhile, as proxies do when the control plane is down).
  const keep = session.keep((fresh) => {
    registration = fresh;
    writeFileSync(tokenFile, fresh.token, { mode: 0o600 });
    logger.info({ pod: `${options.namespace}/${podName}` }, 'registered again with the control plane');
  });

  const proxyEnv = localProxyEnv({
    info,
    podIP,
    podName,
    namespace: options.namespace,
    identity: registration.identity,
    tokenFile,
    trustAnchorsPem: registration.trustAnchorsPem,
    appPorts: options.ports.map((p) => p.port),
  });
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  let identity: ProxyIdentity | undefined;
  let proxy: RunningProxy | undefined;
  let app: ChildProcess | undefined;
  const lookup = createPodIdentityLookup(info, controller.signal);
  try {
    const config = readProxyConfig(createEnvSource(proxyEnv));
    identity = startProxyIdentity({
      address: info.identity.addr,
      localName: registration.identity,
      tokenFile,
      trustAnchorsPem: registration.trustAnchorsPem,
      registry,
      signal: controller.signal,
      logger: {
        info: (fields, message) => logger.info(fields, `proxy: ${message}`),
        warn: (fields, message) => logger.warn(fields, `proxy: ${message}`),
      },
    });
    await lookup.refresh();
    proxy = await startProxy({
      config,
      registry,
      certificates: identity,
      identityFor: (target) => lookup.identityFor(target),
    });
    const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
    while (!proxy.isReady()) {
      if (controller.signal.aborted) return 130;
      if (Date.now() > deadline)
        throw new MeshError(MeshErrorCode.Timeout, 'the proxy got no certificate in time', {
          where: info.identity.addr,
          hint: 'is the local control plane healthy? see `tsmesh up` output',
        });
      await new Promise((r) => setTimeout(r, 50));
    }
    logger.info(
      { inbound: `${podIP}:${DefaultPort.Inbound}`, outbound: `${podIP}:${DefaultPort.Outbound}` },
      'proxy ready',
    );

    app = spawn(options.command, [...options.args], {
      stdio: options.stdio ?? 'inherit',
      env: {
        ...workloadAppEnv(options, podIP, podName),
        [WorkloadEnv.Outbound]: `${podIP}:${DefaultPort.Outbound}`,
        [WorkloadEnv.ProxyAdmin]: `${podIP}:${DefaultPort.Admin}`,
        [WorkloadEnv.ControlPlaneApi]: info.api,
        [WorkloadEnv.Discovery]: PROXY_RESOLVES_NAMES && info.destination ? 'proxy' : 'api',
        HTTP_PROXY: `http://${podIP}:${DefaultPort.Outbound}`,
        NO_PROXY: 'localhost,127.0.0.1',
      },
    });
    const child = app;
    child.once('error', (err) =>
      logger.error({ command: options.command, err: err.message }, 'cannot start the app'),
    );
    const exited = exitCodeOf(child);
    controller.signal.addEventListener('abort', () => void stopChild(child, 5000), { once: true });
    void proxy.shutdownRequested.then(() => stopChild(child, 5000));
    return await exited;
  } finally {
    controller.abort();
    await proxy?.shutdown(1000);
    identity?.close();
    registration.release();
    await keep;
    session.detach();
    rmSync(workDir, { recursive: true, force: true });
  }
}
