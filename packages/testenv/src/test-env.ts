import { mkdir, mkdtemp, readFile, readdir, rm, rmdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ensureBinaries, type Binaries } from './binaries.js';
import { findFreePort } from './free-port.js';
import { probe } from './http-probe.js';
import { writeKubeconfig } from './kubeconfig.js';
import { ManagedProcess, sleep, stopPid, tailFile } from './managed-process.js';
import { generateControlPlanePki, type ControlPlanePki } from './pki.js';
import { readState, STATE_FILE, writeState, type TestEnvState } from './state-file.js';
import { TestEnvError } from './test-env-error.js';
import { Watchdog } from './watchdog.js';

/** Service CIDR of every test environment. Never 10.x: nothing here may look like a real network. */
export const DEFAULT_SERVICE_CLUSTER_IP_RANGE = '198.19.0.0/16';

/**
 * The apiserver's advertised address: written into the `kubernetes` Endpoints/EndpointSlice only,
 * never dialled. Fixed (instead of the host's default-route address, which the apiserver would
 * otherwise pick) so runs are reproducible and work on hosts without a default route. From the
 * benchmark range 198.18.0.0/15 that tests use for pod and service addresses.
 */
export const DEFAULT_ADVERTISE_ADDRESS = '198.18.0.1';

/**
 * kube-controller-manager controllers started by default: what tests of a mesh control plane need
 * (default ServiceAccounts and their tokens, EndpointSlices from Service selectors, namespace
 * deletion, ownerReference garbage collection, kube-root-ca.crt, aggregated RBAC roles,
 * Deployments → ReplicaSets → Pods).
 */
export const DEFAULT_CONTROLLERS: readonly string[] = Object.freeze([
  'serviceaccount-controller',
  'serviceaccount-token-controller',
  'endpoints-controller',
  'endpointslice-controller',
  'endpointslice-mirroring-controller',
  'namespace-controller',
  'garbage-collector-controller',
  'root-ca-certificate-publisher-controller',
  'clusterrole-aggregation-controller',
  'deployment-controller',
  'replicaset-controller',
]);

export interface StartTestEnvOptions {
  /**
   * Directory for state, PKI, etcd data and logs. Default: a fresh directory under the OS temp
   * dir, removed by `stop()`. A given directory is created if needed; a previous environment
   * recorded in it is stopped first.
   */
  dir?: string;
  /** Aborting cancels startup, or stops the environment once started. */
  signal?: AbortSignal;
  /** Default {@link DEFAULT_SERVICE_CLUSTER_IP_RANGE}. */
  serviceClusterIpRange?: string;
  /** Default {@link DEFAULT_ADVERTISE_ADDRESS}. */
  advertiseAddress?: string;
  /** More IP SANs of the apiserver's serving certificate (where else clients reach it). */
  apiserverIpAddresses?: readonly string[];
  /** kube-controller-manager controllers; `false` runs no controller manager. Default {@link DEFAULT_CONTROLLERS}. */
  controllers?: readonly string[] | false;
  /** kube-apiserver `--authorization-mode` (a list flag: it cannot be overridden through `apiserverArgs`). Default `['RBAC']`. */
  authorizationModes?: readonly string[];
  /** Extra flags appended to the kube-apiserver command line (`--feature-gates=…`, `--v=4`, …). */
  apiserverArgs?: readonly string[];
  /** Extra flags appended to the kube-controller-manager command line. */
  controllerManagerArgs?: readonly string[];
  /** Per component (etcd, apiserver, controller manager). Default 120 000. */
  startTimeoutMs?: number;
  /**
   * Processes outlive this Node process (used by the CLI's `up`). Default false: they are tied to
   * this process by a watchdog that kills them if it dies without calling `stop()`.
   */
  detached?: boolean;
  /** Use these binaries instead of building/locating them with the build script. */
  binaries?: Binaries;
  /** Progress lines (binary build, component readiness). Default: none. */
  onLog?: (line: string) => void;
}

