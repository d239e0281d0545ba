// Proxy pair benchmark: client → outbound proxy → mutual TLS → inbound proxy → app, on loopback,
// for three paths measured in ONE run so their ratios are comparable on a shared machine:
//   direct   client → app
//   tsmesh   client → tsmesh outbound → mTLS → tsmesh inbound → app
//   haproxy  client → HAProxy → mTLS → HAProxy → app (the same two hops, Debian haproxy)
// Each proxy is pinned to its own core (outbound on CPU 0, inbound on CPU 1; `taskset`), one
// thread each. Certificates are made by openssl: a P-256 trust anchor and one leaf per side whose
// only SAN is a Linkerd identity name; each side verifies the other (mTLS on both pairs).
//
// Scenarios (wrk and h2load, bounded by --duration):
//   h1-max    wrk, HTTP/1.1 keep-alive, --connections connections: saturated throughput
//   h2-max    h2load, HTTP/2, 10 connections × 10 streams: saturated throughput
//   grpc-max  h2load, HTTP/2 POST application/grpc with a framed message, trailers back
//   h1-1k     h2load --h1 at a fixed 1,000 requests/s (10 clients × --rps 100): p50/p99
//   h2-1k     h2load at a fixed 1,000 requests/s: p50/p99
// For every proxy process: peak RSS (sampled every 100 ms) and CPU time per scenario.
//
// Usage: node bench/proxy/proxy-bench.mjs [--duration 8] [--connections 50]
//          [--paths direct,tsmesh,haproxy] [--scenarios h1-max,...] [--json out.json]
//          [--warmup 2]  (seconds of wrk per path first; 0: none, for a profile of the load alone)
//          [--warmup-h2 5000]  (HTTP/2 streams per path after the wrk part of the warm-up; 0: none)
//          [--warmup-rate 4]  (seconds of the same fixed-rate load, unrecorded, before h1-1k and h2-1k)
//          [--log-dir DIR]  (keep h2load's per-request logs, proxies' GC/stall logs: p99-analyze.mjs)
//          [--stall-log off]  (with --log-dir: h2load's logs only, without the proxies' 1 ms stall timer)
//          [--node-flags "--max-semi-space-size=4"]  (the tsmesh proxies' node flags; default: the bin's)
//   BENCH_BACKEND_FLAGS="--trace-gc"  node flags of the app (backend.mjs); BENCH_CHILD_STDOUT=PREFIX
//   keeps every child's stdout (see startJsonChild).
//   A path tsmesh-LABEL:DIR runs another build of the proxy (bench/proxy/build-revision.mjs REV DIR)
//   in the same run, e.g. --paths direct,tsmesh-base:/tmp/proxy-base,tsmesh,haproxy; a third part
//   gives that path node flags: tsmesh-semi2::--max-semi-space-size=2 (several joined by +), a
//   fourth the protocol hint between the proxies: h2 (default, HTTP/1 over HTTP/2 as Linkerd does
//   for meshed pods) or none (HTTP/1 stays HTTP/1), e.g. tsmesh-h1:::none.
//   A path LABEL:raw:PARSER runs the raw-socket HTTP/1.1 prototype of issue #5
//   (raw-h1/raw-proxy.mjs, not the product) as both proxies, PARSER js (default) or llhttp; a
//   fourth part sets its RAW_* env (several joined by +), e.g. raw-js:raw:js,
//   raw-llhttp:raw:llhttp, raw-js-cached:raw:js:RAW_METRICS=cached. HTTP/1 only: a raw path
//   skips the h2-* and grpc-* scenarios.
// Needs the built proxy (`pnpm exec nx run @tsmesh/proxy:build`), wrk, h2load, haproxy, openssl.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CLK_TCK, cpuTicks, loadAverage, rssMb } from './process-stats.mjs';
import { parseH2load } from './h2load.mjs';
import { A_ID, B_ID, makePairCerts } from './pair-certs.mjs';
import { PROXY_BIN_NODE_FLAGS } from './proxy-node-flags.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '8' },
    connections: { type: 'string', default: '50' },
    paths: { type: 'string', default: 'direct,tsmesh,haproxy' },
    scenarios: { type: 'string', default: 'h1-max,h2-max,grpc-max,h1-1k,h2-1k' },
    json: { type: 'string' },
    // Keep h2load's per-request logs here, and have the tsmesh proxies write their GC pauses and
    // event-loop stalls beside them (BENCH_LATLOG in tsmesh-proxy-child.mjs): see p99-analyze.mjs.
    'log-dir': { type: 'string' },
    'stall-log': { type: 'string', default: 'on' },
    // The flags bin/tsmesh-proxy.js runs node with.
    'node-flags': { type: 'string', default: PROXY_BIN_NODE_FLAGS },
    // Seconds of saturating wrk per path before measuring (JIT, pools, TLS sessions); 0 skips the
    // warm-up, e.g. so that a --cpu-prof or BENCH_HEAPPROF profile holds only the measured load.
    warmup: { type: 'string', default: '2' },
    // HTTP/2 streams per path in the warm-up (h2load), after the wrk part; 0: HTTP/1 only.
    'warmup-h2': { type: 'string', default: '5000' },
    // Seconds of the fixed-rate load itself per path before each fixed-rate scenario (fixedRate).
    'warmup-rate': { type: 'string', default: '4' },
  },
});
const DURATION = Number(args.duration);
const WARMUP_RATE = Number(args['warmup-rate']);
const CONNS = Number(args.connections);
const PATHS = args.paths.split(',');
const SCENARIOS = args.scenarios.split(',');

