// `tsmesh up` as a library: the whole control plane in one process over a manifest directory —
// identity (local ES256 ServiceAccount tokens), destination and policy (when their packages
// provide their in-process start functions), the local endpoints controller, the pod registry
// and the loopback API — and control-plane.json in the state directory for `tsmesh run`.
import { setMaxListeners } from 'node:events';
import { resolve } from 'node:path';
import {
  createLocalTokenIssuer,
  createLocalTokenValidator,
  startIdentityService,
  type IdentityService,
} from '@tsmesh/identity';
import {
  CoreKinds,
  DirectoryObjectSource,
  startAdminServer,
  type AdminServer,
  type Logger,
  type ManifestError,
  type ObjectSource,
} from '@tsmesh/kube';
import { MeshError, MeshErrorCode } from '@tsmesh/core';
import { Registry } from 'prom-client';
import { runEndpointsController } from './endpoints-controller.js';
import { startLocalApi, type LocalApi } from './local-api.js';
import { LocalObjectSource } from './local-object-source.js';
import { canBind, PodRegistry } from './pod-registry.js';
import {
  CONTROL_PLANE_NAMESPACE,
  ensureTrustMaterial,
  statePaths,
  TRUST_DOMAIN,
  readControlPlaneInfo,
  writeControlPlaneInfo,
  type ControlPlaneInfo,
  type LocalServiceAddress,
  type StatePaths,
} from './state-dir.js';
import { WorkloadKind } from './workload-form.js';

/**
 * Cluster networks in local mode (the contract): all of loopback, and 198.18.0.0/15 for the pods
 * and Service clusterIPs of transparent mode (`tsmesh run --netns`).
 */
export const LOCAL_CLUSTER_NETWORKS = ['127.0.0.0/8', '::1/128', '198.18.0.0/15'] as const;

const controlName = (serviceAccount: string) =>
  `${serviceAccount}.${CONTROL_PLANE_NAMESPACE}.serviceaccount.identity.${CONTROL_PLANE_NAMESPACE}.${TRUST_DOMAIN}`;

export interface LocalControlPlaneOptions {
  readonly manifestDir: string;
  readonly stateDir: string;
  readonly logger: Logger;
  /** Each manifest problem, once per (re)read of its file. */
  readonly onManifestError?: (error: ManifestError) => void;
  /** Admin server (/metrics, /ready, /live) port on 127.0.0.1; default 0 (any), false for none. */
  readonly adminPort?: number | false;
  /** Which of destination and policy to run besides identity; default both. */
  readonly controllers?: readonly ('destination' | 'policy')[];
  readonly signal?: AbortSignal;
}

export interface LocalControlPlane {
  readonly paths: StatePaths;
  readonly info: ControlPlaneInfo;
  readonly source: LocalObjectSource;
  readonly pods: PodRegistry;
  readonly adminPort: number | undefined;
  /** Names of the controllers serving (identity always; destination, policy when available). */
  readonly controllers: readonly string[];
  close(): Promise<void>;
}

interface StartedController {
  readonly port: number;
  close(): Promise<void>;
}

type ControllerStart = (options: Record<string, unknown>) => Promise<StartedController>;

/**
 * The destination and policy controllers' in-process start functions (`startDestinationService`,
 * `startPolicyService`), looked up at run time: the control plane keeps working with identity
 * alone when a package does not provide one.
 */
async function findStart(pkg: string, name: string, logger: Logger): Promise<ControllerStart | undefined> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pkg)) as Record<string, unknown>;
  } catch (err) {
    logger.warn({ package: pkg, err: (err as Error).message }, `cannot load ${pkg}; running without it`);
    return undefined;
  }
  if (typeof mod[name] === 'function') return mod[name] as ControllerStart;
  logger.warn({ package: pkg }, `${pkg} has no ${name} yet; running without it`);
  return undefined;
}

