// `multicluster install` on the target cluster, `link` generated from it (the remote-access
// ServiceAccount's token as credentials), applied to the local cluster: the checks pass, the
// service mirror works with those credentials, and a trust-anchor mismatch is caught.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createRootCertificate, MulticlusterKey } from '@tsmesh/core';
import {
  CoreKinds,
  crdManifests,
  installCrds,
  MeshKinds,
  type KubeApiClient,
  type KubeObject,
} from '@tsmesh/kube';
import { createTestNamespace, loadKubeConfig, type TestNamespace } from '@tsmesh/testenv';
import { testKubeConfig } from '@tsmesh/testenv/vitest';
import { stringify } from 'yaml';
import {
  gatherLinkInput,
  multiclusterChecks,
  renderInstall,
  renderLink,
  ServiceMirror,
  type MulticlusterChecks,
} from '../../src/index.js';
import { applyManifests, eventually, startClusters, type Clusters } from './support.js';

let clusters: Clusters;
let gateway: Server;
let probePort: number;
const namespaces: TestNamespace[] = [];
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  clusters = await startClusters();
  gateway = createServer((req, res) => res.writeHead(req.url === '/ready' ? 200 : 404).end());
  await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', resolve));
  probePort = (gateway.address() as AddressInfo).port;
});

afterAll(async () => {
  for (const cleanup of cleanups) await cleanup().catch(() => {});
  for (const ns of namespaces) await ns.delete();
  gateway?.closeAllConnections();
  await new Promise((resolve) => (gateway ? gateway.close(resolve) : resolve(undefined)));
  await clusters?.close();
});

/** What `tsmesh install` leaves for multicluster to read: linkerd-config and the trust roots. */
async function controlPlane(
  client: KubeApiClient,
  namespace: string,
  anchorsPem: string,
  trustDomain: string,
) {
  const values = {
    clusterDomain: 'cluster.local',
    identityTrustDomain: trustDomain,
    identityTrustAnchorsPEM: anchorsPem,
  };
  await client.apply(
    CoreKinds.ConfigMap,
    { metadata: { name: 'linkerd-config', namespace }, data: { values: stringify(values) } },
    { force: true },
  );
  await client.apply(
    CoreKinds.ConfigMap,
    { metadata: { name: 'linkerd-identity-trust-roots', namespace }, data: { 'ca-bundle.crt': anchorsPem } },
    { force: true },
  );
}

async function runAll(checks: MulticlusterChecks) {
  const results: Record<string, string> = {};
  for (const category of checks.categories) {
    for (const check of category.checks) {
      try {
        await check.run();
        results[check.description] = 'ok';
      } catch (err) {
        results[check.description] = `failed: ${(err as Error).message}`;
      }
    }
  }
  return results;
}

