#!/usr/bin/env node
// Destination fan-out. The service (built dist, in-memory ObjectSource so the apiserver's own
// latency is not measured) runs in a child process; this process holds the client streams.
//
// 1. 1,000 concurrent Get streams on one service (10 endpoints) over 10 gRPC channels.
//    Memory per stream: the child's heap/RSS after GC, with the streams open minus before.
// 2. Rounds: change one EndpointSlice (add or remove an endpoint); time from the change until
//    every stream has applied it — p50/p99 over all stream×round samples, and the per-round max.
//    Baseline in the same run: a bare grpc-js Destination.Get server that writes one pre-built
//    Update to every open stream on a trigger (the floor for fan-out over grpc-js).
// 3. A service with 5,000 endpoints (50 slices): time to the first snapshot, its size in bytes.
//
// Run: `pnpm exec nx run @tsmesh/destination:build && node bench/destination/fanout.bench.mjs`
//      [--streams 1000] [--rounds 20] [--channels 10]
import { fork } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { credentials } from '@grpc/grpc-js';
import { destination, DestinationClient } from './deps.mjs';

const { values } = parseArgs({
  options: {
    streams: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '20' },
    channels: { type: 'string', default: '10' },
  },
});
const STREAMS = Number(values.streams);
const ROUNDS = Number(values.rounds);
const CHANNELS = Number(values.channels);
const here = dirname(fileURLToPath(import.meta.url));

const child = fork(join(here, 'fanout-server.mjs'), [], { execArgv: ['--expose-gc'] });
process.on('exit', () => child.kill());
const replies = [];
const waiters = [];
child.on('message', (m) => {
  const w = waiters.findIndex((x) => x.type === m.type);
  if (w >= 0) waiters.splice(w, 1)[0].resolve(m);
  else replies.push(m);
});
const reply = (type) =>
  new Promise((resolve) => {
    const i = replies.findIndex((m) => m.type === type);
    if (i >= 0) resolve(replies.splice(i, 1)[0]);
    else waiters.push({ type, resolve });
  });
const log = (m) => process.stderr.write(`[${(performance.now() / 1000).toFixed(1)}s] ${m}\n`);
const ready = await reply('ready');
log('service ready');

const clients = (address) =>
  Array.from(
    { length: CHANNELS },
    (_, i) =>
      new DestinationClient(address, credentials.createInsecure(), {
        'grpc.max_receive_message_length': 64 << 20,
        'grpc.channel_id': i, // distinct channel options → distinct connections
      }),
  );
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const fmt = (ms) => `${ms.toFixed(1)} ms`;
const tick = () => new Promise((r) => setImmediate(r));

async function until(predicate, timeoutMs = 30_000) {
  const t0 = performance.now();
  while (!predicate()) {
    if (performance.now() - t0 > timeoutMs) throw new Error('timeout');
    await new Promise((r) => setTimeout(r, 2));
  }
}

// --- baseline: bare grpc-js fan-out ---------------------------------------------------------
async function baselineRun() {
  const cs = clients(ready.baseline);
  const seen = new Array(STREAMS).fill(0);
  const when = new Array(STREAMS).fill(0);
  const calls = [];
  for (let i = 0; i < STREAMS; i++) {
    const call = cs[i % CHANNELS].get({ path: 'web.bench.svc.cluster.local:80' });
    call.on('data', (u) => {
      if (u.add) {
        seen[i] = Number(u.add.metricLabels.round);
        when[i] = performance.now();
      }
    });
    call.on('error', () => {});
    calls.push(call);
  }
  await new Promise((r) => setTimeout(r, 1000));
  const samples = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const t0 = performance.now();
    child.send({ type: 'baseline', round });
    await until(() => seen.every((s) => s === round));
    for (const w of when) samples.push(w - t0);
    await new Promise((r) => setTimeout(r, 50));
  }
  for (const c of calls) c.cancel();
  for (const c of cs) c.close();
  return samples.sort((a, b) => a - b);
}

