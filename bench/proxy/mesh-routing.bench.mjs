// Outbound mesh benchmark: the proxy pair with discovery, routes and policy switched on, against
// the part-1 pair (no discovery) and the direct path, in ONE run so ratios are comparable.
//   direct        client → app
//   tsmesh-plain  client → outbound (forward address, no discovery) → mTLS → inbound → app
//   tsmesh-mesh   client → outbound (Destination.Get + OutboundPolicies.Watch from a control plane
//                 in this process: HTTPRoute with 4 rules, timeouts, retries, P2C-EWMA balancer,
//                 failure accrual; the endpoint's TLS identity from discovery) → mTLS → inbound → app
// The client addresses the Service by name (Host: web.bench.svc.cluster.local:80), as an app in
// local mode does. Each proxy is pinned to its own core (outbound CPU 0, inbound CPU 1).
// Scenarios: h1-max (wrk -c --connections, saturated), h1-1k (h2load --h1, 1,000 req/s, p50/p99,
//   after --warmup-rate [4] seconds of the same load),
// h2-max (h2load -c10 -m10, HTTP/2 GETs) and grpc-max (the same with a framed gRPC-like request and
// trailers back); --scenarios picks some.
//
// Usage: node bench/proxy/mesh-routing.bench.mjs [--duration 8] [--connections 50] [--hint h2|none]
//          [--mesh-base OUTDIR]   (another build from build-revision.mjs, measured as tsmesh-mesh-base)
//          [--rounds N]           (repeat with the paths' order rotating; medians in the summary)
// Needs `pnpm exec nx run @tsmesh/proxy:build`, wrk, h2load, taskset.
import { execFile, spawn, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import {
  addDestinationService,
  addOutboundPoliciesService,
  createCertificateRequest,
  createIntermediateCertificate,
  createRootCertificate,
  generateKeyPair,
  issueLeafCertificate,
} from '@tsmesh/core';
import { CLK_TCK, cpuTicks, loadAverage, rssMb } from './process-stats.mjs';
import { parseH2load } from './h2load.mjs';
import { PROXY_BIN_NODE_FLAGS } from './proxy-node-flags.mjs';

const execFileAsync = promisify(execFile);
const HERE = dirname(fileURLToPath(import.meta.url));
const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '8' },
    connections: { type: 'string', default: '50' },
    // Another build of the proxy (build-revision.mjs OUTDIR) measured as a fourth path, tsmesh-mesh-base.
    'mesh-base': { type: 'string' },
    // The endpoint's protocol hint: h2 (as the destination controller sends for meshed pods: HTTP/1
    // travels as HTTP/2 between the proxies, l5d-orig-proto) or none (HTTP/1 over mTLS). The plain
    // path gets the same hint.
    hint: { type: 'string', default: 'h2' },
    // Rounds: every scenario runs this many times per path, the paths' order rotating each round;
    // the summary takes per-path medians, so a burst of load from other work hits paths alike.
    rounds: { type: 'string', default: '1' },
    scenarios: { type: 'string', default: 'h1-max,h1-1k,h2-max,grpc-max' },
    // Seconds of the fixed-rate load itself, unrecorded, before each h1-1k measurement (see warm).
    'warmup-rate': { type: 'string', default: '4' },
  },
});
const WARMUP_RATE = Number(args['warmup-rate']);
const ROUNDS = Math.max(1, Number(args.rounds) || 1);
const HINT = args.hint === 'none' ? 'none' : 'h2';
const D = String(Number(args.duration));
const CONNS = Number(args.connections);
const WEB = 'web.bench.svc.cluster.local:80';
const A_ID = 'client.bench.serviceaccount.identity.linkerd.cluster.local';
const B_ID = 'server.bench.serviceaccount.identity.linkerd.cluster.local';

for (const tool of ['wrk', 'h2load', 'taskset']) {
  if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
    console.error(`missing ${tool}: apt-get install wrk nghttp2-client util-linux`);
    process.exit(1);
  }
}

const dir = mkdtempSync(join(tmpdir(), 'tsmesh-bench-mesh-'));
const children = [];
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});
process.on('SIGINT', () => process.exit(130));

