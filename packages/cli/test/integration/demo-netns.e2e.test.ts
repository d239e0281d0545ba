// End to end, as root: the demo (web, emoji, voting, the vote bot) in network namespaces of their
// own with proxy-init's iptables rules (`tsmesh run --netns`, the built CLI), under a `tsmesh up`
// process over the demo's manifests. The apps dial plain Service names, with no hints; a curl
// client in a namespace of its own loads the page and the leaderboard in a bounded loop.
// 1. traffic flows, tshark on the hub's bridge sees only TLS between the namespaces, and the
//    proxies count the web → voting edge with tls="true";
// 2. a live edit of the policy file denies web → voting (PERMISSION_DENIED, the deny metric
//    rises); reverting it recovers;
// 3. the control plane killed mid-traffic: requests keep succeeding; restarted, the proxies
//    resubscribe (a new policy change takes effect again).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { DEMO_NAMESPACE, demoManifests, parsePrometheusText, type Sample } from '../../src/demo/index.js';
import { HUB_NETNS, transparentModeUnavailable } from '../../src/local/index.js';
import { built, cli, sum } from './demo-process.js';

const proxyBuilt = existsSync(new URL('../../../proxy/dist/main.js', import.meta.url));
const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
const skipReason =
  (await transparentModeUnavailable()) ??
  (!built || !proxyBuilt ? 'the CLI and the proxy are not built (npm run build)' : undefined) ??
  (!has('tshark')
    ? 'tshark is missing (apt-get install tshark; scripts/system-packages.mjs installs it)'
    : undefined) ??
  (!has('curl') ? 'curl is missing (apt-get install curl)' : undefined);
if (skipReason) console.warn(`demo-netns e2e: skipped — ${skipReason}`);

// Each app has a namespace of its own: fixed ports cannot collide.
const PORTS = { web: 8080, emoji: 8081, voting: 8082 } as const;
const CLUSTER_IPS: Record<string, string> = {
  'web-svc': '198.18.21.1',
  'emoji-svc': '198.18.21.2',
  'voting-svc': '198.18.21.3',
};
const WEB = `web-svc.${DEMO_NAMESPACE}.svc.cluster.local`;
const identity = (sa: string) => `${sa}.${DEMO_NAMESPACE}.serviceaccount.identity.linkerd.cluster.local`;

/** The demo's manifests, its Services given clusterIPs (transparent mode dials Services by them). */
function manifests(): Record<string, string> {
  const files = demoManifests(PORTS);
  const services = parseAllDocuments(files['20-services.yaml']!).map((d) => {
    const svc = d.toJS() as { metadata: { name: string }; spec: Record<string, unknown> };
    svc.spec.clusterIP = CLUSTER_IPS[svc.metadata.name];
    return stringify(svc);
  });
  return {
    ...files,
    '20-services.yaml': services.join('---\n'),
    // The curl client: a ServiceAccount, a Pod and a Service of its own.
    '40-client.yaml': stringify({
      apiVersion: 'local.tsmesh.io/v1alpha1',
      kind: 'Workload',
      metadata: { name: 'curl', namespace: DEMO_NAMESPACE },
      spec: { ports: [{ port: 8090 }] },
    }),
  };
}

/**
 * The policy file with voting's AuthorizationPolicy requiring the vote bot's identity instead of
 * web's: web's calls to voting are refused, emoji's policy is untouched.
 */
function denyingPolicy(allowing: string): string {
  type Doc = { metadata: { name: string }; spec: Record<string, unknown> };
  const objects: object[] = parseAllDocuments(allowing).map((d) => d.toJS() as Doc);
  for (const o of objects as Doc[])
    if (o.metadata.name === 'voting-grpc-from-web')
      o.spec.requiredAuthenticationRefs = [
        { group: 'policy.linkerd.io', kind: 'MeshTLSAuthentication', name: 'vote-bot-only' },
      ];
  objects.push({
    apiVersion: 'policy.linkerd.io/v1alpha1',
    kind: 'MeshTLSAuthentication',
    metadata: { name: 'vote-bot-only', namespace: DEMO_NAMESPACE },
    spec: { identityRefs: [{ kind: 'ServiceAccount', name: 'vote-bot' }] },
  });
  return objects.map((o) => stringify(o)).join('---\n');
}