for (const tool of ['wrk', 'h2load', 'haproxy', 'openssl', 'taskset']) {
  if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
    console.error(`missing ${tool}: apt-get install wrk nghttp2-client haproxy openssl util-linux`);
    process.exit(1);
  }
}

const dir = mkdtempSync(join(tmpdir(), 'tsmesh-bench-proxy-'));
if (args['log-dir']) mkdirSync(args['log-dir'], { recursive: true });
const children = [];
const cleanup = () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
};
process.on('exit', cleanup);
process.on('SIGINT', () => process.exit(130));

// --- certificates (openssl) -----------------------------------------------------------------
makePairCerts(dir);
// gRPC request body: one framed message.
writeFileSync(join(dir, 'grpc-req.bin'), Buffer.from([0, 0, 0, 0, 5, 0x77, 0x6f, 0x72, 0x6c, 0x64]));

// --- processes ------------------------------------------------------------------------------
/**
 * Starts a child and resolves with the first JSON line it prints (lines before it, e.g. node's
 * --trace-gc output, are skipped). BENCH_CHILD_STDOUT=PREFIX keeps each child's whole stdout, each line
 * stamped with the epoch ms it arrived at, in PREFIX.<pid> (e.g. the GC trace of a proxy run with node-flags --trace-gc-nvp).
 */
function startJsonChild(cmd, argv, env = {}) {
  const child = spawn(cmd, argv, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  if (process.env.BENCH_CHILD_STDOUT) {
    // Each line stamped with the epoch ms it arrived at, to place it in the run.
    const out = createWriteStream(`${process.env.BENCH_CHILD_STDOUT}.${child.pid}`);
    child.stdout.on('data', (chunk) => {
      const now = Date.now();
      out.write(String(chunk).replace(/^(?=.)/gm, `${now} `));
    });
  }
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (chunk) => {
      buf += chunk;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (!line.startsWith('{')) continue;
        child.stdout.off('data', onData);
        child.off('exit', onExit);
        if (!process.env.BENCH_CHILD_STDOUT) child.stdout.resume();
        resolve({ child, info: JSON.parse(line) });
        return;
      }
    };
    const onExit = () => reject(new Error(`${cmd} ${argv.join(' ')} exited before it was ready`));
    child.stdout.on('data', onData);
    child.once('exit', onExit);
  });
}

