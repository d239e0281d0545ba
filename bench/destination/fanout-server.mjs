// Child process of fanout.bench.mjs: the destination service (built dist) over an in-memory
// ObjectSource, plus a baseline service that only fans one pre-built Update out to every open
// stream. Commands arrive over IPC; replies carry what the parent needs to measure.
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { addDestinationService, LatestValue } from './deps.mjs';
import { kindKey, ObjectStore, CoreKinds, startDestinationService } from './deps.mjs';

class MemorySource {
  stores = new Map();
  store(kind) {
    let s = this.stores.get(kindKey(kind));
    if (!s) {
      s = new ObjectStore(kind, { freeze: true });
      s.markSynced();
      s.publish();
      this.stores.set(kindKey(kind), s);
    }
    return s;
  }
  put(kind, objects) {
    const s = this.store(kind);
    for (const o of objects) s.upsert(o);
    s.publish();
  }
  watch(kind, options = {}) {
    return this.store(kind).subscribe(options.signal);
  }
  async snapshot(kind) {
    return this.store(kind).snapshot();
  }
  async close() {
    for (const s of this.stores.values()) s.close();
  }
}

const ip = (n) => `198.18.${(n >> 8) & 255}.${n & 255}`;
const pod = (name, n) => ({
  metadata: {
    name,
    namespace: 'bench',
    labels: {
      app: name.replace(/-\d+$/, ''),
      'linkerd.io/control-plane-ns': 'linkerd',
      'pod-template-hash': 'abc',
    },
    ownerReferences: [
      { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-abc', uid: 'u', controller: true },
    ],
  },
  spec: {
    serviceAccountName: 'web',
    containers: [
      { name: 'app', ports: [{ name: 'http', containerPort: 8080 }] },
      { name: 'linkerd-proxy', env: [{ name: 'LINKERD2_PROXY_INBOUND_LISTEN_ADDR', value: '0.0.0.0:4143' }] },
    ],
  },
  status: { phase: 'Running', podIP: ip(n), podIPs: [{ ip: ip(n) }] },
});
const slice = (service, name, members) => ({
  metadata: { name, namespace: 'bench', labels: { 'kubernetes.io/service-name': service } },
  addressType: 'IPv4',
  ports: [{ name: 'http', port: 8080 }],
  endpoints: members.map(([podName, n]) => ({
    addresses: [ip(n)],
    conditions: { ready: true },
    zone: 'zone-a',
    targetRef: { kind: 'Pod', name: podName, namespace: 'bench' },
  })),
});

const source = new MemorySource();
const svc = (name) => ({
  metadata: { name, namespace: 'bench' },
  spec: { ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
});
const smallPods = Array.from({ length: 11 }, (_, i) => pod(`web-${i}`, 1 + i));
const bigPods = Array.from({ length: 5000 }, (_, i) => pod(`big-${i}`, 1000 + i));
source.put(CoreKinds.Namespace, [{ metadata: { name: 'bench' } }]);
source.put(CoreKinds.Service, [svc('web'), svc('big')]);
source.put(CoreKinds.Pod, [...smallPods, ...bigPods]);
const smallMembers = (count) => Array.from({ length: count }, (_, i) => [`web-${i}`, 1 + i]);
const bigSlices = Array.from({ length: 50 }, (_, s) =>
  slice(
    'big',
    `big-${s}`,
    Array.from({ length: 100 }, (_, i) => [`big-${s * 100 + i}`, 1000 + s * 100 + i]),
  ),
);
source.put(CoreKinds.EndpointSlice, [slice('web', 'web-1', smallMembers(10)), ...bigSlices]);
for (const kind of [CoreKinds.Node, ...Object.values((await import('./deps.mjs')).MeshKinds)])
  source.store(kind);

const service = await startDestinationService({ source, port: 0 });

// Baseline: the same Destination.Get, but every stream just waits for a trigger and writes one
// pre-built Update — the cost of grpc-js fan-out alone.
const trigger = new LatestValue();
const baseline = new Server();
const fixed = { add: { addrs: [], metricLabels: { namespace: 'bench', service: 'web' } } };
addDestinationService(baseline, {
  async *get(_request, context) {
    yield { noEndpoints: { exists: true } };
    for await (const n of trigger.subscribe(context.signal)) {
      yield {
        ...fixed,
        add: { ...fixed.add, metricLabels: { ...fixed.add.metricLabels, round: String(n) } },
      };
    }
  },
});
const baselinePort = await new Promise((resolve, reject) =>
  baseline.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) =>
    e ? reject(e) : resolve(p),
  ),
);

const memory = () => {
  globalThis.gc?.();
  globalThis.gc?.();
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed, rss: m.rss };
};

process.on('message', (msg) => {
  switch (msg.type) {
    case 'memory':
      return process.send({ type: 'memory', ...memory(), subscriptions: service.subscriptions() });
    case 'slice':
      source.put(CoreKinds.EndpointSlice, [slice('web', 'web-1', smallMembers(msg.count))]);
      return;
    case 'baseline':
      trigger.set(msg.round);
      return;
    case 'stop':
      void service
        .close()
        .then(() => baseline.forceShutdown())
        .then(() => process.exit(0));
      return;
  }
});
process.send({ type: 'ready', address: service.address, baseline: `127.0.0.1:${baselinePort}` });
