/**
 * Helpers for vitest test files running under `@tsmesh/testenv/vitest-global-setup`.
 *
 *   import { kubeTest } from '@tsmesh/testenv/vitest';
 *   kubeTest('creates a pod', async ({ kubeConfig, namespace }) => { … });
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { inject, onTestFinished, test } from 'vitest';
import { KUBECONFIG_ENV } from './shared-env.js';
import {
  createTestNamespace,
  loadKubeConfig,
  type CreateTestNamespaceOptions,
  type TestNamespace,
} from './test-namespace.js';
import { TestEnvError } from './test-env-error.js';

declare module 'vitest' {
  export interface ProvidedContext {
    tsmeshTestenvKubeconfig: string;
  }
}

/** The admin kubeconfig path of this run's environment. */
export function testKubeconfigPath(): string {
  const provided = inject('tsmeshTestenvKubeconfig') as string | undefined;
  const path = provided ?? process.env[KUBECONFIG_ENV];
  if (!path) {
    throw new TestEnvError(
      'INVALID_ARGUMENT',
      `no test environment: add '@tsmesh/testenv/vitest-global-setup' to this project's test.globalSetup, or set ${KUBECONFIG_ENV}`,
    );
  }
  return path;
}

/** A fresh client configuration for this run's environment (admin). */
export function testKubeConfig(): KubeConfig {
  return loadKubeConfig(testKubeconfigPath());
}

/** Creates a namespace for the test that is running and deletes it when that test finishes. */
export async function useTestNamespace(options: CreateTestNamespaceOptions = {}): Promise<TestNamespace> {
  const ns = await createTestNamespace(testKubeConfig(), options);
  onTestFinished(() => ns.delete());
  return ns;
}

export interface KubeFixtures {
  /** Admin KubeConfig for this run's environment. */
  kubeConfig: KubeConfig;
  /** A namespace created for this test (prefix: the test's name), deleted after it. */
  namespace: string;
}

/** `test` with `kubeConfig` and `namespace` fixtures. */
export const kubeTest = test.extend<KubeFixtures>({
  kubeConfig: async ({}, use) => {
    await use(testKubeConfig());
  },
  namespace: async ({ kubeConfig, task }, use) => {
    const ns = await createTestNamespace(kubeConfig, { prefix: task.name });
    try {
      await use(ns.name);
    } finally {
      await ns.delete();
    }
  },
});