// --- certificates, issued with @tsmesh/core's CA (root → issuer → leaf per proxy) ---------------
const root = createRootCertificate();
const issuer = createIntermediateCertificate({ issuer: root });
writeFileSync(join(dir, 'ca.crt'), root.certificate.pem);
// gRPC-like request body: one framed message.
writeFileSync(join(dir, 'grpc-req.bin'), Buffer.from([0, 0, 0, 0, 5, 0x77, 0x6f, 0x72, 0x6c, 0x64]));
for (const [name, identity] of [
  ['a', A_ID],
  ['b', B_ID],
]) {
  const { privateKey } = generateKeyPair();
  const leaf = issueLeafCertificate({
    issuer,
    csr: createCertificateRequest({ identity, privateKey }).der,
    identity,
  });
  writeFileSync(
    join(dir, `${name}.crt`),
    [leaf.certificate, ...leaf.intermediates].map((c) => c.pem).join(''),
  );
  writeFileSync(join(dir, `${name}.key`), privateKey.export({ type: 'pkcs8', format: 'pem' }));
}

// --- a control plane: Destination and OutboundPolicies for one Service -------------------------
const u32 = (ip) => ip.split('.').reduce((a, p) => a * 256 + Number(p), 0);
const dur = (ms) => ({ seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 });
let endpointPort = 0;
const forever = (signal) =>
  new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
const svc = { group: 'core', kind: 'Service', namespace: 'bench', name: 'web', port: 80 };
const backend = {
  metadata: { resource: svc },
  balancer: { discovery: { dst: { path: WEB } }, peakEwma: { defaultRtt: dur(30), decay: dur(10_000) } },
  queue: { capacity: 10_000, failfastTimeout: dur(3000) },
};
const rule = (prefix) => ({
  matches: [{ path: { prefix } }],
  backends: { randomAvailable: { backends: [{ weight: 1, backend: { backend } }] } },
  timeouts: { request: dur(10_000) },
  retry: { maxRetries: 2, maxRequestBytes: 65_536, conditions: { statusRanges: [{ start: 502, end: 504 }] } },
});
const policy = {
  metadata: { resource: svc },
  protocol: {
    detect: {
      timeout: dur(10_000),
      http1: {
        routes: [
          {
            metadata: {
              resource: {
                group: 'gateway.networking.k8s.io',
                kind: 'HTTPRoute',
                namespace: 'bench',
                name: 'web',
              },
            },
            rules: [rule('/api'), rule('/static'), rule('/admin'), rule('/')],
          },
        ],
      },
      // HTTP/2 clients (gRPC) get the same routes.
      http2: {
        routes: [
          {
            metadata: {
              resource: {
                group: 'gateway.networking.k8s.io',
                kind: 'HTTPRoute',
                namespace: 'bench',
                name: 'web',
              },
            },
            rules: [rule('/api'), rule('/static'), rule('/admin'), rule('/')],
          },
        ],
        failureAccrual: {
          consecutiveFailures: {
            maxFailures: 7,
            backoff: { minBackoff: dur(1000), maxBackoff: dur(60_000), jitterRatio: 0.5 },
          },
        },
      },
    },
  },
};
const cp = new Server();
addDestinationService(cp, {
  async *get(_req, ctx) {
    yield {
      add: {
        metricLabels: { service: 'web', namespace: 'bench' },
        addrs: [
          {
            addr: { ip: { ipv4: u32('127.0.0.1') }, port: endpointPort },
            weight: 10_000,
            tlsIdentity: { dnsLikeIdentity: { name: B_ID } },
            ...(HINT === 'h2' ? { protocolHint: { h2: {} } } : {}),
            metricLabels: { pod: 'web-0' },
          },
        ],
      },
    };
    await forever(ctx.signal);
  },
  async *getProfile(_req, ctx) {
    yield { fullyQualifiedName: 'web.bench.svc.cluster.local' };
    await forever(ctx.signal);
  },
});
addOutboundPoliciesService(cp, {
  async *watch(_req, ctx) {
    yield policy;
    await forever(ctx.signal);
  },
});
const cpPort = await new Promise((resolve, reject) =>
  cp.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
);

