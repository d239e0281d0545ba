// One tsmesh proxy for the benchmark, started from the built package (packages/proxy/dist) with a
// static workload certificate, so mesh TLS between the two proxies is real. Configuration comes
// from the same LINKERD2_PROXY_* / TSMESH_PROXY_* variables the binary reads; the benchmark adds
//   BENCH_CERT_DIR   directory with ca.crt and <BENCH_NAME>.crt / <BENCH_NAME>.key
//   BENCH_NAME       which certificate is this proxy's (its identity is in BENCH_IDENTITY)
//   BENCH_PEER_PORT  an outbound target on this port is meshed, with identity BENCH_PEER_IDENTITY
//   BENCH_PEER_HINT  h2 (default): that peer gets HTTP/1 over HTTP/2 (l5d-orig-proto), as discovery's
//                    h2 hint gives meshed pods; none: HTTP/1 stays HTTP/1 between the proxies
//   BENCH_PROXY_DIST another build of the package (default: packages/proxy/dist/index.js)
//   BENCH_HEAPPROF   sample allocations that outlive the young generation (see below);
//                    with BENCH_HEAPPROF_ALL=1 every allocation; BENCH_HEAPPROF_AFTER=S starts it S s late
//   BENCH_LATLOG     write GC pauses, event-loop stalls and per-thread CPU to BENCH_LATLOG.<name>.json
//                    at exit (adds a 1 ms timer reading /proc: a few % of CPU; p99-analyze.mjs reads it)
//   BENCH_COUNT_WRITES=1  count socket writes and bytes (TCP and TLS apart), printed to stderr at exit
//   BENCH_SNAPSHOT_DIR  SIGUSR2 writes a heap snapshot there (what is alive mid-run)
// Prints {"inbound":N,"outbound":N,"admin":N} once listening.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
// BENCH_PROXY_DIST: another build's index.js (build-revision.mjs) to compare versions in one run.
const dist =
  process.env.BENCH_PROXY_DIST ?? new URL('../../packages/proxy/dist/index.js', import.meta.url).href;
const { createEnvSource, readProxyConfig, startProxy, installAsyncResourceBind, lowerHelperThreadPriority } =
  await import(dist);
// What the binary does at start (main.ts); builds before them have no such exports.
installAsyncResourceBind?.();
const config = readProxyConfig(createEnvSource(process.env));
lowerHelperThreadPriority?.(config.helperThreadNice, {
  onError: (err) => process.stderr.write(`helper threads keep their priority: ${err.message}\n`),
});

