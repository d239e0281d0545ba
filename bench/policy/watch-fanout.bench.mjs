#!/usr/bin/env node
// Watch fan-out: 1,000 WatchPort subscribers (one per pod, over 10 gRPC connections, in a child
// process so that clients and controller each get a core and the controller's CPU is its own) on the policy controller. One
// AuthorizationPolicy is added or removed; per subscriber we time from the change to the arrival
// of its update (absolute clock: performance.timeOrigin + now). The same run measures one
// subscriber alone as the baseline. Target (issue 7): p99 < 100 ms.
// Run after building core, kube and policy (`pnpm exec nx run @tsmesh/policy:build`):
//   node bench/policy/watch-fanout.bench.mjs [subscribers=1000] [rounds=20]
import { loadavg } from 'node:os';
import { fork } from 'node:child_process';
import { credentials, makeGenericClientConstructor } from '@grpc/grpc-js';
import { inbound } from '@tsmesh/core';

const NS = 'bench';
const CONNECTIONS = 10;
const clock = () => performance.timeOrigin + performance.now();

// The clients keep each update as bytes (a proxy decodes it on its own machine): the bench measures
// the controller's fan-out, not 1,000 decodes competing with it for the two cores.
const RawWatchClient = makeGenericClientConstructor(
  {
    watchPort: {
      path: '/io.linkerd.proxy.inbound.InboundServerPolicies/WatchPort',
      requestStream: false,
      responseStream: true,
      requestSerialize: (m) => Buffer.from(inbound.PortSpec.encode(m).finish()),
      requestDeserialize: (b) => b,
      responseSerialize: (b) => b,
      responseDeserialize: (b) => b,
    },
  },
  'RawWatch',
);