// --- processes --------------------------------------------------------------------------------
async function startJsonChild(argv, env = {}) {
  const child = spawn(argv[0], argv.slice(1), {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  let buf = '';
  for await (const chunk of child.stdout) {
    buf += chunk;
    const nl = buf.indexOf('\n');
    if (nl >= 0) {
      child.stdout.resume();
      return { child, info: JSON.parse(buf.slice(0, nl)) };
    }
  }
  throw new Error(`${argv.join(' ')} exited before it was ready`);
}
const proxyChild = join(HERE, 'tsmesh-proxy-child.mjs');
const base = {
  LINKERD2_PROXY_INBOUND_LISTEN_ADDR: '127.0.0.1:0',
  LINKERD2_PROXY_OUTBOUND_LISTEN_ADDR: '127.0.0.1:0',
  LINKERD2_PROXY_ADMIN_LISTEN_ADDR: '127.0.0.1:0',
  LINKERD2_PROXY_LOG: 'warn',
  BENCH_CERT_DIR: dir,
};
const app = await startJsonChild([process.execPath, join(HERE, 'backend.mjs')]);
// Every proxy runs with the node flags of bin/tsmesh-proxy.js (PROXY_NODE_FLAGS overrides them).
const binFlags = (process.env.PROXY_NODE_FLAGS ?? PROXY_BIN_NODE_FLAGS).split(' ').filter(Boolean);
const inbound = await startJsonChild(['taskset', '-c', '1', process.execPath, ...binFlags, proxyChild], {
  ...base,
  BENCH_NAME: 'b',
  BENCH_IDENTITY: B_ID,
  TSMESH_PROXY_INBOUND_FORWARD_ADDR: `127.0.0.1:${app.info.port}`,
});
endpointPort = inbound.info.inbound;
// MESH_NODE_FLAGS (e.g. --cpu-prof --cpu-prof-dir=/tmp/prof) go to the mesh outbound proxy only.
const outbound = (extra, flags = []) =>
  startJsonChild(['taskset', '-c', '0', process.execPath, ...binFlags, ...flags, proxyChild], {
    ...base,
    BENCH_NAME: 'a',
    BENCH_IDENTITY: A_ID,
    ...extra,
  });
// BENCH_LATLOG=PREFIX (tsmesh-proxy-child.mjs): each outbound proxy writes PREFIX.<path>.a.json, the
// inbound PREFIX.b.json (GC pauses by kind, event-loop stalls).
const latlog = (path) =>
  process.env.BENCH_LATLOG ? { BENCH_LATLOG: `${process.env.BENCH_LATLOG}.${path}` } : {};
// PLAIN_NODE_FLAGS: the same for the plain outbound proxy (to profile both paths in one run).
const plain = await outbound(
  {
    BENCH_PEER_PORT: String(endpointPort),
    BENCH_PEER_IDENTITY: B_ID,
    BENCH_PEER_HINT: HINT,
    TSMESH_PROXY_OUTBOUND_FORWARD_ADDR: `127.0.0.1:${endpointPort}`,
    ...latlog('plain'),
  },
  (process.env.PLAIN_NODE_FLAGS ?? '').split(' ').filter(Boolean),
);
const cpName = 'linkerd-destination.linkerd.serviceaccount.identity.linkerd.cluster.local';
const meshEnv = {
  LINKERD2_PROXY_DESTINATION_SVC_ADDR: `127.0.0.1:${cpPort}`,
  LINKERD2_PROXY_DESTINATION_SVC_NAME: cpName,
  LINKERD2_PROXY_POLICY_SVC_ADDR: `127.0.0.1:${cpPort}`,
  LINKERD2_PROXY_POLICY_SVC_NAME: cpName,
  LINKERD2_PROXY_POLICY_WORKLOAD: '{"ns":"bench","pod":"client-0"}',
  LINKERD2_PROXY_DESTINATION_CONTEXT: '{"ns":"bench","nodeName":"local"}',
  // The target stays resolved while the other paths are measured (default idle eviction: 5 s).
  LINKERD2_PROXY_OUTBOUND_DISCOVERY_IDLE_TIMEOUT: '120s',
};
const mesh = await outbound(
  { ...meshEnv, ...latlog('mesh') },
  (process.env.MESH_NODE_FLAGS ?? '').split(' ').filter(Boolean),
);
const meshBase = args['mesh-base']
  ? await outbound({ ...meshEnv, BENCH_PROXY_DIST: join(args['mesh-base'], 'dist/index.js') })
  : undefined;

// --- load --------------------------------------------------------------------------------------
// Tools run asynchronously: the control plane lives in this process and must keep answering.
async function run(cmd, argv) {
  const { stdout } = await execFileAsync(cmd, argv, { encoding: 'utf8', timeout: (Number(D) + 30) * 1000 });
  return stdout;
}
const toMs = (v, unit) => Number(v) * ({ us: 0.001, ms: 1, s: 1000 }[unit] ?? 1);
/** h2load's arguments for HTTP/1.1 at 1,000 requests/s (10 clients × --rps 100) for `secs`. */
const fixedRate = (port, secs, extra = []) => [
  '--h1',
  '-t1',
  '-c10',
  '--rps',
  '100',
  '-D',
  secs,
  ...extra,
  '-H',
  `:authority: ${WEB}`,
  `http://127.0.0.1:${port}/api/items`,
];
const allScenarios = {
  'h1-max': async (port) => {
    const out = await run('wrk', [
      '-t1',
      `-c${CONNS}`,
      `-d${D}s`,
      '--latency',
      '-H',
      `Host: ${WEB}`,
      `http://127.0.0.1:${port}/api/items`,
    ]);
    const lat = (p) => {
      const m = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s)`, 'm').exec(out);
      return m ? toMs(m[1], m[2]) : NaN;
    };
    const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
    return {
      rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]),
      p50: lat(50),
      p99: lat(99),
      errors: non2xx,
    };
  },
  'h1-1k': async (port, name) => {
    const log = join(dir, `${name}.log`);
    const out = await run('h2load', fixedRate(port, D, ['--log-file', log]));
    if (process.env.MESH_DEBUG_CONNS) console.log(out);
    return parseH2load(out, log);
  },
  'h2-max': async (port) =>
    parseH2load(
      await run('h2load', [
        '-t1',
        '-c10',
        '-m10',
        '-D',
        D,
        '-H',
        `:authority: ${WEB}`,
        `http://127.0.0.1:${port}/api/items`,
      ]),
    ),
  'grpc-max': async (port) =>
    parseH2load(
      await run('h2load', [
        '-t1',
        '-c10',
        '-m10',
        '-D',
        D,
        '-d',
        join(dir, 'grpc-req.bin'),
        '-H',
        'content-type: application/grpc',
        '-H',
        'te: trailers',
        '-H',
        `:authority: ${WEB}`,
        `http://127.0.0.1:${port}/api/bench.Echo/Say`,
      ]),
    ),
};
const scenarios = Object.fromEntries(
  args.scenarios.split(',').map((name) => {
    const fn = allScenarios[name];
    if (fn === undefined)
      throw new Error(`unknown scenario ${name}: ${Object.keys(allScenarios).join(', ')}`);
    return [name, fn];
  }),
);
const paths = [
  { name: 'direct', port: app.info.port, pids: {} },
  {
    name: 'tsmesh-plain',
    port: plain.info.outbound,
    pids: { outbound: plain.child.pid, inbound: inbound.child.pid },
  },
  {
    name: 'tsmesh-mesh',
    port: mesh.info.outbound,
    pids: { outbound: mesh.child.pid, inbound: inbound.child.pid },
  },
  ...(meshBase
    ? [
        {
          name: 'tsmesh-mesh-base',
          port: meshBase.info.outbound,
          pids: { outbound: meshBase.child.pid, inbound: inbound.child.pid },
        },
      ]
    : []),
];
const probe = await run('curl', [
  '-si',
  '--max-time',
  '10',
  '-H',
  `Host: ${WEB}`,
  `http://127.0.0.1:${mesh.info.outbound}/api/items`,
]);
if (!/^HTTP\/1.1 200/.test(probe)) console.error('mesh path probe failed:', probe);
const load = loadAverage;
console.log(
  `mesh routing bench: ${D}s per scenario, ${CONNS} wrk connections, endpoint hint ${HINT}, load average ${load()}`,
);
// Each measurement starts warm, so scenarios compare steady states: one second of saturating wrk on
// the same path right before it (pools connected, discovery answered) and, before h1-1k,
// --warmup-rate seconds of that fixed rate itself: after saturating load the proxies recompile and
// deoptimize for the first seconds at 1,000 req/s (TurboFan jobs of 1-6 ms, --trace-opt), which is
// not the steady state's p99 (proxy-bench.mjs does the same).
const warm = async (port, scenario) => {
  await run('wrk', ['-t1', `-c${CONNS}`, '-d1s', '-H', `Host: ${WEB}`, `http://127.0.0.1:${port}/api/items`]);
  if (scenario === 'h1-1k' && WARMUP_RATE > 0) await run('h2load', fixedRate(port, String(WARMUP_RATE)));
};
const runs = {};
for (let round = 0; round < ROUNDS; round++)
  for (const [s, fn] of Object.entries(scenarios)) {
    runs[s] ??= {};
    const order = paths.map((_, i) => paths[(i + round) % paths.length]);
    for (const p of order) {
      await warm(p.port, s);
      const t0 = Object.fromEntries(Object.entries(p.pids).map(([k, pid]) => [k, cpuTicks(pid)]));
      const started = performance.now();
      const r = await fn(p.port, `${s}-${p.name}`);
      const secs = (performance.now() - started) / 1000;
      const use = Object.entries(p.pids)
        .map(([k, pid]) => {
          const cpu = (cpuTicks(pid) - t0[k]) / CLK_TCK;
          const us = (cpu * 1e6) / (r.rps * secs);
          if (k === 'outbound') r.outboundUs = us;
          return `${k} ${us.toFixed(0)}µs/req ${rssMb(pid).toFixed(0)}MB`;
        })
        .join(', ');
      (runs[s][p.name] ??= []).push(r);
      if (process.env.MESH_DEBUG_CONNS) {
        const text = await (await fetch(`http://127.0.0.1:${inbound.info.admin}/metrics`)).text();
        const opened = text
          .split('\n')
          .filter((l) => l.startsWith('tcp_open_total{') && l.includes('direction="inbound"'))
          .reduce((a, l) => a + Number(l.split(' ').pop()), 0);
        console.log(`  inbound connections opened so far: ${opened}`);
      }
      console.log(
        `${ROUNDS > 1 ? `[${round + 1}] ` : ''}${s.padEnd(7)} ${p.name.padEnd(13)} ${r.rps.toFixed(0).padStart(7)} req/s  p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms  errors ${r.errors}${use ? `  | ${use}` : ''}`,
      );
    }
  }
