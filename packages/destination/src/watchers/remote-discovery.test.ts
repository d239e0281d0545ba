// Remote discovery (multicluster) through the destination service: linked clusters named by
// credentials Secrets (a stub connects them to in-memory sources), a remote-discovery mirror and a
// federated Service resolved to the linked cluster's endpoints with its trust domain; changes in
// the linked cluster reach the streams; deleting the Secret unlinks.
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { MulticlusterKey } from '@tsmesh/core';
import { CoreKinds, type KubeObject } from '@tsmesh/kube';
import type { DestinationClient } from '@tsmesh/core';
import { createClient, getEndpoints } from '../../test/integration/support.js';
import { startDestinationService, type DestinationService } from '../server/index.js';
import { MemorySource } from './memory-source.test-support.js';
import { remoteMembersOf } from './remote-endpoint-views.js';
import { secretRemoteClusterDiscovery } from './remote-clusters.js';

const service = (name: string, extra: Record<string, unknown> = {}): KubeObject => ({
  metadata: { name, namespace: 'shop', ...extra },
  spec: { ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
});

const pod = (name: string, ip: string): KubeObject => ({
  metadata: { name, namespace: 'shop', labels: { 'linkerd.io/control-plane-ns': 'linkerd' } },
  spec: { serviceAccountName: name.split('-')[0], containers: [{ name: 'app' }] },
  status: { phase: 'Running', podIP: ip, podIPs: [{ ip }] },
});

const slice = (service: string, pods: [string, string][]): KubeObject => ({
  metadata: { name: `${service}-abc`, namespace: 'shop', labels: { 'kubernetes.io/service-name': service } },
  addressType: 'IPv4',
  ports: [{ name: 'http', port: 8080 }],
  endpoints: pods.map(([name, ip]) => ({
    addresses: [ip],
    conditions: { ready: true },
    targetRef: { kind: 'Pod', name, namespace: 'shop' },
  })),
});

const credentials = (cluster: string): KubeObject => ({
  metadata: {
    name: `cluster-credentials-${cluster}`,
    namespace: 'linkerd',
    labels: { 'multicluster.linkerd.io/cluster-name': cluster },
    annotations: {
      'multicluster.linkerd.io/trust-domain': `${cluster}.example`,
      'multicluster.linkerd.io/cluster-domain': 'cluster.local',
    },
  },
  type: MulticlusterKey.RemoteKubeconfigSecretType,
  data: { kubeconfig: Buffer.from(`kubeconfig of ${cluster}`).toString('base64') },
});

describe('remote discovery', () => {
  let local: MemorySource;
  let east: MemorySource;
  let svc: DestinationService;
  let client: DestinationClient;
  const connected: string[] = [];

  beforeEach(async () => {
    local = new MemorySource();
    east = new MemorySource();
    connected.length = 0;
    local.put(
      CoreKinds.Service,
      service('api-east', {
        labels: { [MulticlusterKey.RemoteDiscovery]: 'east', [MulticlusterKey.RemoteService]: 'api' },
      }),
      service('web-federated', {
        annotations: {
          [MulticlusterKey.RemoteDiscovery]: 'web@east,web@west',
          [MulticlusterKey.LocalDiscovery]: 'web',
        },
      }),
      service('web'),
    );
    local.put(CoreKinds.Pod, pod('web-0', '198.18.1.1'));
    local.put(CoreKinds.EndpointSlice, slice('web', [['web-0', '198.18.1.1']]));
    local.put(CoreKinds.Secret, credentials('east'));
    east.put(CoreKinds.Service, service('api'), service('web'));
    east.put(CoreKinds.Pod, pod('api-0', '198.18.2.1'), pod('web-0', '198.18.2.5'));
    east.put(
      CoreKinds.EndpointSlice,
      slice('api', [['api-0', '198.18.2.1']]),
      slice('web', [['web-0', '198.18.2.5']]),
    );
    svc = await startDestinationService({
      source: local,
      port: 0,
      remoteDiscovery: secretRemoteClusterDiscovery({
        source: local,
        namespace: 'linkerd',
        connect: (kubeconfig, cluster) => {
          connected.push(`${cluster}: ${kubeconfig}`);
          return { source: east, close: async () => {} };
        },
      }),
    });
    client = createClient(svc.address);
  });

  afterEach(async () => {
    client.close();
    await svc.close();
    await local.close();
    await east.close();
  });

  test("a remote-discovery mirror resolves to the linked cluster's pods, with its trust domain", async () => {
    const { model, stream } = getEndpoints(client, 'api-east.shop.svc.cluster.local:80');
    await stream.until(() => model.keys().length === 1, 10_000, 'the remote endpoint');
    expect(connected).toEqual(['east: kubeconfig of east']);
    expect(model.keys()).toEqual(['198.18.2.1:8080']);
    const [wa] = model.addrs.values();
    expect(wa?.tlsIdentity?.dnsLikeIdentity?.name).toBe(
      'api.shop.serviceaccount.identity.linkerd.east.example',
    );
    expect(wa?.metricLabels).toMatchObject({ pod: 'api-0' });

    // The linked cluster scales up: the stream follows.
    east.put(CoreKinds.Pod, pod('api-1', '198.18.2.2'));
    east.put(
      CoreKinds.EndpointSlice,
      slice('api', [
        ['api-0', '198.18.2.1'],
        ['api-1', '198.18.2.2'],
      ]),
    );
    await stream.until(() => model.keys().length === 2, 10_000, 'the second remote endpoint');

    // Unlinked (credentials deleted): no endpoints.
    local.remove(CoreKinds.Secret, 'linkerd', 'cluster-credentials-east');
    await stream.until(
      () => model.keys().length === 0 && model.noEndpoints > 0,
      10_000,
      'no endpoints after unlink',
    );
    stream.cancel();
  });

  test('a federated Service is the union of its local and remote members (unknown clusters add nothing)', async () => {
    const { model, stream } = getEndpoints(client, 'web-federated.shop.svc.cluster.local:80');
    await stream.until(() => model.keys().length === 2, 10_000, 'local and remote endpoints');
    expect(model.keys()).toEqual(['198.18.1.1:8080', '198.18.2.5:8080']);
    const identities = [...model.addrs.values()].map((wa) => wa.tlsIdentity?.dnsLikeIdentity?.name).sort();
    expect(identities).toEqual([
      'web.shop.serviceaccount.identity.linkerd.cluster.local',
      'web.shop.serviceaccount.identity.linkerd.east.example',
    ]);
    stream.cancel();
  });

  test('remoteMembersOf reads the labels and annotations the service mirror writes', () => {
    expect(remoteMembersOf(service('x'))).toBeUndefined();
    expect(
      remoteMembersOf(
        service('f', { annotations: { [MulticlusterKey.RemoteDiscovery]: 'a@east, b@west,bad' } }),
      ),
    ).toEqual({
      remote: [
        { name: 'a', cluster: 'east' },
        { name: 'b', cluster: 'west' },
      ],
      local: undefined,
    });
  });
});