// --- destination ----------------------------------------------------------------------------
const before = await (child.send({ type: 'memory' }), reply('memory'));
const cs = clients(ready.address);
const models = [];
const changedAt = [];
const calls = [];
const t0open = performance.now();
for (let i = 0; i < STREAMS; i++) {
  const model = new Set();
  models.push(model);
  changedAt.push(0);
  const call = cs[i % CHANNELS].get({
    path: 'web.bench.svc.cluster.local:80',
    contextToken: '{"ns":"bench"}',
  });
  call.on('data', (u) => {
    if (u.add) for (const a of u.add.addrs) model.add(a.addr.ip.ipv4);
    else if (u.remove) for (const a of u.remove.addrs) model.delete(a.ip.ipv4);
    else if (u.noEndpoints) model.clear();
    changedAt[i] = performance.now();
  });
  call.on('error', (e) => {
    if (e.code !== 1) console.error('stream error', e.details);
  });
  calls.push(call);
}
await until(() => models.every((m) => m.size === 10), 60_000);
log('streams synced');
const openMs = performance.now() - t0open;
await new Promise((r) => setTimeout(r, 500));
const after = await (child.send({ type: 'memory' }), reply('memory'));

const samples = [];
const roundMax = [];
for (let round = 0; round < ROUNDS; round++) {
  const count = round % 2 === 0 ? 11 : 10;
  const t0 = performance.now();
  child.send({ type: 'slice', count });
  await until(() => models.every((m) => m.size === count));
  const lat = changedAt.map((t) => t - t0);
  samples.push(...lat);
  roundMax.push(Math.max(...lat));
  await new Promise((r) => setTimeout(r, 50));
}
samples.sort((a, b) => a - b);
log('rounds done');
for (const c of calls) c.cancel();
await tick();

// --- 5,000 endpoints: first snapshot -------------------------------------------------------
const big = [];
for (let run = 0; run < 3; run++) {
  let bytes = 0;
  let count = 0;
  let messages = 0;
  const start = performance.now();
  const call = cs[run % CHANNELS].get({ path: 'big.bench.svc.cluster.local:80' });
  await new Promise((resolve, reject) => {
    call.on('data', (u) => {
      messages++;
      bytes += destination.Update.encode(u).finish().length;
      if (u.add) count += u.add.addrs.length;
      if (count >= 5000) resolve();
    });
    call.on('error', (e) => (e.code === 1 ? undefined : reject(e)));
  });
  big.push({ ms: performance.now() - start, bytes, messages });
  call.cancel();
}

log('big done');
const baseline = await baselineRun();
log('baseline done');
for (const c of cs) c.close();
await new Promise((r) => setTimeout(r, 300));
const end = await (child.send({ type: 'memory' }), reply('memory'));
child.send({ type: 'stop' });

const perStream = (key) => ((after[key] - before[key]) / STREAMS / 1024).toFixed(1);
const p = (s, q) => pct(s, q);
console.log(
  `streams ${STREAMS} over ${CHANNELS} channels, ${ROUNDS} rounds; opened and synced in ${fmt(openMs)}`,
);
console.log(
  `destination: update seen by every stream p50 ${fmt(p(samples, 50))} p99 ${fmt(p(samples, 99))} max ${fmt(samples.at(-1))}; per-round max median ${fmt([...roundMax].sort((a, b) => a - b)[Math.floor(roundMax.length / 2)])}`,
);
console.log(
  `baseline (bare grpc-js fan-out): p50 ${fmt(p(baseline, 50))} p99 ${fmt(p(baseline, 99))} max ${fmt(baseline.at(-1))}`,
);
console.log(
  `ratio destination/baseline: p50 ${(p(samples, 50) / p(baseline, 50)).toFixed(2)} p99 ${(p(samples, 99) / p(baseline, 99)).toFixed(2)}`,
);
console.log(
  `memory per open stream: heap ${perStream('heapUsed')} KiB, rss ${perStream('rss')} KiB (subscriptions open ${after.subscriptions}, after cancel ${end.subscriptions})`,
);
for (const [i, b] of big.entries()) {
  console.log(
    `5,000 endpoints run ${i + 1}: first snapshot ${fmt(b.ms)}, ${b.bytes} bytes in ${b.messages} message(s) (${(b.bytes / 5000).toFixed(0)} B/endpoint)`,
  );
}