// Per path and scenario: the median of each figure over the rounds.
const median = (xs) => {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = v.length >> 1;
  return v.length % 2 === 1 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
};
const results = Object.fromEntries(
  Object.entries(runs).map(([s, byPath]) => [
    s,
    Object.fromEntries(
      Object.entries(byPath).map(([name, rs]) => [
        name,
        Object.fromEntries(
          ['rps', 'p50', 'p99', 'errors', 'outboundUs'].map((f) => [f, median(rs.map((r) => r[f]))]),
        ),
      ]),
    ),
  ]),
);
if (ROUNDS > 1) {
  console.log(`\nmedians over ${ROUNDS} rounds:`);
  for (const [s, byPath] of Object.entries(results))
    for (const [name, r] of Object.entries(byPath))
      console.log(
        `${s.padEnd(7)} ${name.padEnd(16)} ${r.rps.toFixed(0).padStart(7)} req/s  p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms${Number.isFinite(r.outboundUs) ? `  outbound ${r.outboundUs.toFixed(0)}µs/req` : ''}`,
      );
}
console.log(`\nload average after: ${load()}`);
const ratio = (a, b) => (a / b).toFixed(2);
const k = results['h1-1k'];
for (const name of ['tsmesh-mesh', 'tsmesh-mesh-base']) {
  const parts = [];
  for (const s of ['h1-max', 'h2-max', 'grpc-max']) {
    const r = results[s];
    if (!r?.[name]) continue;
    parts.push(
      `${s} throughput /plain ${ratio(r[name].rps, r['tsmesh-plain'].rps)} (outbound CPU per request /plain ${ratio(r[name].outboundUs, r['tsmesh-plain'].outboundUs)})`,
    );
  }
  if (k?.[name]) {
    parts.push(
      `h1-1k outbound CPU /plain ${ratio(k[name].outboundUs, k['tsmesh-plain'].outboundUs)}, p99 added over direct ${(k[name].p99 - k.direct.p99).toFixed(2)} ms`,
    );
  }
  if (parts.length > 0) console.log(`${name}: ${parts.join('; ')}`);
}
if (k)
  console.log(
    `tsmesh-plain: h1-1k p99 added over direct ${(k['tsmesh-plain'].p99 - k.direct.p99).toFixed(2)} ms`,
  );
cp.forceShutdown();
// SIGTERM lets the proxies shut down (and write a CPU profile when asked to).
for (const c of children) c.kill('SIGTERM');
await new Promise((r) => setTimeout(r, 1500));
process.exit(0);
