import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { CoreKinds, MeshKinds } from '@tsmesh/kube';
import { ClusterState } from './cluster-state.js';
import { serviceView, ipView } from './endpoint-views.js';
import { serviceProfileView, type ProfileConfig } from './profile-views.js';
import { MemorySource } from './memory-source.test-support.js';

const config: ProfileConfig = {
  defaultOpaquePorts: new Set([3306]),
  enableIpv6: true,
  clusterDomain: 'cluster.local',
  translation: {
    controlPlaneNamespace: 'linkerd',
    trustDomain: 'cluster.local',
    enableH2Upgrade: true,
    forceOpaqueTransport: false,
    meshedHttp2: undefined,
  },
};

function pod(
  name: string,
  ips: string[],
  labels: Record<string, string> = {},
  annotations?: Record<string, string>,
) {
  return {
    metadata: {
      name,
      namespace: 'shop',
      labels: { app: 'db', 'linkerd.io/control-plane-ns': 'linkerd', ...labels },
      annotations,
    },
    spec: { containers: [{ name: 'db', ports: [{ name: 'sql', containerPort: 3307 }] }] },
    status: { phase: 'Running', podIP: ips[0], podIPs: ips.map((ip) => ({ ip })) },
  };
}

describe('endpoint and profile views', () => {
  let source: MemorySource;
  let state: ClusterState;
  let controller: AbortController;
  let warnings: Record<string, unknown>[];

  beforeEach(async () => {
    source = new MemorySource();
    controller = new AbortController();
    warnings = [];
    const logger = {
      debug() {},
      info() {},
      error() {},
      warn: (fields: Record<string, unknown>) => void warnings.push(fields),
    };
    state = new ClusterState({ source, logger });
    state.start(controller.signal);
    await state.waitForSync(controller.signal, 1000);
  });
  afterEach(async () => {
    controller.abort();
    await state.stopped();
  });

  const settle = () => new Promise((r) => setTimeout(r, 10));

  test('dual-stack pods are served over IPv6; hostnames select one endpoint; not-ready endpoints are left out', async () => {
    source.put(CoreKinds.Service, {
      metadata: { name: 'db', namespace: 'shop' },
      spec: { ports: [{ name: 'sql', port: 3306, targetPort: 'sql' }] },
    });
    source.put(CoreKinds.Pod, pod('db-0', ['198.18.0.1', '2001:db8::1']), pod('db-1', ['198.18.0.2']));
    const refs = (names: string[], ips: string[], ready = true) =>
      names.map((n, i) => ({
        addresses: [ips[i]],
        hostname: n,
        conditions: { ready },
        targetRef: { kind: 'Pod', name: n, namespace: 'shop' },
      }));
    source.put(
      CoreKinds.EndpointSlice,
      {
        metadata: { name: 'db-v4', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'db' } },
        addressType: 'IPv4',
        ports: [{ name: 'sql', port: 3307 }],
        endpoints: refs(['db-0', 'db-1'], ['198.18.0.1', '198.18.0.2']),
      },
      {
        metadata: { name: 'db-v6', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'db' } },
        addressType: 'IPv6',
        ports: [{ name: 'sql', port: 3307 }],
        endpoints: refs(['db-0'], ['2001:db8::1']),
      },
      {
        metadata: { name: 'db-nr', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'db' } },
        addressType: 'IPv4',
        ports: [{ name: 'sql', port: 3307 }],
        endpoints: [{ addresses: ['198.18.0.9'], conditions: { ready: false } }],
      },
      {
        metadata: { name: 'bad', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'db' } },
        addressType: 'IPv4',
        endpoints: 'nope',
      },
    );
    await settle();
    const view = serviceView(
      state,
      config,
      { namespace: 'shop', name: 'db', port: 3306, hostname: undefined },
      undefined,
    );
    expect([...view.addresses.keys()].sort()).toEqual(['198.18.0.2:3307', '[2001:db8::1]:3307']);
    expect(view.addresses.get('198.18.0.2:3307')!.pod).toMatchObject({ opaque: false, ownerKind: 'pod' });
    const one = serviceView(
      state,
      config,
      { namespace: 'shop', name: 'db', port: 3306, hostname: 'db-1' },
      undefined,
    );
    expect([...one.addresses.keys()]).toEqual(['198.18.0.2:3307']);
    expect(warnings).toContainEqual(
      expect.objectContaining({ kind: 'EndpointSlice', namespace: 'shop', name: 'bad' }),
    );
    // An unchanged recomputation reuses the address objects.
    const again = serviceView(
      state,
      config,
      { namespace: 'shop', name: 'db', port: 3306, hostname: undefined },
      view,
    );
    expect(again.addresses.get('198.18.0.2:3307')).toBe(view.addresses.get('198.18.0.2:3307'));
  });

  test('opaque from Servers, pod and namespace annotations; IP views', async () => {
    source.put(CoreKinds.Namespace, {
      metadata: { name: 'shop', annotations: { 'config.linkerd.io/opaque-ports': '9000' } },
    });
    source.put(
      CoreKinds.Pod,
      pod('db-0', ['198.18.0.1']),
      pod('web-0', ['198.18.0.5'], { app: 'web' }, { 'config.linkerd.io/opaque-ports': 'sql' }),
    );
    source.put(MeshKinds.Server, {
      metadata: { name: 'db', namespace: 'shop' },
      spec: { podSelector: { matchLabels: { app: 'db' } }, port: 'sql', proxyProtocol: 'opaque' },
    });
    await settle();
    const db = ipView(state, config, '198.18.0.1', 3307, undefined).addresses.get('198.18.0.1:3307')!;
    expect(db.pod?.opaque).toBe(true);
    expect(
      ipView(state, config, '198.18.0.1', 9000, undefined).addresses.get('198.18.0.1:9000')!.pod?.opaque,
    ).toBe(true);
    expect(
      ipView(state, config, '198.18.0.1', 8080, undefined).addresses.get('198.18.0.1:8080')!.pod?.opaque,
    ).toBe(false);
    expect(
      ipView(state, config, '198.18.0.5', 3307, undefined).addresses.get('198.18.0.5:3307')!.pod?.opaque,
    ).toBe(true);
    expect(
      ipView(state, config, '198.18.9.9', 80, undefined).addresses.get('198.18.9.9:80')!.pod,
    ).toBeUndefined();
    // A hostNetwork pod is found by its node's IP and the port it listens on.
    source.put(CoreKinds.Pod, {
      metadata: { name: 'agent', namespace: 'shop' },
      spec: {
        hostNetwork: true,
        containers: [{ name: 'a', ports: [{ containerPort: 9100, hostPort: 9100 }] }],
      },
      status: { phase: 'Running', podIP: '198.18.200.1', hostIP: '198.18.200.1' },
    });
    await settle();
    expect(
      ipView(state, config, '198.18.200.1', 9100, undefined).addresses.get('198.18.200.1:9100')!.pod?.name,
    ).toBe('agent');
    expect(
      ipView(state, config, '198.18.200.1', 9200, undefined).addresses.get('198.18.200.1:9200')!.pod,
    ).toBeUndefined();
  });

  test("a gateway mirror's endpoints: the gateway port by the Service port's name, its identity and the remote authority", async () => {
    // As the service mirror writes them: the remote Service's ports (targetPort is the remote pods'
    // port), Endpoints (mirrored to an EndpointSlice) at the gateway's address and port.
    source.put(CoreKinds.Service, {
      metadata: {
        name: 'web-west',
        namespace: 'shop',
        labels: { 'mirror.linkerd.io/mirrored-service': 'true', 'mirror.linkerd.io/cluster-name': 'west' },
        annotations: { 'mirror.linkerd.io/remote-svc-fq-name': 'web.shop.svc.cluster.local' },
      },
      spec: { ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
    });
    source.put(CoreKinds.EndpointSlice, {
      metadata: {
        name: 'web-west-x1',
        namespace: 'shop',
        labels: { 'kubernetes.io/service-name': 'web-west' },
        annotations: {
          'mirror.linkerd.io/remote-gateway-identity':
            'linkerd-gateway.linkerd-multicluster.serviceaccount.identity.linkerd.cluster.local',
          'mirror.linkerd.io/remote-svc-fq-name': 'web.shop.svc.cluster.local',
        },
      },
      addressType: 'IPv4',
      ports: [{ name: 'http', port: 4143 }],
      endpoints: [{ addresses: ['198.18.255.1'], conditions: { ready: true } }],
    });
    await settle();
    const view = serviceView(
      state,
      config,
      { namespace: 'shop', name: 'web-west', port: 80, hostname: undefined },
      undefined,
    );
    expect([...view.addresses.keys()]).toEqual(['198.18.255.1:4143']);
    expect(view.addresses.get('198.18.255.1:4143')).toMatchObject({
      pod: undefined,
      gateway: {
        identity: 'linkerd-gateway.linkerd-multicluster.serviceaccount.identity.linkerd.cluster.local',
        authorityOverride: 'web.shop.svc.cluster.local:80',
      },
    });
  });

  test('client-namespace ServiceProfile wins; opaque_protocol from the Service annotation', async () => {
    source.put(CoreKinds.Service, {
      metadata: { name: 'web', namespace: 'shop', annotations: { 'config.linkerd.io/opaque-ports': '80' } },
      spec: {},
    });
    const sp = (ns: string, route: string) => ({
      metadata: { name: 'web.shop.svc.cluster.local', namespace: ns },
      spec: { routes: [{ name: route, condition: { method: 'GET' } }] },
    });
    source.put(MeshKinds.ServiceProfile, sp('shop', 'server'), sp('client', 'client'));
    await settle();
    const target = { namespace: 'shop', name: 'web', port: 80 };
    expect(
      serviceProfileView(state, config, { ...target, clientNamespace: 'client' }).routes![0]!.metricsLabels,
    ).toEqual({ route: 'client' });
    const server = serviceProfileView(state, config, { ...target, clientNamespace: 'other' });
    expect(server.routes![0]!.metricsLabels).toEqual({ route: 'server' });
    expect(server.opaqueProtocol).toBe(true);
    expect(server.parentRef?.resource).toMatchObject({ kind: 'Service', name: 'web', port: 80 });
    expect(
      serviceProfileView(state, config, { ...target, port: 81, clientNamespace: undefined }).opaqueProtocol,
    ).toBe(false);
  });
});