test('install on the target, link from it, check both clusters, mirror with the generated credentials', async () => {
  const { west, east } = clusters;
  const eastKc = loadKubeConfig(clusters.eastEnv.kubeconfigPath);
  const kc = testKubeConfig();
  const westLinkerd = await createTestNamespace(kc, { prefix: 'mc-linkerd' });
  const westMc = await createTestNamespace(kc, { prefix: 'mc-multicluster' });
  const app = await createTestNamespace(kc, { prefix: 'mc-linked-app' });
  namespaces.push(westLinkerd, westMc, app);
  const cluster = `east${Math.random().toString(36).slice(2, 7)}`;

  // Both control planes share one trust anchor; east's trust domain differs (it is its own mesh).
  const anchor = createRootCertificate().certificate.pem;
  await east.create(CoreKinds.Namespace, { metadata: { name: 'linkerd' } });
  await controlPlane(east, 'linkerd', anchor, 'east.example');
  await controlPlane(west, westLinkerd.name, anchor, 'cluster.local');

  // Target: the multicluster install (policy CRDs for the gateway's Server and policies).
  await installCrds(east, crdManifests(), { timeoutMs: 60_000 });
  const install = renderInstall({ gatewayProbePort: probePort, identityTrustDomain: 'east.example' });
  await applyManifests(
    east,
    install.filter((o) => o.kind === 'CustomResourceDefinition'),
  );
  await installCrds(
    east,
    crdManifests({ multicluster: true }).filter((c) => c.spec.names.kind === 'Link'),
  );
  await applyManifests(
    east,
    install.filter((o) => o.kind !== 'CustomResourceDefinition'),
  );

  // Link, read from the target (the gateway "load balancer" is a local HTTP server for the probe).
  const input = await gatherLinkInput(east, eastKc, {
    clusterName: cluster,
    gatewayAddresses: ['127.0.0.1'],
  });
  expect(input).toMatchObject({
    gatewayPort: 4143,
    probePort,
    gatewayIdentity: 'linkerd-gateway.linkerd-multicluster.serviceaccount.identity.linkerd.east.example',
    targetTrustDomain: 'east.example',
    targetClusterDomain: 'cluster.local',
  });
  expect(input.kubeconfig).toContain('token:');
  const link = renderLink({ ...input, namespace: westMc.name, localLinkerdNamespace: westLinkerd.name });
  expect(link.map((o) => `${o.kind} ${o.metadata.name}`)).toEqual([
    `Secret cluster-credentials-${cluster}`,
    `Secret cluster-credentials-${cluster}`,
    `Link ${cluster}`,
    `ServiceAccount linkerd-service-mirror-${cluster}`,
    `ClusterRole linkerd-service-mirror-access-local-resources-${cluster}`,
    `ClusterRoleBinding linkerd-service-mirror-access-local-resources-${cluster}`,
    `Role linkerd-service-mirror-read-remote-creds-${cluster}`,
    `RoleBinding linkerd-service-mirror-read-remote-creds-${cluster}`,
    `Deployment linkerd-service-mirror-${cluster}`,
  ]);
  await applyManifests(west, link);
  cleanups.push(async () => {
    for (const o of link.filter((o) => o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding')) {
      await west.delete(
        {
          group: 'rbac.authorization.k8s.io',
          version: 'v1',
          kind: o.kind,
          plural: o.kind === 'ClusterRole' ? 'clusterroles' : 'clusterrolebindings',
          namespaced: false,
          servedVersions: ['v1'],
        },
        { name: o.metadata.name },
      );
    }
  });

  const checks = () =>
    multiclusterChecks({ connect: () => west, namespace: westMc.name, linkerdNamespace: westLinkerd.name });
  const ok = checks();
  const results = await runAll(ok);
  expect(results).toMatchObject({
    'Link CRD exists': 'ok',
    'Link resources are valid': 'ok',
    'remote cluster access credentials are valid': 'ok',
    'clusters share trust anchors': 'ok',
    'all gateways are reachable': 'ok',
  });
  // No kubelet here: the service mirror Deployment never gets a ready pod (a warning in the CLI).
  expect(results['service mirror controllers are running']).toContain('no ready replica');

  // East rotates to an anchor west does not have: the check names both and says how to fix it.
  await controlPlane(
    east,
    'linkerd',
    createRootCertificate({ commonName: 'root.east.example' }).certificate.pem,
    'east.example',
  );
  const mismatch = await runAll(checks());
  expect(mismatch['clusters share trust anchors']).toMatch(
    /trust anchors differ: cluster east\w+ has CN=root\.east\.example/,
  );
  expect(mismatch['remote cluster access credentials are valid']).toBe('ok');
  // A bundle holding both anchors on the west side fixes it.
  const eastAnchor = (
    await east.get<KubeObject & { data?: Record<string, string> }>(CoreKinds.ConfigMap, {
      namespace: 'linkerd',
      name: 'linkerd-identity-trust-roots',
    })
  ).data?.['ca-bundle.crt'];
  await controlPlane(west, westLinkerd.name, `${anchor}${eastAnchor}`, 'cluster.local');
  expect((await runAll(checks()))['clusters share trust anchors']).toBe('ok');

  // The generated credentials (the remote-access ServiceAccount's token and RBAC) are enough for
  // the service mirror. The gateway address becomes test data (never dialled: no probes).
  const current = await west.get(MeshKinds.Link, { namespace: westMc.name, name: cluster });
  await west.replace(MeshKinds.Link, {
    ...current,
    spec: { ...(current.spec as object), gatewayAddress: '198.18.7.1' },
  });
  await east.create(CoreKinds.Namespace, { metadata: { name: app.name } });
  await east.create(CoreKinds.Service, {
    metadata: { name: 'web', namespace: app.name, labels: { [MulticlusterKey.Exported]: 'true' } },
    spec: { ports: [{ name: 'http', port: 80 }] },
  });
  const stop = new AbortController();
  const mirror = new ServiceMirror({
    local: west,
    linkNamespace: westMc.name,
    linkName: cluster,
    probeGateway: false,
  });
  const running = mirror.run(stop.signal);
  try {
    const mirrored = await eventually(`web-${cluster}`, async () => {
      try {
        return await west.get(CoreKinds.Service, { namespace: app.name, name: `web-${cluster}` });
      } catch {
        return undefined;
      }
    });
    expect(mirrored.metadata?.labels?.[MulticlusterKey.ClusterName]).toBe(cluster);
  } finally {
    stop.abort();
    await running;
    ok.close();
  }
});