/** How long each phase of `startTestEnv` took, in milliseconds. */
export interface StartupTimings {
  readonly binariesMs: number;
  readonly pkiMs: number;
  /** Spawn to `/health` OK. */
  readonly etcdMs: number;
  /** Spawn to `/readyz` OK. */
  readonly apiserverMs: number;
  /** Spawn to `/healthz` OK and the `default` ServiceAccount existing (0 without a controller manager). */
  readonly controllerManagerMs: number;
  readonly totalMs: number;
}

/** A running control plane. Dispose it (`await using`) or call `stop()`. */
export interface TestEnv extends AsyncDisposable {
  readonly dir: string;
  /** Admin kubeconfig (`CN=admin, O=system:masters`, certificates embedded). */
  readonly kubeconfigPath: string;
  /** `https://127.0.0.1:<port>` */
  readonly server: string;
  readonly etcdUrl: string;
  readonly serviceClusterIpRange: string;
  readonly pki: ControlPlanePki;
  readonly binaries: Binaries;
  readonly timings: StartupTimings;
  /** Current PIDs (the apiserver's changes with each restart). */
  readonly pids: {
    readonly etcd: number;
    readonly kubeApiserver: number;
    readonly kubeControllerManager?: number;
  };
  readonly logPaths: {
    readonly etcd: string;
    readonly kubeApiserver: string;
    readonly kubeControllerManager: string;
  };
  /** Stops the apiserver (SIGTERM, waits for exit). Clients see connection errors until `startApiserver()`. */
  stopApiserver(): Promise<void>;
  /** Starts the apiserver again on the same port with the same flags; resolves when `/readyz` is OK. */
  startApiserver(): Promise<{ readyMs: number }>;
  /** `stopApiserver()` then `startApiserver()`: watches break and must reconnect or relist. */
  restartApiserver(): Promise<{ readyMs: number }>;
  /** Stops every process this environment started and removes its files. Idempotent. */
  stop(): Promise<void>;
}

const ENTRIES = [STATE_FILE, 'kubeconfig', 'pki', 'etcd-data', 'logs', 'kube-controller-manager'];

/**
 * Starts etcd, kube-apiserver and kube-controller-manager on free 127.0.0.1 ports with a fresh
 * PKI, writes an admin kubeconfig and resolves when the apiserver is ready (and, with a
 * controller manager, once the `default` namespace has its `default` ServiceAccount).
 */
