import { randomBytes } from 'node:crypto';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { sleep } from './managed-process.js';
import { TestEnvError } from './test-env-error.js';

/** Label put on every namespace {@link createTestNamespace} makes, for bulk cleanup. */
export const TEST_NAMESPACE_LABEL = 'testenv.tsmesh.io/test-namespace';

export interface CreateTestNamespaceOptions {
  /** Name prefix, reduced to a DNS label. Default `test`. A random suffix is appended. */
  prefix?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /**
   * Wait until the namespace controller's companions have created the `default` ServiceAccount
   * (the ServiceAccount admission plugin rejects pods until then). Default true; set false for
   * an environment without kube-controller-manager.
   */
  waitForDefaultServiceAccount?: boolean;
  /** Default 30 000. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** A namespace owned by one test. Dispose it (`await using`) or call `delete()`. */
export interface TestNamespace extends AsyncDisposable {
  readonly name: string;
  /**
   * Deletes the namespace (background propagation; the namespace controller removes its
   * contents). `wait: true` resolves only once it is gone. Idempotent; a missing namespace is fine.
   */
  delete(options?: { wait?: boolean; timeoutMs?: number }): Promise<void>;
}

/** Loads a kubeconfig file, or passes a KubeConfig through. */
export function loadKubeConfig(kubeconfig: KubeConfig | string): KubeConfig {
  if (typeof kubeconfig !== 'string') return kubeconfig;
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  return kc;
}

/** Creates a uniquely named namespace, e.g. `policy-watch-k3f9x2`. */
export async function createTestNamespace(
  kubeconfig: KubeConfig | string,
  options: CreateTestNamespaceOptions = {},
): Promise<TestNamespace> {
  const core = loadKubeConfig(kubeconfig).makeApiClient(CoreV1Api);
  const name = `${toDnsLabel(options.prefix ?? 'test', 50)}-${randomSuffix()}`;
  const timeoutMs = options.timeoutMs ?? 30_000;
  await core.createNamespace({
    body: {
      metadata: {
        name,
        labels: { ...options.labels, [TEST_NAMESPACE_LABEL]: 'true' },
        ...(options.annotations ? { annotations: options.annotations } : {}),
      },
    },
  });
  if (options.waitForDefaultServiceAccount ?? true) {
    await pollUntil(`ServiceAccount default in namespace ${name}`, timeoutMs, options.signal, async () => {
      try {
        await core.readNamespacedServiceAccount({ name: 'default', namespace: name });
        return true;
      } catch (err) {
        if (statusOf(err) === 404) return false;
        throw err;
      }
    });
  }
  let deleted = false;
  const remove = async ({ wait = false, timeoutMs: deleteTimeoutMs = 60_000 } = {}): Promise<void> => {
    if (!deleted) {
      deleted = true;
      // Pods bound to a node wait for a kubelet to confirm graceful deletion, and there is none:
      // delete them immediately so the namespace does not stay Terminating.
      try {
        await core.deleteCollectionNamespacedPod({ namespace: name, gracePeriodSeconds: 0 });
      } catch (err) {
        if (statusOf(err) !== 404) throw err;
      }
      try {
        await core.deleteNamespace({ name, propagationPolicy: 'Background' });
      } catch (err) {
        if (statusOf(err) !== 404) throw err;
      }
    }
    if (wait) {
      await pollUntil(`deletion of namespace ${name}`, deleteTimeoutMs, undefined, async () => {
        try {
          await core.readNamespace({ name });
          return false;
        } catch (err) {
          if (statusOf(err) === 404) return true;
          throw err;
        }
      });
    }
  };
  return { name, delete: remove, [Symbol.asyncDispose]: () => remove() };
}

/** `"My Test_Name!"` → `"my-test-name"`. */
export function toDnsLabel(value: string, maxLength = 63): string {
  const label = value
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+/, '')
    .slice(0, maxLength)
    .replace(/-+$/, '');
  return label || 'test';
}

function randomSuffix(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from(randomBytes(6), (b) => alphabet[b % alphabet.length]).join('');
}

/** HTTP status of a client-node ApiException (1.x: `code`), or undefined. */
export function statusOf(err: unknown): number | undefined {
  if (typeof err === 'object' && err !== null) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'number') return code;
  }
  return undefined;
}

async function pollUntil(
  what: string,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  check: () => Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline)
      throw new TestEnvError('START_TIMEOUT', `timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100, signal);
  }
}