// The client: the page once, then the leaderboard (web → emoji and web → voting) every 200 ms,
// one line per request; bounded in count (the test stops it long before).
const CLIENT = `#!/bin/sh
unset HTTP_PROXY http_proxy HTTPS_PROXY https_proxy ALL_PROXY all_proxy
echo "page $(curl -sS --max-time 10 http://${WEB}/ | grep -c '<title>tsmesh demo')"
i=0
while [ $i -lt 3000 ]; do
  i=$((i+1))
  out=$(curl -sS --max-time 5 -w '\\n%{http_code}' http://${WEB}/api/leaderboard 2>&1)
  code=$(printf '%s' "$out" | tail -n 1)
  if [ "$code" = 200 ]; then echo "req $i 200"
  else echo "req $i $code $(printf '%s' "$out" | head -c 300 | tr '\\n' ' ')"; fi
  sleep 0.2
done
`;

interface Proc {
  readonly name: string;
  readonly child: ChildProcess;
  output(): string;
  readonly exited: Promise<unknown>;
}

function start(name: string, args: readonly string[]): Proc {
  const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let all = '';
  child.stdout!.setEncoding('utf8').on('data', (t: string) => (all += t));
  child.stderr!.setEncoding('utf8').on('data', (t: string) => (all += t));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return { name, child, output: () => all, exited };
}

const alive = (c: ChildProcess) => c.exitCode === null && c.signalCode === null;

async function until<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  context: () => string,
  timeoutMs: number,
  watch: readonly Proc[] = [],
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const gone = watch.find((p) => !alive(p.child));
    if (gone) throw new Error(`${gone.name} exited before ${what}:\n${gone.output().slice(-3000)}`);
    const value = await Promise.resolve()
      .then(probe)
      .catch(() => undefined);
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out (${timeoutMs} ms) waiting for ${what}:\n${context()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function stop(p: Proc, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!alive(p.child)) return;
  p.child.kill(signal);
  const killer = setTimeout(() => p.child.kill('SIGKILL'), 15_000);
  await p.exited;
  clearTimeout(killer);
}