async function freePort() {
  const { createServer } = await import('node:net');
  const s = createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

async function waitPort(port) {
  const { connect } = await import('node:net');
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listens on ${port}`);
}

const nodeFlags = args['node-flags'].split(' ').filter(Boolean);

async function startTsmesh(appPort, dist, flags = nodeFlags, hint = 'h2', label = 'tsmesh') {
  const base = {
    ...(args['log-dir'] && args['stall-log'] !== 'off'
      ? { BENCH_LATLOG: join(resolve(args['log-dir']), label) }
      : {}),
    LINKERD2_PROXY_INBOUND_LISTEN_ADDR: '127.0.0.1:0',
    LINKERD2_PROXY_OUTBOUND_LISTEN_ADDR: '127.0.0.1:0',
    LINKERD2_PROXY_ADMIN_LISTEN_ADDR: '127.0.0.1:0',
    LINKERD2_PROXY_LOG: 'warn',
    BENCH_CERT_DIR: dir,
    ...(dist ? { BENCH_PROXY_DIST: resolve(dist, 'dist/index.js') } : {}),
  };
  const script = join(HERE, 'tsmesh-proxy-child.mjs');
  const b = await startJsonChild('taskset', ['-c', '1', process.execPath, ...flags, script], {
    ...base,
    BENCH_NAME: 'b',
    BENCH_IDENTITY: B_ID,
    TSMESH_PROXY_INBOUND_FORWARD_ADDR: `127.0.0.1:${appPort}`,
  });
  const a = await startJsonChild('taskset', ['-c', '0', process.execPath, ...flags, script], {
    ...base,
    BENCH_NAME: 'a',
    BENCH_IDENTITY: A_ID,
    BENCH_PEER_PORT: String(b.info.inbound),
    BENCH_PEER_IDENTITY: B_ID,
    BENCH_PEER_HINT: hint,
    TSMESH_PROXY_OUTBOUND_FORWARD_ADDR: `127.0.0.1:${b.info.inbound}`,
  });
  const port = a.info.outbound;
  return { h1Port: port, h2Port: port, procs: { outbound: a.child.pid, inbound: b.child.pid } };
}

// The raw-socket HTTP/1.1 prototype (raw-h1/raw-proxy.mjs) as both proxies of the pair.
async function startRaw(appPort, parser = 'js', env = {}) {
  const base = { BENCH_CERT_DIR: dir, RAW_PARSER: parser, ...env };
  const script = join(HERE, 'raw-h1', 'raw-proxy.mjs');
  const b = await startJsonChild('taskset', ['-c', '1', process.execPath, ...nodeFlags, script], {
    ...base,
    RAW_ROLE: 'inbound',
    BENCH_NAME: 'b',
    RAW_UPSTREAM_PORT: String(appPort),
  });
  const a = await startJsonChild('taskset', ['-c', '0', process.execPath, ...nodeFlags, script], {
    ...base,
    RAW_ROLE: 'outbound',
    BENCH_NAME: 'a',
    BENCH_PEER_IDENTITY: B_ID,
    RAW_UPSTREAM_PORT: String(b.info.port),
  });
  return { h1Only: true, h1Port: a.info.port, procs: { outbound: a.child.pid, inbound: b.child.pid } };
}

async function startHaproxy(appPort) {
  const [a1, a2, b1, b2] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const common = `global
  nbthread 1
  maxconn 4000
defaults
  mode http
  option http-keep-alive
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  timeout http-keep-alive 60s
`;
  const tlsToB = `ssl crt ${dir}/a.pem ca-file ${dir}/ca.crt verify required verifyhost ${B_ID} sni str(${B_ID})`;
  writeFileSync(
    join(dir, 'haproxy-a.cfg'),
    `${common}
frontend out_h1
  bind 127.0.0.1:${a1}
  default_backend to_b_h1
frontend out_h2
  bind 127.0.0.1:${a2} proto h2
  default_backend to_b_h2
backend to_b_h1
  http-reuse always
  server b 127.0.0.1:${b1} ${tlsToB} alpn http/1.1
backend to_b_h2
  http-reuse always
  server b 127.0.0.1:${b2} ${tlsToB} alpn h2
`,
  );
  const tlsFromA = `ssl crt ${dir}/b.pem ca-file ${dir}/ca.crt verify required`;
  writeFileSync(
    join(dir, 'haproxy-b.cfg'),
    `${common}
frontend in_h1
  bind 127.0.0.1:${b1} ${tlsFromA} alpn http/1.1
  default_backend app_h1
frontend in_h2
  bind 127.0.0.1:${b2} ${tlsFromA} alpn h2
  default_backend app_h2
backend app_h1
  http-reuse always
  server app 127.0.0.1:${appPort}
backend app_h2
  http-reuse always
  server app 127.0.0.1:${appPort} proto h2
`,
  );
  const run = (cpu, cfg) => {
    const check = spawnSync('haproxy', ['-c', '-q', '-f', cfg], { encoding: 'utf8' });
    if (check.status !== 0) throw new Error(`haproxy config ${cfg}: ${check.stderr}`);
    const c = spawn('taskset', ['-c', cpu, 'haproxy', '-db', '-f', cfg], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    children.push(c);
    return c;
  };
  const b = run('1', join(dir, 'haproxy-b.cfg'));
  const a = run('0', join(dir, 'haproxy-a.cfg'));
  for (const p of [a1, a2, b1, b2]) await waitPort(p);
  return { h1Port: a1, h2Port: a2, procs: { outbound: a.pid, inbound: b.pid } };
}

// --- measurement ----------------------------------------------------------------------------
// taskset execs the program, so the child's pid is the proxy's own (cpuTicks, rssMb).

function runTool(cmd, argv) {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    c.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => c.kill('SIGKILL'), (DURATION + 30) * 1000);
    c.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} ${argv.join(' ')} exited ${code}: ${out.slice(-500)}`));
    });
  });
}