/** The last run's addresses, so a restarted control plane serves where proxies expect it. */
function previousInfo(paths: StatePaths): ControlPlaneInfo | undefined {
  let info: ControlPlaneInfo;
  try {
    info = readControlPlaneInfo(paths);
  } catch {
    return undefined;
  }
  if (info.pid !== process.pid && isAlive(info.pid))
    throw new MeshError(
      MeshErrorCode.FailedPrecondition,
      `another tsmesh up (pid ${info.pid}) uses this state`,
      {
        where: paths.controlPlane,
        hint: 'stop it first, or give this one another --state directory',
      },
    );
  return info;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const portOf = (addr: string | undefined): number => {
  const port = Number(addr?.slice(addr.lastIndexOf(':') + 1));
  return Number.isInteger(port) && port > 0 ? port : 0;
};

/** Starts on the preferred port when it is free (checked first: a failed start may have registered
 * metrics already), else on any free one. */
async function onPort<T>(preferred: number, start: (port: number) => Promise<T>): Promise<T> {
  return start(preferred > 0 && (await canBind('127.0.0.1', preferred)) ? preferred : 0);
}

export async function startLocalControlPlane(options: LocalControlPlaneOptions): Promise<LocalControlPlane> {
  const { logger } = options;
  const paths = statePaths(options.stateDir);
  const previous = previousInfo(paths);
  const trust = ensureTrustMaterial(paths);
  if (trust.created) logger.info({ dir: paths.identityDir }, 'created a trust anchor and issuer');
  const registry = new Registry();
  const controller = new AbortController();
  // Every watch and stream of the process listens on it.
  setMaxListeners(0, controller.signal);
  const cleanups: (() => Promise<void> | void)[] = [];
  const close = async () => {
    controller.abort();
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch (err) {
        logger.warn({ err: String(err) }, 'stopping a control-plane part failed');
      }
    }
    cleanups.length = 0;
  };

  try {
    const directory = new DirectoryObjectSource({
      dir: resolve(options.manifestDir),
      logger,
      registry,
      onError: options.onManifestError,
      kinds: [WorkloadKind],
    });
    await directory.start();
    const source = new LocalObjectSource(directory, { onWorkloadError: options.onManifestError });
    cleanups.push(() => source.close());

    const pods = new PodRegistry();
    cleanups.push(() => pods.close());
    pods.onChange(() => source.setObjects(CoreKinds.Pod, pods.pods()));
    source.setObjects(CoreKinds.Pod, []);
    const endpoints = runEndpointsController(source, controller.signal);
    cleanups.push(() => endpoints);

    const tokens = createLocalTokenIssuer({ privateKey: trust.tokenKey });
    const identity: IdentityService = await onPort(portOf(previous?.identity.addr), (grpcPort) =>
      startIdentityService({
        trustDomain: TRUST_DOMAIN,
        controlPlaneNamespace: CONTROL_PLANE_NAMESPACE,
        issuerSource: { kind: 'files', issuerDir: paths.issuerDir },
        tokenValidator: createLocalTokenValidator({ publicKey: tokens.publicKey }),
        registry,
        logger,
        grpcHost: '127.0.0.1',
        grpcPort,
        adminPort: false,
      }),
    );
    cleanups.push(() => identity.close());
    const controllers = ['identity'];

    const common = {
      source: source as ObjectSource,
      registry,
      logger,
      host: '127.0.0.1',
      port: 0,
      signal: controller.signal,
      clusterDomain: TRUST_DOMAIN,
      trustDomain: TRUST_DOMAIN,
      identityDomain: TRUST_DOMAIN,
      controlPlaneNamespace: CONTROL_PLANE_NAMESPACE,
      clusterNetworks: [...LOCAL_CLUSTER_NETWORKS],
    };
    let destination: LocalServiceAddress | undefined;
    let policy: LocalServiceAddress | undefined;
    const wanted = new Set(options.controllers ?? ['destination', 'policy']);
    const startDestination = wanted.has('destination')
      ? await findStart('@tsmesh/destination', 'startDestinationService', logger)
      : undefined;
    if (startDestination) {
      const service = await onPort(portOf(previous?.destination?.addr), (port) =>
        startDestination({ ...common, port }),
      );
      cleanups.push(() => service.close());
      destination = { addr: `127.0.0.1:${service.port}`, name: controlName('linkerd-destination') };
      controllers.push('destination');
    }
    const startPolicy = wanted.has('policy')
      ? await findStart('@tsmesh/policy', 'startPolicyService', logger)
      : undefined;
    if (startPolicy) {
      const service = await onPort(portOf(previous?.policy?.addr), (port) =>
        startPolicy({ ...common, port, defaultPolicy: 'all-unauthenticated' }),
      );
      cleanups.push(() => service.close());
      // Linkerd's proxies reach the policy controller in the destination pod, under its identity.
      policy = { addr: `127.0.0.1:${service.port}`, name: controlName('linkerd-destination') };
      controllers.push('policy');
    }

    const api: LocalApi = await startLocalApi({
      port: portOf(previous?.api),
      source,
      pods,
      tokens,
      trustAnchorsPem: trust.trustAnchorsPem,
      manifestErrors: () => [...directory.errors(), ...source.workloadErrors()],
      logger,
    });
    cleanups.push(() => api.close());

    let admin: AdminServer | undefined;
    if (options.adminPort !== false) {
      admin = await startAdminServer({
        registry,
        isReady: () => identity.isReady(),
        host: '127.0.0.1',
        port: options.adminPort ?? 0,
        logger,
      });
      cleanups.push(() => admin?.close());
    }

    const info: ControlPlaneInfo = {
      pid: process.pid,
      startedAt: new Date().toISOString(),
      manifestDir: directory.dir,
      trustDomain: TRUST_DOMAIN,
      controlPlaneNamespace: CONTROL_PLANE_NAMESPACE,
      api: api.url,
      identity: { addr: `127.0.0.1:${identity.grpcPort}`, name: controlName('linkerd-identity') },
      ...(destination ? { destination } : {}),
      ...(policy ? { policy } : {}),
    };
    writeControlPlaneInfo(paths, info);
    // control-plane.json stays after a stop: the next `tsmesh up` serves on the same ports, so the
    // proxies of running workloads reconnect to it (as proxies do when a control plane restarts).
    options.signal?.addEventListener('abort', () => void close(), { once: true });

    return {
      paths,
      info,
      source,
      pods,
      adminPort: admin?.port,
      controllers,
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