if (process.argv[2] === '--clients') {
  // Clients (a child process): subscribe to web-0..N-1, report every update's arrival time.
  const address = process.argv[3];
  const count = Number(process.argv[4]);
  const parentPort = {
    postMessage: (m) => process.send(m),
    on: (e, f) => process.on(e, f),
    close: () => process.disconnect(),
  };
  const channels = Array.from(
    { length: CONNECTIONS },
    (_, i) => new RawWatchClient(address, credentials.createInsecure(), { 'bench.connection': i }),
  );
  const calls = [];
  let stopping = false;
  let pending = [];
  let timer;
  const flush = () => {
    timer = undefined;
    parentPort.postMessage({ type: 'updates', updates: pending });
    pending = [];
  };
  for (let i = 0; i < count; i++) {
    const call = channels[i % CONNECTIONS].watchPort({
      workload: JSON.stringify({ ns: NS, pod: `web-${i}` }),
      port: 8080,
    });
    call.on('data', () => {
      pending.push([i, clock()]);
      timer ??= setTimeout(flush, 5);
    });
    call.on('error', (err) => {
      if (!stopping) parentPort.postMessage({ type: 'error', i, message: err.message });
    });
    calls.push(call);
  }
  parentPort.on('message', (m) => {
    if (m === 'stop') {
      stopping = true;
      for (const c of calls) c.cancel();
      for (const c of channels) c.close();
      parentPort.close();
    }
  });
} else {
  const SUBSCRIBERS = Number(process.argv[2] ?? 1000);
  const ROUNDS = Number(process.argv[3] ?? 20);
  // Rounds first run and not counted (JIT warm-up of the translation and encoding paths).
  const WARMUP = 5;
  const { CoreKinds, MeshKinds } = await import('@tsmesh/kube');
  const { createMemoryObjectSource, startPolicyService } = await import('@tsmesh/policy');
  const source = createMemoryObjectSource();
  source.put(CoreKinds.Namespace, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  const pods = [];
  for (let i = 0; i < SUBSCRIBERS; i++) {
    pods.push({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `web-${i}`, namespace: NS, labels: { app: 'web' } },
      spec: {
        containers: [
          {
            name: 'app',
            ports: [{ name: 'http', containerPort: 8080 }],
            readinessProbe: { httpGet: { port: 8080, path: '/ready' } },
          },
        ],
      },
    });
  }
  source.put(CoreKinds.Pod, ...pods);
  source.put(MeshKinds.Server, {
    apiVersion: 'policy.linkerd.io/v1beta3',
    kind: 'Server',
    metadata: { name: 'web-http', namespace: NS },
    spec: { podSelector: { matchLabels: { app: 'web' } }, port: 'http', proxyProtocol: 'HTTP/1' },
  });
  source.put(MeshKinds.MeshTLSAuthentication, {
    apiVersion: 'policy.linkerd.io/v1alpha1',
    kind: 'MeshTLSAuthentication',
    metadata: { name: 'clients', namespace: NS },
    spec: { identities: ['*.bench.serviceaccount.identity.linkerd.cluster.local'] },
  });
  const policy = {
    apiVersion: 'policy.linkerd.io/v1alpha1',
    kind: 'AuthorizationPolicy',
    metadata: { name: 'web-clients', namespace: NS },
    spec: {
      targetRef: { group: 'policy.linkerd.io', kind: 'Server', name: 'web-http' },
      requiredAuthenticationRefs: [
        { group: 'policy.linkerd.io', kind: 'MeshTLSAuthentication', name: 'clients' },
      ],
    },
  };
  const service = await startPolicyService({ source, port: 0, clusterNetworks: ['198.18.0.0/15'] });

  let present = false;
  async function run(count) {
    const worker = fork(new URL(import.meta.url), ['--clients', service.address, String(count)]);
    const seen = new Array(count).fill(0);
    const last = new Array(count).fill(0);
    let wake;
    worker.on('message', (m) => {
      if (m.type === 'error') {
        console.error(`subscriber ${m.i}: ${m.message}`);
        return;
      }
      for (const [i, at] of m.updates) {
        seen[i]++;
        last[i] = at;
      }
      wake?.();
    });
    const until = async (n) => {
      const deadline = Date.now() + 60_000;
      while (seen.some((c) => c < n)) {
        if (Date.now() > deadline) {
          const missing = seen.filter((c) => c < n).length;
          throw new Error(`${missing} subscribers did not get update ${n} within 60 s`);
        }
        await new Promise((r) => {
          wake = r;
          setTimeout(r, 1000);
        });
      }
    };
    const t = clock();
    await until(1);
    const connectMs = clock() - t;
    await new Promise((r) => setTimeout(r, 300));
    const latencies = [];
    const perRound = [];
    const cpuMs = [];
    for (let r = 0; r < ROUNDS + WARMUP; r++) {
      const t0 = clock();
      const cpu0 = process.cpuUsage();
      // Toggle the policy (whatever the previous run left behind).
      present = !present;
      if (present) source.put(MeshKinds.AuthorizationPolicy, policy);
      else source.delete(MeshKinds.AuthorizationPolicy, NS, 'web-clients');
      await until(r + 2);
      if (r >= WARMUP) for (const at of last) latencies.push(at - t0);
      perRound.push(Math.max(...last) - t0);
      const cpu = process.cpuUsage(cpu0);
      if (r >= WARMUP) cpuMs.push((cpu.user + cpu.system) / 1000);
      await new Promise((res) => setTimeout(res, 300));
    }
    worker.send('stop');
    await new Promise((r) => worker.once('exit', r));
    await new Promise((r) => setTimeout(r, 200));
    latencies.sort((a, b) => a - b);
    const q = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
    return {
      connectMs,
      n: latencies.length,
      p50: q(0.5),
      p99: q(0.99),
      max: latencies.at(-1),
      perRound,
      cpuMs: cpuMs.sort((a, b) => a - b)[cpuMs.length >> 1],
    };
  }

  const fmt = (x) => x.toFixed(1);
  const load = loadavg()[0].toFixed(1);
  const base = await run(1);
  const fan = await run(SUBSCRIBERS);
  console.log(
    `load average ${load}; ${SUBSCRIBERS} subscribers got their first answer in ${fmt(fan.connectMs)} ms`,
  );
  console.log(
    `baseline, 1 subscriber:       p50 ${fmt(base.p50)} ms  p99 ${fmt(base.p99)} ms  (${base.n} updates)`,
  );
  console.log(
    `fan-out, ${SUBSCRIBERS} subscribers: p50 ${fmt(fan.p50)} ms  p99 ${fmt(fan.p99)} ms  max ${fmt(fan.max)} ms  (${fan.n} updates)`,
  );
  console.log(
    `controller CPU per change (median, user+sys): 1 subscriber ${fmt(base.cpuMs)} ms, ${SUBSCRIBERS} subscribers ${fmt(fan.cpuMs)} ms`,
  );
  console.log(`slowest subscriber per round (ms, warm-up first): ${fan.perRound.map(fmt).join(' ')}`);
  console.log(
    `p99 fan-out / baseline: ${(fan.p99 / base.p99).toFixed(1)}x; target p99 < 100 ms: ${fan.p99 < 100 ? 'met' : 'NOT met'}`,
  );
  await service.close();
  await source.close();
}