async function measured(procs, fn) {
  const pids = Object.entries(procs ?? {});
  const t0 = pids.map(([, pid]) => cpuTicks(pid));
  const peak = pids.map(() => 0);
  const sampler = setInterval(
    () => pids.forEach(([, pid], i) => (peak[i] = Math.max(peak[i], rssMb(pid)))),
    100,
  );
  const started = performance.now();
  try {
    const result = await fn();
    const secs = (performance.now() - started) / 1000;
    const usage = {};
    pids.forEach(([role, pid], i) => {
      peak[i] = Math.max(peak[i], rssMb(pid));
      const cpuSecs = (cpuTicks(pid) - t0[i]) / CLK_TCK;
      // CPU time per request holds steadier than req/s when other work shares the cores.
      usage[role] = {
        rssMb: peak[i],
        cpuPct: (cpuSecs / secs) * 100,
        cpuUsPerReq: (cpuSecs * 1e6) / (result.rps * secs),
      };
    });
    return { ...result, usage };
  } finally {
    clearInterval(sampler);
  }
}

function parseWrk(out) {
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const errors = /Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? '0';
  const sock = /Socket errors: (.*)/.exec(out)?.[1];
  const toMs = (v, unit) => Number(v) * ({ us: 0.001, ms: 1, s: 1000 }[unit] ?? 1);
  const lat = (p) => {
    const m = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s)`, 'm').exec(out);
    return m ? toMs(m[1], m[2]) : NaN;
  };
  return { rps, p50: lat(50), p99: lat(99), errors: Number(errors), note: sock };
}

const D = String(DURATION);
// The fixed-rate scenarios: h2load at 1,000 requests/s (10 clients × --rps 100, which send in
// bursts of ten), each request's latency logged. The per-path warm-up (wrk, then HTTP/2 at
// saturation) leaves the proxies' code optimized for other traffic: the first seconds at this rate
// recompile and deoptimize (--trace-opt shows TurboFan jobs of 1-6 ms), so each path first gets
// --warmup-rate seconds of this same load, unrecorded; p99 is then that of the steady state.
const fixedRateArgs = {
  'h1-1k': ['--h1', '-t1', '-c10', '--rps', '100'],
  'h2-1k': ['-t1', '-c10', '--rps', '100'],
};
/** h2load at the scenario's fixed rate for `secs` against path `t` (h1-1k on its HTTP/1 port). */
const h2loadFixedRate = (t, scenario, secs, extra = []) =>
  runTool('h2load', [
    ...fixedRateArgs[scenario],
    '-D',
    secs,
    ...extra,
    `http://127.0.0.1:${scenario === 'h1-1k' ? t.h1Port : t.h2Port}/`,
  ]);