export async function startTestEnv(options: StartTestEnvOptions = {}): Promise<TestEnv> {
  const t0 = performance.now();
  const { signal } = options;
  const log = options.onLog ?? (() => {});
  const startTimeoutMs = options.startTimeoutMs ?? 120_000;
  const detached = options.detached ?? false;
  const serviceClusterIpRange = options.serviceClusterIpRange ?? DEFAULT_SERVICE_CLUSTER_IP_RANGE;
  const advertiseAddress = options.advertiseAddress ?? DEFAULT_ADVERTISE_ADDRESS;
  const controllers = options.controllers ?? DEFAULT_CONTROLLERS;
  throwIfAborted(signal);

  let dir: string;
  let createdDir: boolean;
  if (options.dir === undefined) {
    dir = await mkdtemp(join(tmpdir(), 'tsmesh-testenv-'));
    createdDir = true;
  } else {
    dir = resolve(options.dir);
    createdDir = !(await exists(dir));
    if (!createdDir) {
      const previous = await readState(dir);
      if (previous) {
        log(`testenv: stopping the environment previously recorded in ${dir}`);
        await stopRecorded(previous);
        createdDir = previous.createdDir;
      }
      await removeEntries(dir);
    }
    await mkdir(dir, { recursive: true });
  }

  const logsDir = join(dir, 'logs');
  await mkdir(logsDir, { recursive: true });
  const logPaths = {
    etcd: join(logsDir, 'etcd.log'),
    kubeApiserver: join(logsDir, 'kube-apiserver.log'),
    kubeControllerManager: join(logsDir, 'kube-controller-manager.log'),
  };
  const kubeconfigPath = join(dir, 'kubeconfig');
  const watchdog = detached ? undefined : new Watchdog();
  const processes: { etcd?: ManagedProcess; apiserver?: ManagedProcess; kcm?: ManagedProcess } = {};
  const ports: { etcdClient?: number; etcdPeer?: number; apiserver?: number; controllerManager?: number } =
    {};
  let binaries: Binaries | undefined = options.binaries;
  let server = '';

  const saveState = (): Promise<void> =>
    writeState({
      version: 1,
      dir,
      createdDir,
      kubeconfigPath,
      server,
      pids: {
        etcd: processes.etcd?.pid,
        kubeApiserver: processes.apiserver?.pid,
        kubeControllerManager: processes.kcm?.pid,
      },
      ports,
      versions: binaries
        ? { kubernetes: binaries.versions.kubernetes, etcd: binaries.versions.etcd }
        : undefined,
      startedAt: new Date().toISOString(),
    } satisfies TestEnvState);

  const start = async (name: string, command: string, args: readonly string[], logPath: string) => {
    const p = await ManagedProcess.start({ name, command, args, logPath, detached });
    watchdog?.add(p.pid);
    return p;
  };
  const stopProcess = async (p: ManagedProcess | undefined): Promise<void> => {
    if (!p) return;
    await p.stop();
    watchdog?.remove(p.pid);
  };
  const stopAll = async (): Promise<void> => {
    // Reverse start order: controllers first, storage last.
    await stopProcess(processes.kcm);
    await stopProcess(processes.apiserver);
    await stopProcess(processes.etcd);
    watchdog?.close();
  };

  let pki: ControlPlanePki;
  const timings = { binariesMs: 0, pkiMs: 0, etcdMs: 0, apiserverMs: 0, controllerManagerMs: 0, totalMs: 0 };
  let apiserverArgs: string[] = [];
  try {
    let t = performance.now();
    binaries ??= await ensureBinaries({ components: ['kube', 'etcd'], signal, onLog: log });
    timings.binariesMs = performance.now() - t;

    t = performance.now();
    pki = await generateControlPlanePki({
      dir: join(dir, 'pki'),
      kubernetesServiceIp: firstServiceIp(serviceClusterIpRange),
      ...(options.apiserverIpAddresses ? { apiserverIpAddresses: options.apiserverIpAddresses } : {}),
    });
    timings.pkiMs = performance.now() - t;
    throwIfAborted(signal);
    const [ca, adminCert, adminKey] = await Promise.all([
      readFile(pki.ca.certPath),
      readFile(pki.admin.certPath),
      readFile(pki.admin.keyPath),
    ]);

    // etcd. A port taken between findFreePort and the bind makes the process exit: retry once.
    const etcdDataDir = join(dir, 'etcd-data');
    t = performance.now();
    await withPortRetry(
      async () => {
        ports.etcdClient = await findFreePort();
        ports.etcdPeer = await findFreePort();
        const client = `http://127.0.0.1:${ports.etcdClient}`;
        const peer = `http://127.0.0.1:${ports.etcdPeer}`;
        await rm(etcdDataDir, { recursive: true, force: true });
        processes.etcd = await start(
          'etcd',
          binaries!.etcd,
          [
            '--name=testenv',
            `--data-dir=${etcdDataDir}`,
            `--listen-client-urls=${client}`,
            `--advertise-client-urls=${client}`,
            `--listen-peer-urls=${peer}`,
            `--initial-advertise-peer-urls=${peer}`,
            `--initial-cluster=testenv=${peer}`,
            '--initial-cluster-state=new',
            // Tests do not need durability; fsync dominates etcd latency on shared disks.
            '--unsafe-no-fsync=true',
            '--logger=zap',
            '--log-level=warn',
          ],
          logPaths.etcd,
        );
        await saveState();
        await waitReady(processes.etcd, startTimeoutMs, signal, async () => {
          const r = await probe(`${client}/health`);
          return r.status === 200 && r.body.includes('"true"');
        });
      },
      () => stopProcess(processes.etcd),
    );
    timings.etcdMs = performance.now() - t;
    log(`testenv: etcd ${binaries.versions.etcd} ready in ${(timings.etcdMs / 1000).toFixed(1)} s`);
    const etcdUrl = `http://127.0.0.1:${ports.etcdClient}`;

    // kube-apiserver.
    t = performance.now();
    await withPortRetry(
      async () => {
        ports.apiserver = await findFreePort();
        server = `https://127.0.0.1:${ports.apiserver}`;
        apiserverArgs = [
          `--etcd-servers=${etcdUrl}`,
          '--bind-address=127.0.0.1',
          `--secure-port=${ports.apiserver}`,
          `--advertise-address=${advertiseAddress}`,
          `--cert-dir=${join(dir, 'pki', 'apiserver-generated')}`,
          `--tls-cert-file=${pki.apiserver.certPath}`,
          `--tls-private-key-file=${pki.apiserver.keyPath}`,
          `--client-ca-file=${pki.ca.certPath}`,
          `--service-account-issuer=${server}`,
          `--service-account-key-file=${pki.serviceAccountPublicKeyPath}`,
          `--service-account-signing-key-file=${pki.serviceAccountKeyPath}`,
          `--service-cluster-ip-range=${serviceClusterIpRange}`,
          `--authorization-mode=${(options.authorizationModes ?? ['RBAC']).join(',')}`,
          '--allow-privileged=true',
          // Request-header (front proxy) authentication, as kubeadm sets it up: completes the
          // extension-apiserver-authentication ConfigMap that delegating components read.
          `--requestheader-client-ca-file=${pki.frontProxyCa.certPath}`,
          '--requestheader-allowed-names=front-proxy-client',
          '--requestheader-username-headers=X-Remote-User',
          '--requestheader-group-headers=X-Remote-Group',
          '--requestheader-extra-headers-prefix=X-Remote-Extra-',
          `--proxy-client-cert-file=${pki.frontProxyClient.certPath}`,
          `--proxy-client-key-file=${pki.frontProxyClient.keyPath}`,
          '--profiling=false',
          '--v=1',
          ...(options.apiserverArgs ?? []),
        ];
        processes.apiserver = await start(
          'kube-apiserver',
          binaries!.kubeApiserver,
          apiserverArgs,
          logPaths.kubeApiserver,
        );
        await saveState();
        await waitReady(processes.apiserver, startTimeoutMs, signal, async () => {
          const r = await probe(`${server}/readyz`, { ca, cert: adminCert, key: adminKey });
          return r.status === 200;
        });
      },
      () => stopProcess(processes.apiserver),
    );
    timings.apiserverMs = performance.now() - t;
    log(
      `testenv: kube-apiserver ${binaries.versions.kubernetes} ready in ${(timings.apiserverMs / 1000).toFixed(1)} s at ${server}`,
    );

    await writeKubeconfig({
      path: kubeconfigPath,
      server,
      caCertPath: pki.ca.certPath,
      clientCertPath: pki.admin.certPath,
      clientKeyPath: pki.admin.keyPath,
    });

    // kube-controller-manager, with its own identity (as kubeadm runs it).
    if (controllers !== false) {
      const kcmDir = join(dir, 'kube-controller-manager');
      await mkdir(kcmDir, { recursive: true });
      const kcmKubeconfig = join(kcmDir, 'kubeconfig');
      await writeKubeconfig({
        path: kcmKubeconfig,
        server,
        caCertPath: pki.ca.certPath,
        clientCertPath: pki.controllerManager.certPath,
        clientKeyPath: pki.controllerManager.keyPath,
        userName: 'system:kube-controller-manager',
      });
      t = performance.now();
      await withPortRetry(
        async () => {
          ports.controllerManager = await findFreePort();
          processes.kcm = await start(
            'kube-controller-manager',
            binaries!.kubeControllerManager,
            [
              `--kubeconfig=${kcmKubeconfig}`,
              `--authentication-kubeconfig=${kcmKubeconfig}`,
              `--authorization-kubeconfig=${kcmKubeconfig}`,
              '--bind-address=127.0.0.1',
              `--secure-port=${ports.controllerManager}`,
              `--cert-dir=${kcmDir}`,
              '--leader-elect=false',
              // Each controller acts as its own ServiceAccount in kube-system, as in kubeadm clusters.
              '--use-service-account-credentials=true',
              `--controllers=${controllers.join(',')}`,
              `--service-account-private-key-file=${pki.serviceAccountKeyPath}`,
              `--root-ca-file=${pki.ca.certPath}`,
              `--service-cluster-ip-range=${serviceClusterIpRange}`,
              '--profiling=false',
              '--v=1',
              ...(options.controllerManagerArgs ?? []),
            ],
            logPaths.kubeControllerManager,
          );
          await saveState();
          await waitReady(processes.kcm, startTimeoutMs, signal, async () => {
            const r = await probe(`https://127.0.0.1:${ports.controllerManager}/healthz`, {
              insecureSkipVerify: true,
            });
            return r.status === 200;
          });
        },
        () => stopProcess(processes.kcm),
      );
      if (controllers.includes('serviceaccount-controller')) {
        // Tests create pods right away; the ServiceAccount admission plugin rejects pods whose
        // ServiceAccount does not exist yet.
        await waitReady(processes.kcm!, startTimeoutMs, signal, async () => {
          const r = await probe(`${server}/api/v1/namespaces/default/serviceaccounts/default`, {
            ca,
            cert: adminCert,
            key: adminKey,
          });
          return r.status === 200;
        });
      }
      timings.controllerManagerMs = performance.now() - t;
      log(`testenv: kube-controller-manager ready in ${(timings.controllerManagerMs / 1000).toFixed(1)} s`);
    }
    timings.totalMs = performance.now() - t0;
    await saveState();
  } catch (err) {
    await stopAll();
    await rm(join(dir, 'etcd-data'), { recursive: true, force: true });
    if (err instanceof TestEnvError) {
      err.message += `\n(logs kept in ${logsDir})`;
      throw err;
    }
    throw new TestEnvError(
      'PROCESS_EXITED',
      `test environment failed to start: ${(err as Error).message} (logs in ${logsDir})`,
      {
        cause: err,
      },
    );
  }

  const bins = binaries!;
  const [caPem, adminCertPem, adminKeyPem] = await Promise.all([
    readFile(pki.ca.certPath),
    readFile(pki.admin.certPath),
    readFile(pki.admin.keyPath),
  ]);
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      signal?.removeEventListener('abort', onAbort);
      await stopAll();
      await removeEnv(dir, createdDir);
    })();
    return stopped;
  };
  const onAbort = (): void => void stop().catch(() => {});
  signal?.addEventListener('abort', onAbort, { once: true });

  const stopApiserver = async (): Promise<void> => {
    await stopProcess(processes.apiserver);
  };
  const startApiserver = async (): Promise<{ readyMs: number }> => {
    if (stopped) throw new TestEnvError('INVALID_ARGUMENT', 'the test environment is stopped');
    if (processes.apiserver && processes.apiserver.exit === undefined) {
      throw new TestEnvError(
        'INVALID_ARGUMENT',
        'kube-apiserver is already running; call stopApiserver() first',
      );
    }
    const t = performance.now();
    processes.apiserver = await start(
      'kube-apiserver',
      bins.kubeApiserver,
      apiserverArgs,
      logPaths.kubeApiserver,
    );
    await saveState();
    await waitReady(processes.apiserver, startTimeoutMs, undefined, async () => {
      const r = await probe(`${server}/readyz`, { ca: caPem, cert: adminCertPem, key: adminKeyPem });
      return r.status === 200;
    });
    return { readyMs: performance.now() - t };
  };

  const env: TestEnv = {
    dir,
    kubeconfigPath,
    server,
    etcdUrl: `http://127.0.0.1:${ports.etcdClient}`,
    serviceClusterIpRange,
    pki,
    binaries: bins,
    timings,
    get pids() {
      return {
        etcd: processes.etcd!.pid,
        kubeApiserver: processes.apiserver!.pid,
        ...(processes.kcm ? { kubeControllerManager: processes.kcm.pid } : {}),
      };
    },
    logPaths,
    stopApiserver,
    startApiserver,
    restartApiserver: async () => {
      await stopApiserver();
      return startApiserver();
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
  return env;
}

/**
 * Stops the environment recorded in `dir` by a `startTestEnv({ detached: true })` in another
 * process (the CLI's `down`): only the PIDs in its state file whose command line still mentions
 * `dir`, then removes its files. Returns false if `dir` held no environment.
 */
export async function stopTestEnvInDir(dir: string): Promise<boolean> {
  const abs = resolve(dir);
  const state = await readState(abs);
  if (!state) return false;
  await stopRecorded(state);
  await removeEnv(abs, state.createdDir);
  return true;
}

async function stopRecorded(state: TestEnvState): Promise<void> {
  // The processes' command lines all contain paths under the environment directory.
  const marker = state.dir;
  for (const pid of [state.pids.kubeControllerManager, state.pids.kubeApiserver, state.pids.etcd]) {
    if (pid !== undefined) await stopPid(pid, marker);
  }
}

async function removeEnv(dir: string, createdDir: boolean): Promise<void> {
  if (process.env.TSMESH_TESTENV_KEEP === '1') return;
  await removeEntries(dir);
  if (createdDir) {
    try {
      await rmdir(dir);
    } catch {
      // not empty: someone else put files there; leave them
    }
  }
}

async function removeEntries(dir: string): Promise<void> {
  let present: string[];
  try {
    present = await readdir(dir);
  } catch {
    return;
  }
  await Promise.all(
    ENTRIES.filter((e) => present.includes(e)).map((e) => rm(join(dir, e), { recursive: true, force: true })),
  );
}

async function waitReady(
  proc: ManagedProcess,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  check: () => Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  for (;;) {
    throwIfAborted(signal);
    if (proc.exit) {
      throw new TestEnvError(
        'PROCESS_EXITED',
        `${proc.name} exited during startup (code ${proc.exit.code ?? proc.exit.signal}); ${proc.logPath}:\n${await proc.logTail()}`,
      );
    }
    try {
      if (await check()) return;
      lastError = 'not ready';
    } catch (err) {
      lastError = (err as Error).message;
    }
    if (Date.now() > deadline) {
      throw new TestEnvError(
        'START_TIMEOUT',
        `${proc.name} not ready after ${timeoutMs} ms (${lastError}); ${proc.logPath}:\n${await tailFile(proc.logPath)}`,
      );
    }
    await sleep(100, signal);
  }
}

/** Runs `attempt`; if the process exited complaining about its address, undo and retry once. */
async function withPortRetry(attempt: () => Promise<void>, undo: () => Promise<void>): Promise<void> {
  try {
    await attempt();
  } catch (err) {
    if (
      err instanceof TestEnvError &&
      err.code === 'PROCESS_EXITED' &&
      /address already in use/i.test(err.message)
    ) {
      await undo();
      await attempt();
      return;
    }
    throw err;
  }
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted)
    throw new TestEnvError('ABORTED', 'test environment startup aborted', { cause: signal.reason });
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** `198.19.0.0/16` → `198.19.0.1` (the `kubernetes` Service's ClusterIP). IPv4 only. */
export function firstServiceIp(cidr: string): string {
  const match = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(cidr);
  if (!match)
    throw new TestEnvError('INVALID_ARGUMENT', `service CIDR ${JSON.stringify(cidr)} is not an IPv4 CIDR`);
  const octets = match.slice(1, 5).map(Number);
  const bits = Number(match[5]);
  if (octets.some((o) => o > 255) || bits > 30) {
    throw new TestEnvError(
      'INVALID_ARGUMENT',
      `service CIDR ${JSON.stringify(cidr)} is invalid or too small`,
    );
  }
  const base = ((octets[0]! << 24) | (octets[1]! << 16) | (octets[2]! << 8) | octets[3]!) >>> 0;
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  const first = ((base & mask) + 1) >>> 0;
  return [first >>> 24, (first >>> 16) & 255, (first >>> 8) & 255, first & 255].join('.');
}
