// The service mirror between two real kube-apiservers: link them, export Services in the target
// ("east"), see the mirrors in the local cluster ("west") with the right endpoints, follow remote
// endpoint and gateway changes, remote-discovery and federated Services, then unexport and unlink
// and see everything removed.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { MulticlusterKey } from '@tsmesh/core';
import { CoreKinds, isNotFound, MeshKinds, type KubeApiClient, type KubeObject } from '@tsmesh/kube';
import { createTestNamespace, loadKubeConfig, markPodRunning, type TestNamespace } from '@tsmesh/testenv';
import { testKubeConfig } from '@tsmesh/testenv/vitest';
import { Registry } from 'prom-client';
import { silentLogger } from '@tsmesh/kube';
import {
  EndpointsKind,
  parseServiceMirrorConfig,
  serveServiceMirror,
  ServiceMirror,
  type EndpointsObject,
  type ServiceObject,
} from '../../src/index.js';
import { eventually, startClusters, type Clusters } from './support.js';

let clusters: Clusters;
const namespaces: TestNamespace[] = [];

beforeAll(async () => {
  clusters = await startClusters();
});

afterAll(async () => {
  for (const ns of namespaces) await ns.delete();
  await clusters?.close();
});

async function getOrUndefined<T extends KubeObject>(
  client: KubeApiClient,
  kind: Parameters<KubeApiClient['get']>[0],
  namespace: string,
  name: string,
): Promise<T | undefined> {
  try {
    return await client.get<T>(kind, { namespace, name });
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

async function gone(
  client: KubeApiClient,
  kind: Parameters<KubeApiClient['get']>[0],
  namespace: string,
  name: string,
) {
  return (await getOrUndefined(client, kind, namespace, name)) === undefined ? true : undefined;
}

/** The same namespace name in east, once its default ServiceAccount exists (pods need it). */
async function eastNamespace(name: string): Promise<void> {
  await clusters.east.create(CoreKinds.Namespace, { metadata: { name } });
  await eventually('east default ServiceAccount', () =>
    getOrUndefined(clusters.east, CoreKinds.ServiceAccount, name, 'default'),
  );
}

/** Two test namespaces here (app, system) and the app namespace in east too. */
async function namespacesFor(prefix: string): Promise<{ ns: string; system: string }> {
  const kc = testKubeConfig();
  const app = await createTestNamespace(kc, { prefix: `${prefix}-app` });
  const system = await createTestNamespace(kc, { prefix: `${prefix}-system` });
  namespaces.push(app, system);
  await eastNamespace(app.name);
  return { ns: app.name, system: system.name };
}

/** The credentials Secret `tsmesh multicluster link` writes, holding east's kubeconfig. */
async function credentialsSecret(namespace: string, name: string): Promise<void> {
  await clusters.west.create(CoreKinds.Secret, {
    metadata: { name, namespace },
    type: MulticlusterKey.RemoteKubeconfigSecretType,
    data: { kubeconfig: Buffer.from(clusters.eastKubeconfig).toString('base64') },
  });
}

function remoteService(namespace: string, name: string, labels: Record<string, string>): KubeObject {
  return {
    metadata: { name, namespace, labels, annotations: { 'example.com/owner': 'team-a' } },
    spec: {
      selector: { app: name },
      ports: [
        { name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' },
        { name: 'admin', port: 9990, targetPort: 9990, protocol: 'TCP' },
      ],
    },
  };
}

async function remotePod(namespace: string, app: string, ip: string): Promise<void> {
  await clusters.east.create(CoreKinds.Pod, {
    metadata: { name: `${app}-0`, namespace, labels: { app } },
    spec: {
      nodeName: clusters.eastNode,
      containers: [
        { name: 'app', image: 'example.invalid/app', ports: [{ containerPort: 8080, name: 'http' }] },
      ],
    },
  });
  await markPodRunning(loadKubeConfig(clusters.eastEnv.kubeconfigPath), {
    namespace,
    name: `${app}-0`,
    podIP: ip,
  });
}

test('mirrors exported services through the gateway, follows changes, cleans up on unexport and unlink', async () => {
  const { ns, system } = await namespacesFor('mc');
  const { west, east } = clusters;

  // The target cluster: an exported Service with a ready pod, one for remote discovery, one federated.
  await east.create(
    CoreKinds.Service,
    remoteService(ns, 'web', { [MulticlusterKey.Exported]: 'true', tier: 'front' }),
  );
  await east.create(
    CoreKinds.Service,
    remoteService(ns, 'api', { [MulticlusterKey.Exported]: 'remote-discovery' }),
  );
  await east.create(CoreKinds.Service, remoteService(ns, 'db', { [MulticlusterKey.Federated]: 'member' }));
  await east.create(CoreKinds.Service, remoteService(ns, 'private', {}));
  await remotePod(ns, 'web', '198.18.1.10');

  // The link, as `tsmesh multicluster link` writes it.
  await credentialsSecret(system, 'cluster-credentials-east');
  await west.create(MeshKinds.Link, {
    metadata: { name: 'east', namespace: system },
    spec: {
      targetClusterName: 'east',
      targetClusterDomain: 'cluster.local',
      targetClusterLinkerdNamespace: 'linkerd',
      clusterCredentialsSecret: 'cluster-credentials-east',
      gatewayAddress: '198.18.9.1',
      gatewayPort: '4143',
      gatewayIdentity: 'linkerd-gateway.linkerd-multicluster.serviceaccount.identity.linkerd.cluster.local',
      probeSpec: { path: '/ready', port: '4191', period: '3s' },
      selector: { matchLabels: { [MulticlusterKey.Exported]: 'true' } },
      remoteDiscoverySelector: { matchLabels: { [MulticlusterKey.Exported]: 'remote-discovery' } },
      federatedServiceSelector: { matchLabels: { [MulticlusterKey.Federated]: 'member' } },
    },
  });

  const stop = new AbortController();
  // No probes: the gateway address is test data in 198.18.0.0/15, never dialled.
  const mirror = new ServiceMirror({
    local: west,
    linkNamespace: system,
    linkName: 'east',
    probeGateway: false,
  });
  const running = mirror.run(stop.signal);
  try {
    // Gateway mode: web-east with web's labels (minus mirror.linkerd.io/*) and Linkerd's annotations,
    // its Endpoints at the gateway for each remote port.
    const web = await eventually('mirror web-east', () =>
      getOrUndefined<ServiceObject>(west, CoreKinds.Service, ns, 'web-east'),
    );
    expect(web.metadata?.labels).toEqual({
      tier: 'front',
      [MulticlusterKey.MirroredService]: 'true',
      [MulticlusterKey.ClusterName]: 'east',
    });
    expect(web.metadata?.annotations).toMatchObject({
      'example.com/owner': 'team-a',
      [MulticlusterKey.RemoteServiceFqName]: `web.${ns}.svc.cluster.local`,
    });
    expect(web.spec?.ports?.map((p) => [p.name, p.port, p.targetPort])).toEqual([
      ['http', 80, 8080],
      ['admin', 9990, 9990],
    ]);
    await eventually('the mirroring phase', async () => (mirror.phase === 'mirroring' ? true : undefined));
    const endpointsOf = (name: string) => getOrUndefined<EndpointsObject>(west, EndpointsKind, ns, name);
    const gatewayIps = async (ready: boolean) => {
      const ep = await endpointsOf('web-east');
      const key = ready ? 'addresses' : 'notReadyAddresses';
      return ep?.subsets?.[0]?.[key]?.map((a) => a.ip).join(',');
    };
    const ep = await eventually('web-east endpoints at the gateway', async () =>
      (await gatewayIps(true)) === '198.18.9.1' ? endpointsOf('web-east') : undefined,
    );
    expect(ep.subsets?.[0]?.ports).toEqual([
      { name: 'http', port: 4143, protocol: 'TCP' },
      { name: 'admin', port: 4143, protocol: 'TCP' },
    ]);
    expect(ep.metadata?.annotations?.[MulticlusterKey.RemoteGatewayIdentity]).toBe(
      'linkerd-gateway.linkerd-multicluster.serviceaccount.identity.linkerd.cluster.local',
    );

    // Remote discovery: a Service without Endpoints, labelled for the destination service.
    const api = await eventually('mirror api-east', () =>
      getOrUndefined<ServiceObject>(west, CoreKinds.Service, ns, 'api-east'),
    );
    expect(api.metadata?.labels).toMatchObject({
      [MulticlusterKey.RemoteDiscovery]: 'east',
      [MulticlusterKey.RemoteService]: 'api',
    });
    expect(await endpointsOf('api-east')).toBeUndefined();
    // Federated: db-federated lists db@east.
    const db = await eventually('db-federated', () =>
      getOrUndefined<ServiceObject>(west, CoreKinds.Service, ns, 'db-federated'),
    );
    expect(db.metadata?.annotations?.[MulticlusterKey.RemoteDiscovery]).toBe('db@east');
    expect(await getOrUndefined(west, CoreKinds.Service, ns, 'private-east')).toBeUndefined();
    // The Link's status says what was mirrored, as Linkerd's service mirror writes it.
    type Status = {
      mirrorServices?: {
        remoteRef: { name: string };
        conditions: { status: string; localRef?: { name: string } }[];
      }[];
      federatedServices?: unknown[];
    };
    const status = await eventually('the Link status', async () => {
      const link = await west.get<KubeObject & { status?: Status }>(MeshKinds.Link, {
        namespace: system,
        name: 'east',
      });
      return link.status?.mirrorServices?.length === 2 && link.status.federatedServices?.length === 1
        ? link.status
        : undefined;
    });
    expect(
      status.mirrorServices?.map((m) => [
        m.remoteRef.name,
        m.conditions[0]?.status,
        m.conditions[0]?.localRef?.name,
      ]),
    ).toEqual([
      ['api', 'True', 'api-east'],
      ['web', 'True', 'web-east'],
    ]);

    // The remote pod stops being ready: the mirror has no endpoints; ready again: back at the gateway.
    await markPodRunning(loadKubeConfig(clusters.eastEnv.kubeconfigPath), {
      namespace: ns,
      name: 'web-0',
      podIP: '198.18.1.10',
      ready: false,
    });
    await eventually('web-east endpoints emptied', async () =>
      ((await endpointsOf('web-east'))?.subsets ?? []).length === 0 ? true : undefined,
    );
    await markPodRunning(loadKubeConfig(clusters.eastEnv.kubeconfigPath), {
      namespace: ns,
      name: 'web-0',
      podIP: '198.18.1.10',
    });
    await eventually('web-east endpoints back', async () =>
      (await gatewayIps(true)) === '198.18.9.1' ? true : undefined,
    );

    // The gateway moves (two addresses now): the endpoints follow the Link.
    const link = await west.get(MeshKinds.Link, { namespace: system, name: 'east' });
    await west.replace(MeshKinds.Link, {
      ...link,
      spec: { ...(link.spec as object), gatewayAddress: '198.18.9.3,198.18.9.2', gatewayPort: '4150' },
    });
    await eventually('web-east endpoints at the new gateway', async () =>
      (await gatewayIps(true)) === '198.18.9.2,198.18.9.3' ? true : undefined,
    );
    expect((await endpointsOf('web-east'))?.subsets?.[0]?.ports?.[0]?.port).toBe(4150);

    // A remote port change reaches the mirror.
    const remoteWeb = await east.get<ServiceObject>(CoreKinds.Service, { namespace: ns, name: 'web' });
    await east.replace(CoreKinds.Service, {
      ...remoteWeb,
      spec: { ...remoteWeb.spec, ports: [{ name: 'http', port: 81, targetPort: 8080, protocol: 'TCP' }] },
    });
    await eventually('web-east ports follow', async () => {
      const s = await getOrUndefined<ServiceObject>(west, CoreKinds.Service, ns, 'web-east');
      return s?.spec?.ports?.length === 1 && s.spec.ports[0]?.port === 81 ? true : undefined;
    });

    // Unexport web: its mirror and endpoints go; the others stay.
    const current = await east.get<ServiceObject>(CoreKinds.Service, { namespace: ns, name: 'web' });
    await east.replace(CoreKinds.Service, {
      ...current,
      metadata: { ...current.metadata, labels: { tier: 'front' } },
    });
    await eventually('web-east deleted', () => gone(west, CoreKinds.Service, ns, 'web-east'));
    await eventually('web-east endpoints deleted', () => gone(west, EndpointsKind, ns, 'web-east'));
    expect(await getOrUndefined(west, CoreKinds.Service, ns, 'api-east')).toBeDefined();

    // Unlink: everything the link made is removed.
    await west.delete(MeshKinds.Link, { namespace: system, name: 'east' });
    await eventually('api-east deleted', () => gone(west, CoreKinds.Service, ns, 'api-east'));
    await eventually('db-federated deleted', () => gone(west, CoreKinds.Service, ns, 'db-federated'));
    await eventually('the waiting-for-link phase', async () =>
      mirror.phase === 'waiting-for-link' ? true : undefined,
    );
  } finally {
    stop.abort();
    await running;
  }
});

test('two leader-elected replicas: one mirrors, the other takes over when it stops', async () => {
  const { ns, system } = await namespacesFor('mc-ha');
  const { west, east } = clusters;
  await east.create(CoreKinds.Service, remoteService(ns, 'one', { [MulticlusterKey.Exported]: 'true' }));
  await credentialsSecret(system, 'creds');
  await west.create(MeshKinds.Link, {
    metadata: { name: 'east', namespace: system },
    spec: {
      targetClusterName: 'east',
      clusterCredentialsSecret: 'creds',
      selector: { matchLabels: { [MulticlusterKey.Exported]: 'true' } },
    },
  });
  const config = parseServiceMirrorConfig([
    `-namespace=${system}`,
    '-admin-addr=127.0.0.1:0',
    '-probe-gateway=false',
    'east',
  ]);
  if ('help' in config) throw new Error('help');
  const replica = (identity: string) => {
    const stop = new AbortController();
    const done = serveServiceMirror(config, {
      local: west,
      logger: silentLogger,
      registry: new Registry(),
      signal: stop.signal,
      identity,
      leaseDurationMs: 3000,
      renewDeadlineMs: 2000,
      retryPeriodMs: 200,
    });
    return { stop: () => (stop.abort(), done) };
  };
  const a = replica('replica-a');
  const b = replica('replica-b');
  try {
    await eventually('mirror one-east', () => getOrUndefined(west, CoreKinds.Service, ns, 'one-east'));
    const lease = await eventually('the lease', () =>
      getOrUndefined<KubeObject & { spec?: { holderIdentity?: string } }>(
        west,
        {
          group: 'coordination.k8s.io',
          version: 'v1',
          kind: 'Lease',
          plural: 'leases',
          namespaced: true,
          servedVersions: ['v1'],
        },
        system,
        'service-mirror-write-east',
      ),
    );
    const leader = lease.spec?.holderIdentity;
    expect(['replica-a', 'replica-b']).toContain(leader);
    // The leader stops (releasing the Lease); the standby takes over and follows new exports.
    await (leader === 'replica-a' ? a : b).stop();
    await east.create(CoreKinds.Service, remoteService(ns, 'two', { [MulticlusterKey.Exported]: 'true' }));
    await eventually('mirror two-east by the new leader', () =>
      getOrUndefined(west, CoreKinds.Service, ns, 'two-east'),
    );
    expect(await getOrUndefined(west, CoreKinds.Service, ns, 'one-east')).toBeDefined();
  } finally {
    await a.stop();
    await b.stop();
  }
});