async function warmFixedRate(t, scenario) {
  if (WARMUP_RATE > 0) await h2loadFixedRate(t, scenario, String(WARMUP_RATE));
}
async function fixedRate(t, scenario) {
  const log = join(args['log-dir'] ?? dir, `${scenario}-${t.name}.log`);
  return parseH2load(await h2loadFixedRate(t, scenario, D, ['--log-file', log]), log);
}

const runners = {
  'h1-max': async (t) =>
    parseWrk(
      await runTool('wrk', ['-t1', `-c${CONNS}`, `-d${D}s`, '--latency', `http://127.0.0.1:${t.h1Port}/`]),
    ),
  'h2-max': async (t) =>
    parseH2load(await runTool('h2load', ['-t1', '-c10', '-m10', '-D', D, `http://127.0.0.1:${t.h2Port}/`])),
  'grpc-max': async (t) =>
    parseH2load(
      await runTool('h2load', [
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
        `http://127.0.0.1:${t.h2Port}/bench.Echo/Say`,
      ]),
    ),
  'h1-1k': (t) => fixedRate(t, 'h1-1k'),
  'h2-1k': (t) => fixedRate(t, 'h2-1k'),
};

// --- run --------------------------------------------------------------------------------------
const load = loadAverage;
console.log(`proxy bench: ${DURATION}s per scenario, ${CONNS} wrk connections, load average ${load()}`);
const app = await startJsonChild(process.execPath, [
  ...(process.env.BENCH_BACKEND_FLAGS ?? '').split(' ').filter(Boolean),
  join(HERE, 'backend.mjs'),
]);
const appPort = app.info.port;
const targets = [];
for (const name of PATHS) {
  if (name === 'direct') targets.push({ name, h1Port: appPort, h2Port: appPort, procs: {} });
  else if (name.split(':')[1] === 'raw') {
    // LABEL:raw:PARSER:KEY=VALUE+KEY=VALUE runs the raw-socket prototype (raw-h1/raw-proxy.mjs).
    const [label, , parser, envs] = name.split(':');
    const env = Object.fromEntries(
      (envs ?? '')
        .split('+')
        .filter(Boolean)
        .map((kv) => kv.split('=')),
    );
    targets.push({ name: label, ...(await startRaw(appPort, parser || undefined, env)) });
  } else if (name.startsWith('tsmesh')) {
    // tsmesh-LABEL:DIR runs another build of the proxy (build-revision.mjs) beside the current one.
    // tsmesh-LABEL:DIR:FLAG+FLAG also gives that build its own node flags.
    const [label, dist, flags, hint] = name.split(':');
    const own = flags ? flags.split('+').filter(Boolean) : undefined;
    targets.push({
      name: label,
      ...(await startTsmesh(appPort, dist || undefined, own, hint || undefined, label)),
    });
  } else if (name === 'haproxy') targets.push({ name, ...(await startHaproxy(appPort)) });
  else throw new Error(`unknown path ${name}`);
}
// Warm up every path (JIT, pools, TLS sessions) before measuring.
const WARMUP = Number(args.warmup);
const WARMUP_H2 = Number(args['warmup-h2']);
for (const t of WARMUP > 0 ? targets : []) {
  await runTool('wrk', ['-t1', `-c${CONNS}`, `-d${WARMUP}s`, `http://127.0.0.1:${t.h1Port}/`]);
  if (!t.h1Only && WARMUP_H2 > 0)
    await runTool('h2load', [
      '-t1',
      '-c10',
      '-m10',
      '-n',
      String(WARMUP_H2),
      `http://127.0.0.1:${t.h2Port}/`,
    ]);
}

