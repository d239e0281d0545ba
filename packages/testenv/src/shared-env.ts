import { startTestEnv, type StartTestEnvOptions, type TestEnv } from './test-env.js';

/** Environment variable through which a running environment's kubeconfig is shared. */
export const KUBECONFIG_ENV = 'TSMESH_TESTENV_KUBECONFIG';

/** Key under which the vitest global setup provides the kubeconfig path (`inject(KUBECONFIG_KEY)`). */
export const KUBECONFIG_KEY = 'tsmeshTestenvKubeconfig';

interface Shared {
  refs: number;
  /** undefined when the environment was started outside (TSMESH_TESTENV_KUBECONFIG was set). */
  env: Promise<TestEnv> | undefined;
  kubeconfigPath: Promise<string>;
}

// On globalThis, so two copies of this module (source and built) still share one environment.
const SHARED = Symbol.for('@tsmesh/testenv/shared-env');
const slot = globalThis as unknown as { [SHARED]?: Shared };

/**
 * One environment per process, reference counted: the first `acquire` starts it (or adopts the
 * one named by $TSMESH_TESTENV_KUBECONFIG, e.g. from `testenv up`), the last `release` stops it.
 */
export async function acquireSharedTestEnv(options: StartTestEnvOptions = {}): Promise<string> {
  let shared = slot[SHARED];
  if (!shared) {
    const external = process.env[KUBECONFIG_ENV];
    if (external) {
      shared = { refs: 0, env: undefined, kubeconfigPath: Promise.resolve(external) };
    } else {
      const env = startTestEnv(options);
      shared = { refs: 0, env, kubeconfigPath: env.then((e) => e.kubeconfigPath) };
      // Test workers start after global setup and inherit this.
      void shared.kubeconfigPath.then((p) => (process.env[KUBECONFIG_ENV] = p)).catch(() => {});
    }
    slot[SHARED] = shared;
  }
  shared.refs++;
  try {
    return await shared.kubeconfigPath;
  } catch (err) {
    if (--shared.refs === 0) delete slot[SHARED];
    throw err;
  }
}

export async function releaseSharedTestEnv(): Promise<void> {
  const shared = slot[SHARED];
  if (!shared || --shared.refs > 0) return;
  delete slot[SHARED];
  if (shared.env) {
    delete process.env[KUBECONFIG_ENV];
    await (await shared.env).stop();
  }
}