const tshark = (args: readonly string[]) => {
  const r = spawnSync('tshark', ['-n', ...args], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`tshark ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};

describe.skipIf(skipReason !== undefined)('e2e: the demo in network namespaces (transparent, root)', () => {
  let dir = '';
  let manifestDir = '';
  let state = '';
  let allowing = '';
  let up: Proc | undefined;
  const runs = new Map<string, Proc>();
  const podIPs = new Map<string, string>();
  let client: Proc | undefined;
  let capture: Proc | undefined;
  /** The steps share their setup: a step runs only when the one before it passed. */
  let passed = 0;
  const after = (step: number) => {
    if (passed < step) throw new Error(`step ${step} did not pass; this step needs what it set up`);
  };

  const startUp = () => {
    up = start('tsmesh up', ['up', '-f', manifestDir, '--state', state]);
    return until(
      'tsmesh up to serve',
      () => up!.output().includes('tsmesh control plane running'),
      () => up!.output(),
      60_000,
      [up],
    );
  };
  // Edited in place. Not by a rename over the file: Node 20's recursive fs.watch on Linux (the
  // manifest directory's watcher) reports the first rename over a file and never that file again —
  // the revert was not seen (a known gap of @tsmesh/kube's DirectoryObjectSource, not tested here).
  const writePolicy = (text: string) => writeFileSync(join(manifestDir, '30-policy.yaml'), text);
  // A connection per scrape (a pooled keep-alive one may be closed by the admin server meanwhile).
  const metrics = (app: string) =>
    new Promise<Sample[]>((resolve, reject) => {
      const req = get(
        { host: podIPs.get(app), port: 4191, path: '/metrics', agent: false, timeout: 5000 },
        (res) => {
          let text = '';
          res.setEncoding('utf8').on('data', (t: string) => (text += t));
          res.on('end', () => resolve(parsePrometheusText(text)));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`scraping ${app}'s proxy timed out`)));
      req.on('error', reject);
    });
  const requestLines = () => (client?.output() ?? '').split('\n').filter((l) => l.startsWith('req '));
  const runDemoApp = (app: string, port?: number) => {
    const args = ['run', '--netns', '--state', state, '--workload', app, '--namespace', DEMO_NAMESPACE];
    if (port) args.push('--port', `${app === 'web' ? 'http' : 'grpc'}=${port}`);
    const p = start(app, [...args, '--', process.execPath, cli, 'demo-app', app]);
    runs.set(app, p);
    return p;
  };
  const podOf = async (p: Proc, ready: string) => {
    await until(`${p.name} to run (${ready})`, () => p.output().includes(ready), p.output, 120_000, [p, up!]);
    podIPs.set(p.name, /podIP=(198\.19\.\d+\.\d+)/.exec(p.output())![1]!);
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tsmesh-demo-netns-'));
    manifestDir = join(dir, 'manifests');
    state = join(dir, 'state');
    mkdirSync(manifestDir);
    for (const [file, text] of Object.entries(manifests())) writeFileSync(join(manifestDir, file), text);
    allowing = readFileSync(join(manifestDir, '30-policy.yaml'), 'utf8');
    writeFileSync(join(dir, 'client.sh'), CLIENT, { mode: 0o755 });
  }, 30_000);

  afterAll(async () => {
    // Runs first (each removes its own namespace on SIGTERM), then the control plane.
    await Promise.all([client, ...runs.values(), capture].map((p) => (p ? stop(p) : undefined)));
    if (up) await stop(up);
    // Whatever a run killed hard left (its owner is dead now). Not --all: other tests' transparent
    // workloads may be running on this machine at the same time.
    const down = spawnSync(process.execPath, [cli, 'down'], { encoding: 'utf8', timeout: 60_000 });
    if (down.status !== 0) console.warn(`tsmesh down: ${down.stderr}`);
    rmSync(dir, { recursive: true, force: true });
  }, 90_000);

  it('runs the demo meshed by name, TLS on the wire and tls="true" on web → voting', async () => {
    await startUp();
    // The servers together; each prints its app's line once the app listens.
    const servers = (['emoji', 'voting', 'web'] as const).map((app) => runDemoApp(app, PORTS[app]));
    await Promise.all(servers.map((p) => podOf(p, `${p.name}: listening on 127.0.0.1`)));

    // Capture on the hub's bridge (every pod's veth) before any client traffic starts; the
    // host's plain scrapes of the proxies' admin port are left out.
    const pcap = join(dir, 'bridge.pcap');
    capture = {
      name: 'tshark',
      ...(() => {
        const child = spawn(
          'ip',
          ['netns', 'exec', HUB_NETNS, 'tshark', '-n', '-i', 'tsmesh0', '-w', pcap, '-F', 'pcap'],
          { stdio: ['ignore', 'ignore', 'pipe'] },
        );
        let log = '';
        child.stderr!.setEncoding('utf8').on('data', (t: string) => (log += t));
        return { child, output: () => log, exited: new Promise((r) => child.once('exit', r)) };
      })(),
    };
    await until(
      'tshark to capture',
      () => capture!.output().includes('Capturing on'),
      capture.output,
      30_000,
      [capture],
    );

    const bot = runDemoApp('vote-bot');
    client = start('curl client', [
      'run',
      '--netns',
      '--state',
      state,
      '--workload',
      'curl',
      '--namespace',
      DEMO_NAMESPACE,
      '--port',
      '8090',
      '--',
      join(dir, 'client.sh'),
    ]);
    await podOf(bot, 'vote-bot: voting through');
    await podOf(client, 'page ');
    expect(client.output(), 'the page through web').toMatch(/^page 1$/m);
    await until(
      '5 leaderboard answers',
      () => requestLines().filter((l) => / 200$/.test(l)).length >= 5,
      client.output,
      60_000,
      [client],
    );

    // The bot's votes flow: web's proxy admits them from the bot's identity, voting's from web's
    // (the bot's first vote may come a moment after the client's requests, hence the wait).
    // The scrapes go over the host's tsmesh-host address to port 4191 (left out of the checks).
    const fromBot = async () =>
      sum(await metrics('web'), 'request_total', {
        direction: 'inbound',
        tls: 'true',
        client_id: identity('vote-bot'),
      });
    const votingFromWeb = async () =>
      sum(await metrics('voting'), 'request_total', {
        direction: 'inbound',
        tls: 'true',
        client_id: identity('web'),
        target_port: String(PORTS.voting),
      });
    await until(
      "web to count the bot's requests and voting web's, over mesh TLS",
      async () => ((await fromBot()) > 0 && (await votingFromWeb()) >= 3) || undefined,
      () => bot.output().slice(-2000),
      30_000,
      [bot],
    );
    const web = await metrics('web');
    const webToVoting = web.filter(
      (s) =>
        s.name === 'request_total' &&
        s.labels.direction === 'outbound' &&
        Object.values(s.labels).some((v) => v.includes('voting')),
    );
    expect(webToVoting.length, 'web outbound request_total series to voting').toBeGreaterThan(0);
    for (const s of webToVoting) expect(s.labels.tls, JSON.stringify(s.labels)).toBe('true');

    capture.child.kill('SIGINT');
    await capture.exited;
    const mine = [...podIPs.values()];
    const anyOf = (field: string) => `(${mine.map((ip) => `${field}==${ip}`).join(' || ')})`;
    const between = `${anyOf('ip.src')} && ${anyOf('ip.dst')} && !tcp.port==4191`;
    const asTls = [PORTS.web, PORTS.emoji, PORTS.voting, 4143].flatMap((p) => ['-d', `tcp.port==${p},tls`]);
    const frames = (filter: string) =>
      tshark(['-r', pcap, ...asTls, '-Y', `${between} && ${filter}`, '-T', 'fields', '-e', 'frame.number'])
        .split('\n')
        .filter(Boolean).length;
    const conversations = tshark(['-r', pcap, '-q', '-z', 'conv,tcp']);
    for (const app of ['web', 'voting', 'emoji'] as const)
      expect(
        frames(`tls.handshake.type==1 && ip.dst==${podIPs.get(app)}`),
        `a TLS ClientHello to ${app}\n${conversations}`,
      ).toBeGreaterThan(0);
    expect(
      frames('(tls.record.content_type==23 || tls.record.opaque_type==23)'),
      conversations,
    ).toBeGreaterThan(0);
    expect(frames('(http || http2 || grpc)'), 'plaintext HTTP/gRPC between the namespaces').toBe(0);
    const raw = readFileSync(pcap);
    for (const marker of ['"shortcode"', 'l5d-client-id', 'User-Agent: curl', '<title>tsmesh demo'])
      expect(raw.includes(marker), `${marker} in the clear on the bridge`).toBe(false);
    passed = 1;
  }, 150_000);

  it('a live policy edit denies web → voting (PERMISSION_DENIED, the deny metric rises); reverting recovers', async () => {
    after(1);
    const deniesBefore = sum(await metrics('voting'), 'inbound_http_authz_deny_total');
    let mark = requestLines().length;
    writePolicy(denyingPolicy(allowing));
    const denied = await until(
      'web to see PERMISSION_DENIED from voting',
      () =>
        requestLines()
          .slice(mark)
          .find((l) => l.includes('PERMISSION_DENIED')),
      () => requestLines().slice(-5).join('\n'),
      30_000,
      [client!],
    );
    expect(denied).toMatch(/^req \d+ 500 .*PERMISSION_DENIED/);
    await until(
      'voting to count denials',
      async () => sum(await metrics('voting'), 'inbound_http_authz_deny_total') > deniesBefore || undefined,
      () => '',
      15_000,
    );

    writePolicy(allowing);
    mark = requestLines().length;
    await until(
      'web → voting to be allowed again (3 answers in a row)',
      () => {
        const since = requestLines().slice(mark);
        const last = since.slice(-3);
        return last.length === 3 && last.every((l) => / 200$/.test(l));
      },
      () => requestLines().slice(-5).join('\n'),
      30_000,
      [client!],
    );
    passed = 2;
  }, 90_000);

  it('survives the control plane killed mid-traffic; restarted, the proxies resubscribe', async () => {
    after(2);
    const mark = requestLines().length;
    up!.child.kill('SIGKILL');
    await up!.exited;
    // Keep the traffic going without it: 20 more requests, bounded in time.
    await until(
      '20 requests without the control plane',
      () => requestLines().length >= mark + 20,
      () => requestLines().slice(-5).join('\n'),
      60_000,
      [client!],
    );
    const without = requestLines().slice(mark);
    expect(
      without.filter((l) => !/ 200$/.test(l)),
      'failed requests while the control plane was down',
    ).toEqual([]);

    await startUp();
    // The proxies' streams come back to the restarted control plane: a new policy change applies.
    let since = requestLines().length;
    writePolicy(denyingPolicy(allowing));
    await until(
      'the denial to apply after the restart',
      () =>
        requestLines()
          .slice(since)
          .find((l) => l.includes('PERMISSION_DENIED')),
      () => `${requestLines().slice(-5).join('\n')}\n--- tsmesh up:\n${up!.output().slice(-2000)}`,
      45_000,
      [client!, up!],
    );
    writePolicy(allowing);
    since = requestLines().length;
    await until(
      'recovery after the restart',
      () => {
        const last = requestLines().slice(since).slice(-3);
        return last.length === 3 && last.every((l) => / 200$/.test(l));
      },
      () => requestLines().slice(-5).join('\n'),
      30_000,
      [client!],
    );
  }, 150_000);
});
