import { describe, expect, it } from 'vitest';
import { MulticlusterKey } from '@tsmesh/core';
import { parseLink } from '../link/index.js';
import { desiredMirrors, type RemoteView } from './desired-mirrors.js';
import type { ServiceObject } from './kube-types.js';
import { linkStatus } from './link-status.js';
import { planChanges, type LocalView } from './plan-changes.js';

const link = parseLink({
  metadata: { name: 'east', namespace: 'linkerd-multicluster' },
  spec: {
    targetClusterName: 'east',
    clusterCredentialsSecret: 'creds',
    gatewayAddress: '198.18.0.9',
    gatewayPort: '4143',
    gatewayIdentity: 'gw.id',
    selector: { matchLabels: { [MulticlusterKey.Exported]: 'true' } },
    remoteDiscoverySelector: { matchLabels: { [MulticlusterKey.Exported]: 'remote-discovery' } },
    federatedServiceSelector: { matchLabels: { [MulticlusterKey.Federated]: 'member' } },
    excludedAnnotations: ['secret/*'],
  },
});

function svc(
  name: string,
  labels: Record<string, string>,
  extra: Partial<ServiceObject['spec']> = {},
): ServiceObject {
  return {
    metadata: {
      name,
      namespace: 'app',
      resourceVersion: '7',
      labels,
      annotations: {
        'secret/token': 'x',
        'service.kubernetes.io/topology-mode': 'Auto',
        'config.linkerd.io/opaque-ports': '9000',
      },
    },
    spec: { ports: [{ name: 'http', port: 80, targetPort: 8080, nodePort: 30080 }], ...extra },
  };
}

const remote = (services: ServiceObject[], ready = true): RemoteView => ({
  services,
  hasReadyEndpoints: () => ready,
});
const gateway = { addresses: ['198.18.0.9'], alive: true };
const empty: LocalView = { mirrorServices: [], mirrorEndpoints: [], federatedServices: [] };

describe('desiredMirrors', () => {
  it('mirrors gateway-mode Services with Linkerd labels, annotations and gateway endpoints', () => {
    const state = desiredMirrors(
      link,
      remote([svc('web', { [MulticlusterKey.Exported]: 'true', app: 'web' })]),
      new Set(['app']),
      gateway,
    );
    const mirror = state.mirrors.get('app/web-east');
    expect(mirror?.mode).toBe('gateway');
    expect(mirror?.service.metadata).toEqual({
      name: 'web-east',
      namespace: 'app',
      labels: {
        app: 'web',
        [MulticlusterKey.MirroredService]: 'true',
        [MulticlusterKey.ClusterName]: 'east',
      },
      annotations: {
        'config.linkerd.io/opaque-ports': '9000',
        [MulticlusterKey.RemoteServiceFqName]: 'web.app.svc.cluster.local',
        [MulticlusterKey.RemoteResourceVersion]: '7',
      },
    });
    expect(mirror?.service.spec?.ports).toEqual([
      { name: 'http', protocol: 'TCP', port: 80, targetPort: 8080 },
    ]);
    expect(mirror?.endpoints?.subsets).toEqual([
      { addresses: [{ ip: '198.18.0.9' }], ports: [{ name: 'http', protocol: 'TCP', port: 4143 }] },
    ]);
    expect(mirror?.endpoints?.metadata?.annotations?.[MulticlusterKey.RemoteGatewayIdentity]).toBe('gw.id');
  });

  it('has no endpoints for an empty remote Service, not-ready ones for a dead gateway', () => {
    const web = svc('web', { [MulticlusterKey.Exported]: 'true' });
    expect(
      desiredMirrors(link, remote([web], false), new Set(['app']), gateway).mirrors.get('app/web-east')
        ?.endpoints?.subsets,
    ).toEqual([]);
    const dead = desiredMirrors(link, remote([web]), new Set(['app']), { ...gateway, alive: false });
    expect(dead.mirrors.get('app/web-east')?.endpoints?.subsets?.[0]).toMatchObject({
      notReadyAddresses: [{ ip: '198.18.0.9' }],
    });
  });

  it('remote discovery, federation, missing namespaces and unselected Services', () => {
    const state = desiredMirrors(
      link,
      remote([
        svc('api', { [MulticlusterKey.Exported]: 'remote-discovery' }),
        svc('db', { [MulticlusterKey.Federated]: 'member' }),
        svc('headless', { [MulticlusterKey.Federated]: 'member' }, { clusterIP: 'None' }),
        svc('private', {}),
        {
          ...svc('elsewhere', { [MulticlusterKey.Exported]: 'true' }),
          metadata: { name: 'elsewhere', namespace: 'gone', labels: { [MulticlusterKey.Exported]: 'true' } },
        },
      ]),
      new Set(['app']),
      gateway,
    );
    const api = state.mirrors.get('app/api-east');
    expect(api?.endpoints).toBeUndefined();
    expect(api?.service.metadata?.labels).toMatchObject({
      [MulticlusterKey.RemoteDiscovery]: 'east',
      [MulticlusterKey.RemoteService]: 'api',
    });
    expect([...state.federated.keys()]).toEqual(['app/db-federated']);
    expect(
      state.federated.get('app/db-federated')?.service.metadata?.annotations?.[
        MulticlusterKey.RemoteDiscovery
      ],
    ).toBe('db@east');
    expect([...state.mirrors.keys()]).toEqual(['app/api-east']);
    expect(state.skippedNamespaces).toEqual(['gone']);
  });
});

