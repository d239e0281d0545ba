// The example in README.md, kept running.
import { CoreV1Api } from '@kubernetes/client-node';
import { expect, test } from 'vitest';
import { createTestNamespace, loadKubeConfig } from '../../src/index.js';
import { kubeTest, testKubeconfigPath } from '../../src/vitest.js';

kubeTest('creates a ConfigMap in its own namespace', async ({ kubeConfig, namespace }) => {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  await core.createNamespacedConfigMap({
    namespace,
    body: { metadata: { name: 'hello' }, data: { a: 'b' } },
  });
  const cm = await core.readNamespacedConfigMap({ name: 'hello', namespace });
  expect(cm.data).toEqual({ a: 'b' });
});

test('without fixtures: await using deletes the namespace', async () => {
  const kc = loadKubeConfig(testKubeconfigPath());
  let name: string;
  {
    await using ns = await createTestNamespace(kc, { prefix: 'readme' });
    name = ns.name;
    // kube-controller-manager published the cluster CA into the new namespace.
    await expect
      .poll(async () => {
        const cms = await kc.makeApiClient(CoreV1Api).listNamespacedConfigMap({ namespace: ns.name });
        return cms.items.map((c) => c.metadata?.name);
      })
      .toContain('kube-root-ca.crt');
  }
  const after = await kc
    .makeApiClient(CoreV1Api)
    .readNamespace({ name })
    .catch(() => undefined);
  expect(after === undefined || after.metadata?.deletionTimestamp !== undefined).toBe(true);
});
