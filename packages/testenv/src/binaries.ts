import { spawn } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { TestEnvError } from './test-env-error.js';

/** Absolute paths of the control-plane binaries and the versions they were built at. */
export interface Binaries {
  readonly kubeApiserver: string;
  readonly kubeControllerManager: string;
  readonly etcd: string;
  readonly helm: string;
  /** kubectl built from the same Kubernetes module (component `kubectl`). */
  readonly kubectl: string;
  /** What a one-node cluster adds (component `node`; not built by default). */
  readonly kubelet: string;
  readonly kubeScheduler: string;
  readonly kubeProxy: string;
  /** The cluster DNS (component `coredns`; not built by default). */
  readonly coredns: string;
  readonly versions: {
    readonly kubernetes: string;
    readonly etcd: string;
    readonly helm: string;
    readonly coredns: string;
  };
  /** The cache root (`$TSMESH_CACHE_DIR`, else `$XDG_CACHE_HOME/tsmesh`, else `~/.cache/tsmesh`). */
  readonly cacheDir: string;
}

export type BinaryComponent = 'kube' | 'etcd' | 'helm' | 'kubectl' | 'node' | 'coredns';

/** Every component the build script knows; `testenv build` without arguments builds {@link DEFAULT_BUILD_COMPONENTS}. */
export const BINARY_COMPONENTS: readonly BinaryComponent[] = Object.freeze([
  'kube',
  'etcd',
  'helm',
  'kubectl',
  'node',
  'coredns',
]);

/** What CI's control-plane tests need; the cluster's `node` and `coredns` are built on demand. */
export const DEFAULT_BUILD_COMPONENTS: readonly BinaryComponent[] = Object.freeze([
  'kube',
  'etcd',
  'helm',
  'kubectl',
]);

export interface EnsureBinariesOptions {
  /** What to build if missing. Default: kube and etcd (what a test environment runs). */
  components?: readonly BinaryComponent[];
  signal?: AbortSignal;
  /** Receives the build's progress lines. Default: written to stderr. */
  onLog?: (line: string) => void;
}

/** The build script shipped in this package (the single place where versions are pinned). */
export const buildScriptPath: string = fileURLToPath(new URL('../scripts/build-kube.sh', import.meta.url));

/** Helper scripts shipped in this package (`scripts/`), e.g. the cluster's egress proxy. */
export const packageScriptsDir: string = fileURLToPath(new URL('../scripts/', import.meta.url));

/**
 * The repository's `images/` directory (image build scripts). This package is private to the
 * repository, so it is always there, from `src/` and from `dist/` alike.
 */
export const repositoryImagesDir: string = fileURLToPath(new URL('../../../images/', import.meta.url));

/** Where the binaries live (or will), without building anything. */
export async function locateBinaries(signal?: AbortSignal): Promise<Binaries> {
  const { stdout } = await runScript(['--print-env'], { signal, onLog: () => {} });
  return parseEnv(stdout);
}

/**
 * Returns the binaries, building the missing ones first with `scripts/build-kube.sh` (10-30 min
 * cold on 2 cores for Kubernetes; nothing when cached). Concurrent callers (also in other
 * processes) are serialised by the script's lock file.
 */
export async function ensureBinaries(options: EnsureBinariesOptions = {}): Promise<Binaries> {
  const components = options.components ?? ['kube', 'etcd'];
  const located = await locateBinaries(options.signal);
  const wanted: Record<BinaryComponent, string[]> = {
    kube: [located.kubeApiserver, located.kubeControllerManager],
    etcd: [located.etcd],
    helm: [located.helm],
    kubectl: [located.kubectl],
    node: [located.kubelet, located.kubeScheduler, located.kubeProxy],
    coredns: [located.coredns],
  };
  const missing: BinaryComponent[] = [];
  for (const c of components) {
    for (const file of wanted[c]) {
      if (!(await isExecutable(file))) {
        missing.push(c);
        break;
      }
    }
  }
  if (missing.length === 0) return located;
  const onLog = options.onLog ?? ((line: string) => process.stderr.write(`${line}\n`));
  onLog(`testenv: building ${missing.join(', ')} with ${buildScriptPath} (cached afterwards)`);
  const { stdout } = await runScript(missing, { signal: options.signal, onLog });
  return parseEnv(stdout);
}

async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function runScript(
  args: readonly string[],
  { signal, onLog }: { signal: AbortSignal | undefined; onLog: (line: string) => void },
): Promise<{ stdout: string }> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new TestEnvError('ABORTED', 'aborted before building binaries', { cause: signal.reason }));
      return;
    }
    const child = spawn('bash', [buildScriptPath, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/local/go/bin` },
      // Own process group, so that aborting stops the whole build (bash and its go children).
      detached: true,
    });
    const onAbort = (): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
      reject(new TestEnvError('ABORTED', 'aborted while building binaries', { cause: signal?.reason }));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    let stdout = '';
    const tail: string[] = [];
    let pending = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        tail.push(line);
        if (tail.length > 30) tail.shift();
        onLog(line);
      }
    });
    child.on('error', (err) => {
      signal?.removeEventListener('abort', onAbort);
      reject(new TestEnvError('BUILD_FAILED', `${buildScriptPath}: ${err.message}`, { cause: err }));
    });
    child.on('close', (code, sig) => {
      signal?.removeEventListener('abort', onAbort);
      if (code === 0) resolve({ stdout });
      else if (!signal?.aborted)
        reject(
          new TestEnvError(
            'BUILD_FAILED',
            `${buildScriptPath} ${args.join(' ')} exited with ${code ?? sig}; last output:\n${[...tail, pending].join('\n')}`,
          ),
        );
    });
  });
}

function parseEnv(text: string): Binaries {
  const env = new Map<string, string>();
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) env.set(line.slice(0, eq), line.slice(eq + 1));
  }
  const get = (key: string): string => {
    const value = env.get(key);
    if (!value) throw new TestEnvError('BUILD_FAILED', `${buildScriptPath} printed no ${key}`);
    return value;
  };
  return {
    kubeApiserver: get('KUBE_APISERVER'),
    kubeControllerManager: get('KUBE_CONTROLLER_MANAGER'),
    etcd: get('ETCD'),
    helm: get('HELM'),
    kubectl: get('KUBECTL'),
    kubelet: get('KUBELET'),
    kubeScheduler: get('KUBE_SCHEDULER'),
    kubeProxy: get('KUBE_PROXY'),
    coredns: get('COREDNS'),
    versions: {
      kubernetes: get('K8S_VERSION'),
      etcd: get('ETCD_VERSION'),
      helm: get('HELM_VERSION'),
      coredns: get('COREDNS_VERSION'),
    },
    cacheDir: get('TSMESH_CACHE_DIR'),
  };
}