describe('planChanges', () => {
  const web = svc('web', { [MulticlusterKey.Exported]: 'true' });
  const desired = desiredMirrors(link, remote([web]), new Set(['app']), gateway);
  const mirror = desired.mirrors.get('app/web-east')!;

  it('creates what is missing and then has nothing to do', () => {
    expect(planChanges(link, desired, empty).map((c) => `${c.op} ${c.kind}`)).toEqual([
      'create Service',
      'create Endpoints',
    ]);
    const local: LocalView = {
      mirrorServices: [{ ...mirror.service, spec: { ...mirror.service.spec, clusterIP: '198.19.0.5' } }],
      mirrorEndpoints: [mirror.endpoints!],
      federatedServices: [],
    };
    expect(planChanges(link, desired, local)).toEqual([]);
  });

  it('replaces what differs, keeping the cluster IP', () => {
    const stale: ServiceObject = {
      ...mirror.service,
      metadata: { ...mirror.service.metadata, labels: { old: 'x' }, resourceVersion: '3' },
      spec: { clusterIP: '198.19.0.5', ports: [] },
    };
    const changes = planChanges(link, desired, {
      mirrorServices: [stale],
      mirrorEndpoints: [mirror.endpoints!],
      federatedServices: [],
    });
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({
      op: 'replace',
      kind: 'Service',
      object: {
        metadata: { resourceVersion: '3', labels: mirror.service.metadata?.labels },
        spec: { clusterIP: '198.19.0.5' },
      },
    });
  });

  it("deletes this link's unexported mirrors only and leaves other clusters' federated members", () => {
    const orphan: ServiceObject = { metadata: { name: 'old-east', namespace: 'app', labels: {} } };
    const foreign: ServiceObject = { metadata: { name: 'something', namespace: 'app', labels: {} } };
    const shared: ServiceObject = {
      metadata: {
        name: 'db-federated',
        namespace: 'app',
        annotations: { [MulticlusterKey.RemoteDiscovery]: 'db@west,db@east' },
      },
    };
    const alone: ServiceObject = {
      metadata: {
        name: 'kv-federated',
        namespace: 'app',
        annotations: { [MulticlusterKey.RemoteDiscovery]: 'kv@east' },
      },
    };
    const changes = planChanges(
      link,
      { mirrors: new Map(), federated: new Map(), skippedNamespaces: [], selected: [] },
      {
        mirrorServices: [orphan, foreign],
        mirrorEndpoints: [{ metadata: { name: 'old-east', namespace: 'app' } }],
        federatedServices: [shared, alone],
      },
    );
    expect(
      changes.map((c) =>
        c.op === 'delete' ? `delete ${c.kind} ${c.name}` : `${c.op} ${c.object.metadata?.name}`,
      ),
    ).toEqual([
      'delete Service old-east',
      'delete Endpoints old-east',
      'replace db-federated',
      'delete Service kv-federated',
    ]);
    const replaced = changes[2] as { object: ServiceObject };
    expect(replaced.object.metadata?.annotations?.[MulticlusterKey.RemoteDiscovery]).toBe('db@west');
  });

  it('joins an existing federated Service without dropping other members', () => {
    const db = svc('db', { [MulticlusterKey.Federated]: 'member' });
    const state = desiredMirrors(link, remote([db]), new Set(['app']), gateway);
    const existing: ServiceObject = {
      metadata: {
        name: 'db-federated',
        namespace: 'app',
        annotations: { [MulticlusterKey.RemoteDiscovery]: 'db@west' },
      },
    };
    const [change] = planChanges(link, state, { ...empty, federatedServices: [existing] });
    expect(change).toMatchObject({
      op: 'replace',
      object: { metadata: { annotations: { [MulticlusterKey.RemoteDiscovery]: 'db@west,db@east' } } },
    });
  });
});

describe('linkStatus', () => {
  it('has one Mirrored condition per selected Service and keeps unchanged transition times', () => {
    const state = desiredMirrors(
      link,
      remote([
        svc('web', { [MulticlusterKey.Exported]: 'true' }),
        {
          ...svc('gone', { [MulticlusterKey.Exported]: 'true' }),
          metadata: { name: 'gone', namespace: 'elsewhere', labels: { [MulticlusterKey.Exported]: 'true' } },
        },
      ]),
      new Set(['app']),
      gateway,
    );
    const first = linkStatus(link, state.selected, undefined, new Date('2026-01-01T00:00:00Z'));
    expect(first.mirrorServices).toEqual(
      [
        {
          controllerName: 'linkerd.io/service-mirror',
          remoteRef: { group: '', kind: 'Service', name: 'web', namespace: 'app' },
          conditions: [
            {
              type: 'Mirrored',
              status: 'True',
              reason: 'Mirrored',
              message: '',
              lastTransitionTime: '2026-01-01T00:00:00Z',
              localRef: { group: '', kind: 'Service', name: 'web-east', namespace: 'app' },
            },
          ],
        },
        {
          controllerName: 'linkerd.io/service-mirror',
          remoteRef: { group: '', kind: 'Service', name: 'gone', namespace: 'elsewhere' },
          conditions: [
            {
              type: 'Mirrored',
              status: 'False',
              reason: 'MissingNamespace',
              message: 'namespace elsewhere does not exist in this cluster',
              lastTransitionTime: '2026-01-01T00:00:00Z',
            },
          ],
        },
      ].sort((a, b) =>
        `${a.remoteRef.namespace}/${a.remoteRef.name}`.localeCompare(
          `${b.remoteRef.namespace}/${b.remoteRef.name}`,
        ),
      ),
    );
    const later = linkStatus(link, state.selected, first, new Date('2026-01-02T00:00:00Z'));
    expect(later).toEqual(first);
  });
});