const results = {};
for (const s of SCENARIOS) {
  results[s] = {};
  for (const t of targets) {
    if (t.h1Only && !s.startsWith('h1')) continue;
    if (s in fixedRateArgs) await warmFixedRate(t, s);
    const r = await measured(t.procs, () => runners[s](t));
    results[s][t.name] = r;
    const use = Object.entries(r.usage)
      .map(
        ([role, u]) =>
          `${role} ${u.cpuPct.toFixed(0)}% ${u.cpuUsPerReq.toFixed(0)}µs/req ${u.rssMb.toFixed(0)}MB`,
      )
      .join(', ');
    console.log(
      `${s.padEnd(9)} ${t.name.padEnd(12)} ${r.rps.toFixed(0).padStart(7)} req/s  p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms  errors ${r.errors}${use ? `  | ${use}` : ''}`,
    );
  }
}

// --- summary: same-run ratios and the targets -------------------------------------------------
console.log(`\nload average after: ${load()}`);
const fmt = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '-');
for (const s of SCENARIOS) {
  const r = results[s];
  for (const name of Object.keys(r).filter((n) => n !== 'direct' && n !== 'haproxy')) {
    const ts = r[name];
    const parts = [];
    if (s.endsWith('-max')) {
      if (r.haproxy) parts.push(`${name}/haproxy ${fmt(ts.rps / r.haproxy.rps)} (target ≥ 0.50)`);
      if (r.direct) parts.push(`${name}/direct ${fmt(ts.rps / r.direct.rps)}`);
      if (r.haproxy && r.direct) parts.push(`haproxy/direct ${fmt(r.haproxy.rps / r.direct.rps)}`);
      if (r.haproxy) {
        const cost = (x) => x.usage.outbound.cpuUsPerReq + x.usage.inbound.cpuUsPerReq;
        parts.push(`CPU per request ${fmt(cost(ts), 0)} µs vs haproxy ${fmt(cost(r.haproxy), 0)} µs`);
      }
    } else if (r.direct) {
      parts.push(
        `${name} added p99 ${fmt(ts.p99 - r.direct.p99)} ms (target ≤ 2), p50 ${fmt(ts.p50 - r.direct.p50)} ms`,
      );
      if (r.haproxy) parts.push(`haproxy added p99 ${fmt(r.haproxy.p99 - r.direct.p99)} ms`);
    }
    const rss = Math.max(ts.usage.outbound.rssMb, ts.usage.inbound.rssMb);
    parts.push(`peak RSS ${fmt(rss, 0)} MB (target ≤ 80)`);
    console.log(`${s.padEnd(9)} ${parts.join('; ')}`);
  }
}
if (args.json)
  writeFileSync(args.json, JSON.stringify({ load: load(), duration: DURATION, results }, null, 2));
// SIGTERM first (bounded wait), so that proxies run with --cpu-prof get to write their profiles.
await Promise.all(
  children
    .filter((c) => c.exitCode === null && c.signalCode === null)
    .map((c) => {
      c.kill('SIGTERM');
      return Promise.race([once(c, 'exit'), new Promise((r) => setTimeout(r, 5000))]);
    }),
);
process.exit(0);
