/**
 * vitest global setup: one real control plane per test run, shared by every project that lists
 * this module. In a package's vitest config:
 *
 *   tsmeshProject('kube', { globalSetup: ['@tsmesh/testenv/vitest-global-setup'] })
 *
 * Tests get the admin kubeconfig path with `inject('tsmeshTestenvKubeconfig')` (or use the
 * helpers in `@tsmesh/testenv/vitest`). Set TSMESH_TESTENV_KUBECONFIG to reuse an environment
 * started with `testenv up` instead of starting one.
 */
import type { TestProject } from 'vitest/node';
import { acquireSharedTestEnv, KUBECONFIG_KEY, releaseSharedTestEnv } from './shared-env.js';

declare module 'vitest' {
  export interface ProvidedContext {
    tsmeshTestenvKubeconfig: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const kubeconfigPath = await acquireSharedTestEnv({
    onLog: (line) => process.stderr.write(`${line}\n`),
  });
  project.provide(KUBECONFIG_KEY, kubeconfigPath);
  return releaseSharedTestEnv;
}