const env = process.env;
const dir = env.BENCH_CERT_DIR;
const cert = {
  identity: env.BENCH_IDENTITY,
  certificateChainPem: readFileSync(join(dir, `${env.BENCH_NAME}.crt`), 'utf8'),
  privateKeyPem: readFileSync(join(dir, `${env.BENCH_NAME}.key`), 'utf8'),
};
const peerPort = Number(env.BENCH_PEER_PORT ?? 0);
// Read once: the callbacks run per request, and each process.env read is a call into C++ (it showed
// as 0.6 % of the outbound proxy's busy time in a profile).
const peerIdentity = env.BENCH_PEER_IDENTITY;
const peerHint = (env.BENCH_PEER_HINT ?? 'h2') === 'h2' ? 'h2' : undefined;
// BENCH_COUNT_WRITES=1: counts socket writes (calls and bytes, TLS sockets apart) and prints them
// to stderr at exit, to compare how many writes two paths make per request.
if (env.BENCH_COUNT_WRITES) {
  const { Socket } = await import('node:net');
  const { TLSSocket } = await import('node:tls');
  const counts = { tcp: 0, tls: 0, tcpBytes: 0, tlsBytes: 0, writev: 0 };
  const generic = Socket.prototype._writeGeneric;
  Socket.prototype._writeGeneric = function (writev, data, encoding, cb) {
    const tls = this instanceof TLSSocket;
    if (writev) counts.writev++;
    const n = writev ? data.reduce((a, d) => a + (d.chunk?.length ?? 0), 0) : (data?.length ?? 0);
    if (tls) {
      counts.tls++;
      counts.tlsBytes += n;
    } else {
      counts.tcp++;
      counts.tcpBytes += n;
    }
    return generic.call(this, writev, data, encoding, cb);
  };
  process.on('exit', () => process.stderr.write(`writes ${JSON.stringify(counts)}\n`));
}
const proxy = await startProxy({
  config,
  certificates: { current: () => cert, subscribe: () => () => undefined },
  trustAnchorsPem: readFileSync(join(dir, 'ca.crt'), 'utf8'),
  identityFor: (t) => (t.port === peerPort ? peerIdentity : undefined),
  protocolHintFor: (t) => (t.port === peerPort ? peerHint : undefined),
});
process.stdout.write(
  `${JSON.stringify({
    inbound: proxy.inbound.listener.address.port,
    outbound: proxy.outbound.listeners[0].address.port,
    admin: proxy.admin.address.port,
  })}\n`,
);
// BENCH_HEAPPROF=PREFIX: V8's sampling heap profiler for the whole run, keeping the samples of
// objects a mark-compact collected but not of those a scavenge collected — i.e. what was promoted to
// the old generation and died there, plus what is still alive — written to PREFIX.<pid>.heapprofile
// at SIGTERM (heapprofile-summary.mjs reads it): where the old-generation garbage is allocated.
let stopHeapProfile = async () => undefined;
if (env.BENCH_HEAPPROF) {
  const { Session } = await import('node:inspector');
  const session = new Session();
  session.connect();
  const post = (method, params) =>
    new Promise((resolve, reject) => session.post(method, params, (e, r) => (e ? reject(e) : resolve(r))));
  await post('HeapProfiler.enable');
  const start = () =>
    post('HeapProfiler.startSampling', {
      samplingInterval: 8192,
      includeObjectsCollectedByMajorGC: true,
      // BENCH_HEAPPROF_ALL=1: every allocation (what a scavenge collected too), for allocation rates.
      includeObjectsCollectedByMinorGC: env.BENCH_HEAPPROF_ALL === '1',
    });
  // BENCH_HEAPPROF_AFTER=S: sampling starts S seconds after start-up (past the bench's warm-up, so
  // a profile of a fixed-rate scenario is not mostly the saturated warm-up's).
  if (env.BENCH_HEAPPROF_AFTER)
    setTimeout(() => void start(), Number(env.BENCH_HEAPPROF_AFTER) * 1000).unref();
  else await start();
  stopHeapProfile = async () => {
    const { profile } = await post('HeapProfiler.stopSampling');
    writeFileSync(`${env.BENCH_HEAPPROF}.${process.pid}.heapprofile`, JSON.stringify(profile));
  };
}
process.on(
  'SIGTERM',
  () =>
    void stopHeapProfile()
      .then(() => proxy.shutdown(0))
      .then(() => process.exit(0)),
);
if (env.BENCH_MEMLOG) {
  // Heap figures every second on stderr, to see where a proxy's memory goes under load.
  const mb = (n) => (n / 1048576).toFixed(1);
  // With BENCH_MEMLOG=gc (and node --expose-gc) a full GC runs first: live heap only.
  setInterval(() => {
    if (env.BENCH_MEMLOG === 'gc') globalThis.gc?.();
    const m = process.memoryUsage();
    process.stderr.write(
      `${env.BENCH_NAME} rss ${mb(m.rss)} heapTotal ${mb(m.heapTotal)} heapUsed ${mb(m.heapUsed)} external ${mb(m.external)} arrayBuffers ${mb(m.arrayBuffers)}\n`,
    );
  }, 1000).unref();
}
if (env.BENCH_LATLOG) {
  // What can hold a request back inside the proxy, written to BENCH_LATLOG.<name>.json at exit:
  // every GC pause (epoch start ms, duration ms, kind), the event-loop delay histogram and the
  // longest loop stalls (epoch ms), so slow requests in h2load's log can be matched to them.
  const { monitorEventLoopDelay, PerformanceObserver, performance } = await import('node:perf_hooks');
  const origin = performance.timeOrigin;
  const gcs = [];
  const KINDS = { 1: 'scavenge', 2: 'minor-mc', 4: 'mark-compact', 8: 'incremental', 16: 'weakcb' };
  // Old space in use after each batch of GC entries: its growth between mark-compacts is what
  // survives the young generation (promotion), which sets how often a mark-compact comes.
  const { getHeapSpaceStatistics } = await import('node:v8');
  const oldSpace = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries())
      gcs.push([origin + e.startTime, e.duration, KINDS[e.detail?.kind] ?? String(e.detail?.kind)]);
    const old = getHeapSpaceStatistics().find((x) => x.space_name === 'old_space');
    oldSpace.push([origin + performance.now(), (old?.space_used_size ?? 0) / 1048576]);
  }).observe({ entryTypes: ['gc'] });
  const eld = monitorEventLoopDelay({ resolution: 1 });
  eld.enable();
  // Stalls: a 1 ms interval timer that fires late by more than 3 ms, with what the main thread
  // did meanwhile from its schedstat (ns on the CPU, ns waiting in the run queue): running JS or
  // GC on the main thread, or waiting for the core (other processes, or its own helper threads,
  // since the bench pins the whole process to one core).
  const schedFile = `/proc/self/task/${process.pid}/schedstat`;
  const sched = () => readFileSync(schedFile, 'utf8').split(' ').map(Number);
  const stalls = [];
  let last = performance.now();
  let lastSched = sched();
  setInterval(() => {
    const now = performance.now();
    const s = sched();
    if (now - last > 4)
      stalls.push([origin + last, now - last - 1, (s[0] - lastSched[0]) / 1e6, (s[1] - lastSched[1]) / 1e6]);
    last = now;
    lastSched = s;
  }, 1).unref();
  // CPU time of each thread of the process (name from comm): the main thread against V8's GC
  // helpers and libuv's pool, which the bench pins to the same core as the main thread.
  const threadsCpu = () => {
    const out = {};
    for (const tid of readdirSync('/proc/self/task')) {
      try {
        const name =
          tid === String(process.pid) ? 'main' : readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim();
        const ns = Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
        out[name] = (out[name] ?? 0) + ns / 1e6;
      } catch {
        // the thread ended meanwhile
      }
    }
    return out;
  };
  const cpuAtStart = threadsCpu();
  process.on('exit', () => {
    const ms = (n) => n / 1e6;
    const cpuAtEnd = threadsCpu();
    const threadsMs = Object.fromEntries(
      Object.entries(cpuAtEnd).map(([k, v]) => [k, Math.round(v - (cpuAtStart[k] ?? 0))]),
    );
    writeFileSync(
      `${env.BENCH_LATLOG}.${env.BENCH_NAME}.json`,
      JSON.stringify({
        eld: {
          p50: ms(eld.percentile(50)),
          p99: ms(eld.percentile(99)),
          max: ms(eld.max),
          mean: ms(eld.mean),
        },
        gcs,
        stalls,
        threadsMs,
        oldSpace,
      }),
    );
  });
}
if (env.BENCH_SNAPSHOT_DIR) {
  // SIGUSR2 writes a heap snapshot to BENCH_SNAPSHOT_DIR (what is alive in the middle of a run).
  const { writeHeapSnapshot } = await import('node:v8');
  process.on('SIGUSR2', () =>
    writeHeapSnapshot(join(env.BENCH_SNAPSHOT_DIR, `${env.BENCH_NAME}.${Date.now()}.heapsnapshot`)),
  );
}
