// What the inbound features cost: client (wrk, HTTP/1.1 keep-alive) → tsmesh inbound proxy → app,
// on loopback, for several proxy configurations measured in ONE run (ratios to the first):
//   plain        no policy controller (default all-unauthenticated policy), X-Forwarded-For off
//   xff          the default: X-Forwarded-For added to every request
//   policy       + InboundServerPolicies from a policy server in this process: an HTTP/1 Server
//                with 3 routes, per-route authorizations (the request path matches the last one)
//   policy+log   + LINKERD2_PROXY_ACCESS_LOG=json (lines to the proxy's stderr → /dev/null)
// The proxy is pinned to CPU 1 (taskset), wrk to CPU 0. Reported: requests/s at saturation,
// latency p50/p99, and the proxy's CPU time per request (from /proc/PID/stat).
// Usage: node bench/proxy/inbound-features.bench.mjs [--duration 5] [--connections 50]
// Needs the built proxy (`pnpm exec nx run @tsmesh/proxy:build`), wrk and taskset.
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { addInboundServerPoliciesService } from '@tsmesh/core';
import { CLK_TCK, cpuTicks } from './process-stats.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
// wrk runs asynchronously: the policy server lives in this process and must keep answering.
const run = promisify(execFile);
const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '5' },
    connections: { type: 'string', default: '50' },
    rounds: { type: 'string', default: '3' },
  },
});
const children = [];
process.on('exit', () => children.forEach((c) => c.exitCode === null && c.kill('SIGKILL')));

async function jsonChild(argv, env, stderr = 'inherit') {
  const child = spawn('taskset', ['-c', '1', process.execPath, ...argv], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', stderr],
  });
  children.push(child);
  const [line] = await once(child.stdout, 'data');
  return { child, info: JSON.parse(String(line).split('\n')[0]) };
}

// --- a policy server: one HTTP/1 Server, three routes ------------------------------------------
const ANY = { net: { ip: { ipv4: 0 }, prefixLen: 0 } };
const authz = (name) => ({
  metadata: { resource: { group: 'policy.linkerd.io', kind: 'AuthorizationPolicy', name } },
  networks: [ANY],
  authentication: { unauthenticated: {} },
});
const route = (name, prefix) => ({
  metadata: { resource: { group: 'policy.linkerd.io', kind: 'HTTPRoute', name } },
  rules: [{ matches: [{ path: { prefix } }] }],
  authorizations: [authz(`${name}-authz`)],
});
const SERVER = {
  labels: { group: 'policy.linkerd.io', kind: 'server', name: 'bench' },
  protocol: { http1: { routes: [route('admin', '/admin'), route('api', '/api'), route('all', '/')] } },
  authorizations: [],
};
const grpcServer = new Server();
addInboundServerPoliciesService(grpcServer, {
  getPort: () => SERVER,
  async *watchPort(_spec, ctx) {
    yield SERVER;
    await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
  },
});
const policyPort = await new Promise((resolve, reject) =>
  grpcServer.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) =>
    e ? reject(e) : resolve(p),
  ),
);

// --- the app ------------------------------------------------------------------------------------
const app = await jsonChild([join(HERE, 'backend.mjs')], {});
const appPort = app.info.port;

const base = {
  LINKERD2_PROXY_INBOUND_LISTEN_ADDR: '127.0.0.1:0',
  LINKERD2_PROXY_OUTBOUND_LISTEN_ADDR: '127.0.0.1:0',
  LINKERD2_PROXY_ADMIN_LISTEN_ADDR: '127.0.0.1:0',
  TSMESH_PROXY_INBOUND_FORWARD_ADDR: `127.0.0.1:${appPort}`,
  LINKERD2_PROXY_LOG: 'error',
};
const policy = {
  LINKERD2_PROXY_POLICY_SVC_ADDR: `127.0.0.1:${policyPort}`,
  LINKERD2_PROXY_POLICY_SVC_NAME: 'linkerd-destination.linkerd.serviceaccount.identity.linkerd.cluster.local',
  LINKERD2_PROXY_POLICY_WORKLOAD: '{"ns":"bench","pod":"app-0"}',
};
const variants = [
  ['plain', { TSMESH_PROXY_INBOUND_FORWARDED: 'off' }],
  ['xff', {}],
  ['policy', policy],
  ['policy+log', { ...policy, LINKERD2_PROXY_ACCESS_LOG: 'json' }],
];

const rows = [];
// Rounds interleave the variants (A B C D A B C D …), so drift in the machine's load spreads over
// all of them; the figures reported per variant are medians over the rounds.
for (let round = 0; round < Number(args.rounds); round++)
  for (const [name, env] of variants) {
    const { child, info } = await jsonChild([join(HERE, 'inbound-child.mjs')], { ...base, ...env }, 'ignore');
    const url = `http://127.0.0.1:${info.inbound}/api/items`;
    // Warm up (and let the policy arrive), then measure.
    await run('taskset', ['-c', '0', 'wrk', '-t1', `-c${args.connections}`, '-d1s', url]);
    const before = cpuTicks(child.pid);
    const { stdout: out } = await run('taskset', [
      '-c',
      '0',
      'wrk',
      '-t1',
      `-c${args.connections}`,
      `-d${args.duration}s`,
      '--latency',
      url,
    ]);
    const cpuMs = ((cpuTicks(child.pid) - before) * 1000) / CLK_TCK;
    const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
    const total = Number(/(\d+) requests in/.exec(out)?.[1]);
    const p50 = /^\s+50%\s+(\S+)/m.exec(out)?.[1];
    const p99 = /^\s+99%\s+(\S+)/m.exec(out)?.[1];
    const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
    rows.push({ name, rps, p50, p99, cpuUsPerReq: Math.round((cpuMs * 1000) / total), non2xx });
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
grpcServer.forceShutdown();
app.child.kill('SIGTERM');

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const summary = variants.map(([name]) => {
  const mine = rows.filter((r) => r.name === name);
  return {
    name,
    rps: median(mine.map((r) => r.rps)),
    cpu: median(mine.map((r) => r.cpuUsPerReq)),
    p50: mine.map((r) => r.p50).join(' '),
    p99: mine.map((r) => r.p99).join(' '),
    non2xx: mine.reduce((a, r) => a + r.non2xx, 0),
  };
});
const first = summary[0];
console.log(
  `inbound proxy, wrk -c${args.connections} -d${args.duration}s, HTTP/1.1 keep-alive, ${args.rounds} interleaved rounds (medians)`,
);
console.log('variant      req/s  ratio  CPU us/req  ratio  non-2xx  p50 / p99 per round');
for (const r of summary) {
  console.log(
    `${r.name.padEnd(11)} ${String(Math.round(r.rps)).padStart(6)}  ${(r.rps / first.rps).toFixed(2)}  ${String(r.cpu).padStart(10)}  ${(r.cpu / first.cpu).toFixed(2)}  ${String(r.non2xx).padStart(7)}  ${r.p50} / ${r.p99}`,
  );
}
process.exit(0);
