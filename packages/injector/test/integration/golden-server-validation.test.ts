// Every injected manifest of the golden corpus is a valid Kubernetes object: the real apiserver
// accepts each one in a dry-run create (schema, field validation, native-sidecar rules).
import { readdirSync, readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { kubeTest } from '@tsmesh/testenv/vitest';
import { createKubeApiClient, resourcePath, type KubeObject, type ResourceKind } from '@tsmesh/kube';

const expectedDir = new URL('../golden/expected/', import.meta.url);

const KINDS: Record<string, Omit<ResourceKind, 'kind' | 'namespaced' | 'servedVersions'>> = {
  Pod: { group: '', version: 'v1', plural: 'pods' },
  Service: { group: '', version: 'v1', plural: 'services' },
  ConfigMap: { group: '', version: 'v1', plural: 'configmaps' },
  ReplicationController: { group: '', version: 'v1', plural: 'replicationcontrollers' },
  Deployment: { group: 'apps', version: 'v1', plural: 'deployments' },
  StatefulSet: { group: 'apps', version: 'v1', plural: 'statefulsets' },
  DaemonSet: { group: 'apps', version: 'v1', plural: 'daemonsets' },
  ReplicaSet: { group: 'apps', version: 'v1', plural: 'replicasets' },
  Job: { group: 'batch', version: 'v1', plural: 'jobs' },
  CronJob: { group: 'batch', version: 'v1', plural: 'cronjobs' },
};

kubeTest('the apiserver accepts every injected golden manifest', async ({ kubeConfig, namespace }) => {
  const client = createKubeApiClient(kubeConfig);
  try {
    const objects: KubeObject[] = [];
    for (const file of readdirSync(expectedDir).filter((f) => f.endsWith('.golden'))) {
      const text = readFileSync(new URL(file, expectedDir), 'utf8');
      const values = file.endsWith('.json.golden')
        ? [JSON.parse(text) as KubeObject]
        : parseAllDocuments(text).map((d) => d.toJS() as KubeObject);
      for (const value of values) {
        if (value?.kind === 'List') objects.push(...((value as { items: KubeObject[] }).items ?? []));
        else if (value) objects.push(value);
      }
    }
    expect(objects.length).toBeGreaterThan(15);
    // Strict validation is really on: a misspelt field is refused.
    await expect(
      client.request({
        method: 'POST',
        path: resourcePath({ ...KINDS.Pod!, namespaced: true }, { namespace }),
        query: { dryRun: 'All', fieldValidation: 'Strict' },
        body: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x' }, spec: { containerz: [] } },
      }),
    ).rejects.toThrow(/containerz/);
    for (const object of objects) {
      const kind = KINDS[object.kind as string]!;
      expect(kind, `kind ${object.kind}`).toBeDefined();
      const meta = object.metadata as { name: string; namespace?: string; ownerReferences?: unknown };
      const body = { ...object, metadata: { ...meta, namespace, ownerReferences: undefined } };
      // Strict field validation: an unknown or duplicated field is an error, not a dropped field.
      await expect(
        client.request({
          method: 'POST',
          path: resourcePath({ ...kind, namespaced: true }, { namespace }),
          query: { dryRun: 'All', fieldValidation: 'Strict' },
          body,
        }),
        `${object.kind}/${meta.name}`,
      ).resolves.toMatchObject({ kind: object.kind });
    }
  } finally {
    client.close();
  }
});
