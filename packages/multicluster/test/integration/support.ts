// Two clusters for the multicluster tests: the run's shared test environment is the local
// ("west") cluster; a second real kube-apiserver with its controller manager is the target
// ("east"). Plus a bounded poll that fails with what it last saw.
import { readFile } from 'node:fs/promises';
import {
  CoreKinds,
  crdManifests,
  createKubeApiClient,
  installCrds,
  MeshKinds,
  type KubeApiClient,
  type KubeObject,
  type ResourceKind,
} from '@tsmesh/kube';
import { ensureTestNode, startTestEnv, type TestEnv } from '@tsmesh/testenv';
import { testKubeConfig } from '@tsmesh/testenv/vitest';
import { loadKubeConfig } from '@tsmesh/testenv';

export interface Clusters {
  readonly west: KubeApiClient;
  readonly east: KubeApiClient;
  readonly eastEnv: TestEnv;
  /** The east cluster's admin kubeconfig (what a link's credentials Secret holds). */
  readonly eastKubeconfig: string;
  readonly eastNode: string;
  close(): Promise<void>;
}

export async function startClusters(): Promise<Clusters> {
  const west = createKubeApiClient(testKubeConfig(), { fieldManager: 'multicluster-test' });
  const linkCrd = crdManifests({ multicluster: true }).filter((c) => c.spec.names.kind === 'Link');
  await installCrds(west, linkCrd, { timeoutMs: 60_000 });
  const eastEnv = await startTestEnv();
  const eastKc = loadKubeConfig(eastEnv.kubeconfigPath);
  const east = createKubeApiClient(eastKc, { fieldManager: 'multicluster-test' });
  const eastNode = await ensureTestNode(eastKc);
  const eastKubeconfig = await readFile(eastEnv.kubeconfigPath, 'utf8');
  return {
    west,
    east,
    eastEnv,
    eastKubeconfig,
    eastNode,
    async close() {
      west.close();
      east.close();
      await eastEnv.stop();
    },
  };
}

/** Polls `probe` until it returns a value other than undefined; fails after `timeoutMs`. */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
      last = 'not yet';
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${String(last)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const RBAC = (kind: string, plural: string, namespaced: boolean) => ({
  group: 'rbac.authorization.k8s.io',
  version: 'v1',
  kind,
  plural,
  namespaced,
  servedVersions: ['v1'],
});

/** Resource kinds of the manifests `tsmesh multicluster install|link` render. */
export const MANIFEST_KINDS: Record<string, ResourceKind> = {
  Namespace: CoreKinds.Namespace,
  Secret: CoreKinds.Secret,
  Service: CoreKinds.Service,
  ServiceAccount: CoreKinds.ServiceAccount,
  Deployment: CoreKinds.Deployment,
  CustomResourceDefinition: CoreKinds.CustomResourceDefinition,
  Link: MeshKinds.Link,
  Server: MeshKinds.Server,
  MeshTLSAuthentication: MeshKinds.MeshTLSAuthentication,
  AuthorizationPolicy: MeshKinds.AuthorizationPolicy,
  ClusterRole: RBAC('ClusterRole', 'clusterroles', false),
  ClusterRoleBinding: RBAC('ClusterRoleBinding', 'clusterrolebindings', false),
  Role: RBAC('Role', 'roles', true),
  RoleBinding: RBAC('RoleBinding', 'rolebindings', true),
};

/** Server-side applies rendered manifests, in order. */
export async function applyManifests(client: KubeApiClient, objects: readonly KubeObject[]): Promise<void> {
  for (const object of objects) {
    const kind = MANIFEST_KINDS[object.kind ?? ''];
    if (!kind) throw new Error(`no resource kind for ${object.kind}`);
    await client.apply(kind, object, { force: true });
  }
}
