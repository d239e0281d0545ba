import { mkdtemp, rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTsmeshImages, startCluster, type Cluster, type TsmeshImageComponent } from '../../src/index.js';
import {
  applyManifests,
  createEventually,
  describePods,
  e2eSkipReason,
  fetchOnceScript,
  firstPod,
  INSTALL_IMAGE_COMPONENTS,
  kubectlOut,
  meshedPodsReady,
  nodeDeployment,
  nodeExec,
  proxyMetrics,
  runTsmesh,
  TSMESH_IMAGE_TAG,
} from './cluster-support.js';

// The end-to-end suite of issue #11: what a user does, on the real one-node cluster (kubelet, containerd,
// runc, CNI, kube-proxy, CoreDNS): `tsmesh install --crds`, `tsmesh install`, `tsmesh check --wait`, a
// meshed namespace whose pods the injector changes, traffic between them with mutual TLS. Needs root
// (CI runs as root) and the built packages (`npm test` builds them; alone: `pnpm exec nx run
// @tsmesh/cli:build`), from which the images are made.
const COMPONENTS: readonly TsmeshImageComponent[] = [
  ...INSTALL_IMAGE_COMPONENTS,
  'cli', // runs the demo app's workloads (`tsmesh demo-app NAME`)
];
const skipReason = await e2eSkipReason(COMPONENTS);
if (skipReason) console.warn(`e2e mesh tests skipped: ${skipReason}`);
const NS = 'e2e-mesh';

/** The fields of a tap event (the JSON `linkerd viz tap -o json` prints) the viz step looks at. */
interface TapEvent {
  proxyDirection?: string;
  source?: { metadata?: Record<string, string> };
  destination?: { metadata?: Record<string, string> };
  requestInitEvent?: { method?: string };
}

// A well-behaved server: on SIGTERM it keeps serving for 4 s (while the endpoint removal reaches the
// clients' proxies), then exits; as a plain Kubernetes rollout needs too.
const SERVER = `
const http = require('node:http');
http.createServer((req, res) => res.end('hello from ' + process.env.HOSTNAME + ' ' + req.url))
  .listen(8080, () => console.log('server listening on 8080'));
process.on('SIGTERM', () => { console.log('SIGTERM: serving 4 s more'); setTimeout(() => process.exit(0), 4000); });
`;

describe.skipIf(skipReason !== undefined)('tsmesh on the one-node cluster (end to end)', () => {
  let cluster: Cluster;
  let imagesDir: string | undefined;
  const kubectl = (...args: string[]): Promise<string> => kubectlOut(cluster, ...args);
  const tsmesh = (args: string[], timeoutMs = 60_000): Promise<string> =>
    runTsmesh(cluster, args, { timeoutMs });
  const apply = (manifests: string, ...flags: string[]): Promise<void> =>
    applyManifests(cluster, manifests, ...flags);

  /** Runs a `node -e` script in the meshed client pod's app container; its stdout (and stderr on failure). */
  const inClient = (script: string, timeoutMs = 30_000): Promise<string> =>
    nodeExec(cluster, NS, 'client', script, timeoutMs);
  /** One fetch from the client pod: `<status> <l5d-proxy-error> <body>` or the error. */
  const fetchFromClient = (path: string): Promise<string> =>
    inClient(fetchOnceScript(`http://server.${NS}.svc.cluster.local${path}`));
  const serverPod = (): Promise<string> => firstPod(cluster, NS, 'app=server');
  const serverMetrics = (name: string): Promise<string[]> => proxyMetrics(cluster, NS, 'app=server', name);
  const clientId = `client.${NS}.serviceaccount.identity.linkerd.cluster.local`;

  /** Polls `fn` until it returns true; fails with `what`, the last observation and the cluster's pods. */
  const eventually = createEventually({
    timeoutMs: 120_000,
    intervalMs: 500,
    lastChars: 2000,
    diagnose: () => describePods(cluster),
  });

  /** The metric lines named `name` of a demo workload's proxy. */
  const demoMetrics = (app: string, name: string): Promise<string[]> =>
    proxyMetrics(cluster, 'emojivoto', `app=${app}`, name);
  /** The demo's manifests for this cluster (`tsmesh demo --kubernetes` with the imported CLI image). */
  const demoManifests = (): Promise<string> =>
    tsmesh([
      'demo',
      '--kubernetes',
      '--image',
      `ghcr.io/tsmesh/cli:${TSMESH_IMAGE_TAG}`,
      '--image-pull-policy',
      'Never',
    ]);
  const demoId = (sa: string) => `${sa}.emojivoto.serviceaccount.identity.linkerd.cluster.local`;
  /** The sum of the series among `lines` that carry every one of `labels`. */
  const total = (lines: string[], ...labels: string[]): number =>
    lines
      .filter((l) => labels.every((label) => l.includes(label)))
      .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
  /** Successful web → voting calls so far, as voting's proxy counts them. */
  const votesAllowed = async (): Promise<number> =>
    total(
      await demoMetrics('voting', 'response_total'),
      'direction="inbound"',
      `client_id="${demoId('web')}"`,
      'classification="success"',
    );
  const votesDenied = async (): Promise<number> =>
    total(await demoMetrics('voting', 'inbound_http_authz_deny_total'), `client_id="${demoId('web')}"`);

  /**
   * Server-sent events from a path of the cluster's apiserver (admin credentials), until `enough`
   * says so or `timeoutMs` passes; the request is closed either way.
   */
  const sseEvents = async (
    path: string,
    enough: (seen: { event: string; data: string }[]) => boolean,
    timeoutMs: number,
  ): Promise<{ event: string; data: string }[]> => {
    const kc = new KubeConfig();
    kc.loadFromFile(cluster.kubeconfigPath);
    const options: RequestOptions = { headers: { accept: 'text/event-stream' } };
    await kc.applyToHTTPSOptions(options);
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    const seen: { event: string; data: string }[] = [];
    try {
      const res = await new Promise<IncomingMessage>((resolve, reject) => {
        const req = httpsRequest(
          new URL(path, kc.getCurrentCluster()?.server),
          { ...options, signal: controller.signal },
          resolve,
        );
        req.on('error', reject);
        req.end();
      });
      let buffer = '';
      res.setEncoding('utf8');
      if (res.statusCode !== 200) {
        for await (const c of res) buffer += c as string;
        throw new Error(`GET ${path}: ${res.statusCode} ${buffer}`);
      }
      for await (const c of res) {
        buffer += c as string;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (data !== undefined) seen.push({ event: /^event: (.*)$/m.exec(block)?.[1] ?? 'message', data });
        }
        if (enough(seen)) break;
      }
    } catch (err) {
      if (!controller.signal.aborted) throw err;
    } finally {
      clearTimeout(timer);
      controller.abort();
    }
    return seen;
  };

  beforeAll(async () => {
    cluster = await startCluster({ onLog: (l) => process.stderr.write(`${l}\n`) });
    imagesDir = await mkdtemp(join(tmpdir(), 'tsmesh-e2e-images-'));
    const t = performance.now();
    const images = await buildTsmeshImages({
      outDir: imagesDir,
      tag: TSMESH_IMAGE_TAG,
      components: COMPONENTS,
    });
    await cluster.importImages(Object.values(images).map((i) => i.archive));
    process.stderr.write(
      `e2e: tsmesh images built and imported in ${Math.round(performance.now() - t)} ms\n`,
    );
  }, 45 * 60_000);
  afterAll(async () => {
    await cluster?.stop();
    if (imagesDir) await rm(imagesDir, { recursive: true, force: true });
  }, 120_000);

  // `--gateway-api`: the policy container waits for the HTTPRoute/GRPCRoute CRDs (its 4th container stays
  // unready without them: `GET /apis/gateway.networking.k8s.io/v1/httproutes: 404`), as Linkerd's needs them.
  it('tsmesh install --crds, tsmesh install, tsmesh check --wait: the control plane comes up', async () => {
    const t0 = performance.now();
    await apply(await tsmesh(['install', '--crds', '--gateway-api']), '--server-side');
    await apply(
      await tsmesh(['install', '--set', 'clusterNetworks=198.18.0.0/15', '--set', 'imagePullPolicy=Never']),
    );
    await eventually(
      'linkerd control-plane pods Ready',
      async () => {
        const ready = await kubectl(
          '-n',
          'linkerd',
          'get',
          'pods',
          '-o',
          'jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status} {end}',
        );
        const pods = ready.trim().split(' ').filter(Boolean);
        return (pods.length === 3 && pods.every((p) => p.endsWith('=True'))) || ready;
      },
      300_000,
    );
    const ready = performance.now();
    await tsmesh(['check', '--wait', '5m'], 330_000);
    process.stderr.write(
      `e2e: install → control plane Ready ${Math.round(ready - t0)} ms, tsmesh check ${Math.round(performance.now() - ready)} ms\n`,
    );
  }, 420_000);

  it('a meshed namespace: pods injected by the webhook, Ready, client reaches server by Service name with mTLS', async () => {
    const image = cluster.images.nodeBase.ref;
    const deployment = (name: string, args: string[]) =>
      nodeDeployment({ namespace: NS, name, image, args, terminationGracePeriodSeconds: 10 });
    const items = [
      {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: NS, annotations: { 'linkerd.io/inject': 'enabled' } },
      },
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'server', namespace: NS } },
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'client', namespace: NS } },
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'server', namespace: NS },
        spec: { selector: { app: 'server' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
      },
      deployment('server', ['-e', SERVER]),
      deployment('client', ['-e', 'setInterval(() => {}, 1 << 30)']),
    ];
    const t0 = performance.now();
    await apply(JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));

    for (const app of ['server', 'client']) {
      await eventually(`${app} pod injected and Ready`, () => meshedPodsReady(cluster, NS, 1, `app=${app}`));
    }
    process.stderr.write(
      `e2e: meshed server and client Ready ${Math.round(performance.now() - t0)} ms after apply\n`,
    );

    // The client (through its proxy's outbound side) reaches the server by Service name.
    await eventually('client → server by Service name', async () => {
      const out = await fetchFromClient('/e2e');
      return out.startsWith('200 null hello from server-') || out;
    });

    // The server's proxy saw it over mutual TLS from the client's identity.
    await eventually(
      'server proxy metrics show tls="true" from the client identity',
      async () => {
        const lines = await serverMetrics('request_total');
        const line = lines.find(
          (l) => l.includes('direction="inbound"') && l.includes(`client_id="${clientId}"`),
        );
        return (line !== undefined && line.includes('tls="true"')) || lines.join('\n');
      },
      60_000,
    );
  }, 360_000);

  it('policy: a Server with no authorization denies the client (403), and the deny shows in the metrics', async () => {
    const server = {
      apiVersion: 'policy.linkerd.io/v1beta3',
      kind: 'Server',
      metadata: { name: 'server-http', namespace: NS },
      spec: { podSelector: { matchLabels: { app: 'server' } }, port: 8080, proxyProtocol: 'HTTP/1' },
    };
    await apply(JSON.stringify(server));
    await eventually(
      'client → server refused with 403',
      async () => {
        const out = await fetchFromClient('/deny');
        return /^403 .*server-http/.test(out) || out;
      },
      60_000,
    );
    await eventually(
      'inbound_http_authz_deny_total for the client',
      async () => {
        const lines = await serverMetrics('inbound_http_authz_deny_total');
        const line = lines.find((l) => l.includes('srv_name="server-http"'));
        return (
          (line !== undefined && line.includes(`client_id="${clientId}"`) && line.includes('tls="true"')) ||
          lines.join('\n')
        );
      },
      30_000,
    );
    await kubectl('-n', NS, 'delete', 'server', 'server-http');
  }, 180_000);

  it('a rolling restart of the server under a bounded load loop loses no request', async () => {
    const before = await serverPod();
    // Sequential requests every 20 ms for 45 s (at most 4,000), each bounded by 5 s; prints a JSON summary.
    const load = `
const url = 'http://server.${NS}.svc.cluster.local/load';
const end = Date.now() + 45000; let ok = 0, fail = 0; const errors = {}; const hosts = new Set();
(async () => {
  while (Date.now() < end && ok + fail < 4000) {
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(5000) });
      const t = await r.text();
      if (r.status === 200) { ok++; hosts.add(t.split(' ')[2]); }
      else { fail++; const k = r.status + ' ' + (r.headers.get('l5d-proxy-error') || t); errors[k] = (errors[k] || 0) + 1; }
    } catch (e) { fail++; const k = String(e.cause ?? e); errors[k] = (errors[k] || 0) + 1; }
    await new Promise((r) => setTimeout(r, 20));
  }
  console.log(JSON.stringify({ ok, fail, errors, hosts: [...hosts] }));
})();`;
    const loop = inClient(load, 120_000);
    await new Promise((r) => setTimeout(r, 5_000));
    await kubectl('-n', NS, 'rollout', 'restart', 'deploy/server');
    const rollout = await cluster.kubectl(
      ['-n', NS, 'rollout', 'status', 'deploy/server', '--timeout=120s'],
      {
        allowFailure: true,
        timeoutMs: 130_000,
      },
    );
    if (rollout.code !== 0)
      throw new Error(`rollout: ${rollout.stdout}${rollout.stderr}${await describePods(cluster)}`);
    const out = await loop;
    if (!out.trim().startsWith('{')) throw new Error(`the load loop printed no summary: ${out}`);
    const summary = JSON.parse(out.trim().split('\n').pop() ?? '') as {
      ok: number;
      fail: number;
      errors: Record<string, number>;
      hosts: string[];
    };
    process.stderr.write(`e2e: load during the rolling restart: ${JSON.stringify(summary)}\n`);
    expect(summary.errors).toEqual({});
    expect(summary.fail).toBe(0);
    expect(summary.ok).toBeGreaterThan(50);
    // Served by the old pod and by its replacement.
    expect(summary.hosts).toContain(before);
    expect(summary.hosts.length).toBeGreaterThanOrEqual(2);
  }, 240_000);

  it('the demo app (tsmesh demo --kubernetes) runs meshed: every edge over mutual TLS, the failing vote in the metrics, check --proxy green', async () => {
    const demo = await demoManifests();
    const t0 = performance.now();
    await apply(demo);
    const apps = ['web', 'emoji', 'voting', 'vote-bot'];
    await eventually(
      'the demo pods injected and Ready',
      async () => {
        const out = await kubectl(
          '-n',
          'emojivoto',
          'get',
          'pods',
          '-o',
          'jsonpath={range .items[*]}{.metadata.labels.app} {.spec.initContainers[*].name},{.spec.containers[*].name} {.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}',
        );
        const lines = out.trim().split('\n').filter(Boolean);
        const ready = apps.every((app) =>
          lines.some((l) => l.startsWith(`${app} `) && /linkerd-proxy/.test(l) && l.endsWith(' True')),
        );
        return ready || out;
      },
      180_000,
    );
    process.stderr.write(`e2e: demo pods Ready ${Math.round(performance.now() - t0)} ms after apply\n`);
    // The bot's votes reach web over mTLS; web's calls reach emoji and voting over mTLS.
    for (const [app, from] of [
      ['web', 'vote-bot'],
      ['emoji', 'web'],
      ['voting', 'web'],
    ] as const) {
      await eventually(
        `${from} → ${app} over mutual TLS (inbound request_total on ${app}'s proxy)`,
        async () => {
          const lines = (await demoMetrics(app, 'request_total')).filter(
            (l) => l.includes('direction="inbound"') && l.includes(`client_id="${demoId(from)}"`),
          );
          return (lines.length > 0 && lines.every((l) => l.includes('tls="true"'))) || lines.join('\n');
        },
        90_000,
      );
    }
    // No plaintext edge anywhere from web: every outbound series of web's proxy is tls="true".
    const outbound = (await demoMetrics('web', 'request_total')).filter((l) =>
      l.includes('direction="outbound"'),
    );
    expect(outbound.length).toBeGreaterThan(0);
    expect(outbound.filter((l) => !l.includes('tls="true"'))).toEqual([]);
    // One vote always fails, as in emojivoto: voting's proxy classifies it a failure.
    await eventually(
      "the failing vote in voting's response_total",
      async () => {
        const lines = await demoMetrics('voting', 'response_total');
        return (
          lines.some((l) => l.includes('direction="inbound"') && l.includes('classification="failure"')) ||
          lines.join('\n')
        );
      },
      90_000,
    );
    await tsmesh(['check', '--proxy', '-n', 'emojivoto'], 120_000);
  }, 420_000);

  // Issue #12: `tsmesh viz install` on the cluster (no Prometheus: tap does not need one), tap through the
  // REAL kube-apiserver aggregation (APIService v1alpha1.tap.linkerd.io → Service tap → the tap pod), the
  // in-cluster dashboard's live tap (web's ServiceAccount, bound to tap-admin, through the same APIService),
  // `viz check`, and `viz uninstall | kubectl delete` leaving nothing behind.
  it('viz: install, check, tap through the aggregated API and the in-cluster dashboard, uninstall', async () => {
    const t0 = performance.now();
    // The dashboard is reached through the apiserver's pod proxy, whose Host is the pod's address:
    // accept it besides the default names (as Linkerd documents enforcedHostRegexp for exposing web).
    const enforcedHost = String.raw`^(localhost|127\.0\.0\.1|web\.linkerd-viz\.svc(\.cluster\.local)?|198\.18\.\d+\.\d+)(:\d+)?$`;
    const vizSets = [
      '--set',
      'prometheusUrl=http://127.0.0.1:9',
      '--set',
      `enforcedHostRegexp=${enforcedHost}`,
    ];
    await apply(await tsmesh(['viz', 'install', ...vizSets]));
    const vizPods = ['metrics-api', 'tap', 'tap-injector', 'web'];
    await eventually(
      'linkerd-viz pods Ready',
      async () => {
        const out = await kubectl(
          '-n',
          'linkerd-viz',
          'get',
          'pods',
          '-o',
          'jsonpath={range .items[*]}{.metadata.labels.component} {.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}',
        );
        const lines = out.trim().split('\n');
        return vizPods.every((c) => lines.includes(`${c} True`)) || out;
      },
      180_000,
    );
    const podsReady = performance.now();
    await tsmesh(['viz', 'check', '--wait', '2m', '--external-prometheus'], 150_000);
    // Pods created before the tap injector have no tap identity to accept: restart web (as Linkerd asks).
    await kubectl('-n', 'emojivoto', 'rollout', 'restart', 'deploy/web');
    await cluster.kubectl(['-n', 'emojivoto', 'rollout', 'status', 'deploy/web', '--timeout=150s'], {
      timeoutMs: 160_000,
    });
    const restarted = performance.now();

    // (a) The CLI through the aggregated API: live request/response/end lines of web's pods.
    let tapOut = '';
    await eventually(
      'tsmesh viz tap deploy/web shows live requests',
      async () => {
        tapOut = await tsmesh(['viz', 'tap', 'deploy/web', '-n', 'emojivoto', '--duration', '8s'], 60_000);
        const ids = (kind: string) =>
          new Set([...tapOut.matchAll(new RegExp(`^${kind} id=(\\d+:\\d+) `, 'gm'))].map((m) => m[1]));
        const ended = ids('end');
        return (
          ([...ids('req')].some((id) => ended.has(id)) && /^rsp id=.* :status=\d{3} /m.test(tapOut)) || tapOut
        );
      },
      90_000,
    );
    expect(tapOut).toMatch(
      /^req id=\d+:\d+ proxy=in\s+src=198\.18\.\d+\.\d+:\d+ dst=198\.18\.\d+\.\d+:\d+ tls=true :method=\w+ :authority=\S+ :path=\//m,
    );
    // Someone RBAC does not allow is refused by the apiserver before the tap server.
    const refused = await cluster.kubectl(
      [
        'get',
        '--raw',
        '/apis/tap.linkerd.io/v1alpha1/watch/namespaces/emojivoto/deployments/web/tap',
        '--as=nobody',
      ],
      { allowFailure: true, timeoutMs: 30_000 },
    );
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/forbidden/i);

    // (b) The in-cluster dashboard's /api/tap (through the apiserver's pod proxy to web): its own
    // ServiceAccount taps through the APIService.
    const webPod = (
      await kubectl(
        '-n',
        'linkerd-viz',
        'get',
        'pods',
        '-l',
        'component=web',
        '-o',
        'jsonpath={.items[0].metadata.name}',
      )
    ).trim();
    const meta = JSON.parse(
      await kubectl('get', '--raw', `/api/v1/namespaces/linkerd-viz/pods/${webPod}:8084/proxy/api/meta`),
    ) as { tap?: boolean };
    expect(meta.tap).toBe(true);
    // Until six taps and an inbound request among them: a tap that starts just after a request
    // reached web sees that request's outbound gRPC calls first (three events each).
    const inboundInit = (t: TapEvent) =>
      Boolean(t.requestInitEvent?.method) && t.proxyDirection === 'INBOUND';
    const events = await sseEvents(
      `/api/v1/namespaces/linkerd-viz/pods/${webPod}:8084/proxy/api/tap?resource=deploy/web&namespace=emojivoto`,
      (seen) => {
        const taps = seen.filter((e) => e.event === 'tap');
        return (
          taps.length >= 6 &&
          taps.some((e) => {
            try {
              return inboundInit(JSON.parse(e.data) as TapEvent);
            } catch {
              return false;
            }
          })
        );
      },
      60_000,
    );
    const taps = events.filter((e) => e.event === 'tap').map((e) => JSON.parse(e.data) as TapEvent);
    expect(taps.length, JSON.stringify(events).slice(0, 2000)).toBeGreaterThanOrEqual(6);
    expect(taps.some(inboundInit), JSON.stringify(taps).slice(0, 2000)).toBe(true);
    expect(
      taps.every(
        (t) => t.destination?.metadata?.deployment === 'web' || t.source?.metadata?.deployment === 'web',
      ),
    ).toBe(true);
    const tapped = performance.now();

    // (c) Uninstall: the namespace, the APIService, the webhook and the cluster-wide RBAC are gone.
    const del = await cluster.kubectl(
      ['delete', '--ignore-not-found', '--wait=true', '--timeout=150s', '-f', '-'],
      { input: await tsmesh(['viz', 'uninstall']), allowFailure: true, timeoutMs: 170_000 },
    );
    if (del.code !== 0)
      throw new Error(
        `kubectl delete of viz uninstall: ${del.stdout}${del.stderr}${await describePods(cluster)}`,
      );
    expect((await kubectl('get', 'namespaces', '-o', 'name')).split('\n')).not.toContain(
      'namespace/linkerd-viz',
    );
    const left = await kubectl(
      'get',
      'apiservices,clusterroles,clusterrolebindings,mutatingwebhookconfigurations',
      '-o',
      'name',
    );
    expect(left.split('\n').filter((n) => /linkerd-viz|tap\.linkerd\.io|tap-injector/.test(n))).toEqual([]);
    expect(
      [
        await kubectl('-n', 'kube-system', 'get', 'roles,rolebindings', '-o', 'name'),
        await kubectl('-n', 'linkerd', 'get', 'roles,rolebindings', '-o', 'name'),
      ]
        .join('\n')
        .split('\n')
        .filter((n) => /viz/.test(n)),
    ).toEqual([]);
    process.stderr.write(
      `e2e: viz pods Ready ${Math.round(podsReady - t0)} ms after apply; check + web restart ${Math.round(restarted - podsReady)} ms; ` +
        `tap (CLI and dashboard) ${Math.round(tapped - restarted)} ms; uninstall ${Math.round(performance.now() - tapped)} ms\n`,
    );
  }, 600_000);

  it("the demo's policy and failure scenarios: deny web → voting and allow it again; the control plane down and back", async () => {
    // Taking web's authorization away from voting: web's votes are refused by voting's proxy.
    const deniedBefore = await votesDenied();
    await kubectl('-n', 'emojivoto', 'delete', 'authorizationpolicy', 'voting-grpc-from-web');
    await eventually(
      "web → voting denied (inbound_http_authz_deny_total on voting's proxy rises)",
      async () => (await votesDenied()) > deniedBefore || `deny total ${await votesDenied()}`,
      60_000,
    );
    // Giving it back: votes succeed again.
    await apply(await demoManifests());
    const allowedAgain = await votesAllowed();
    await eventually(
      'web → voting allowed again',
      async () => (await votesAllowed()) > allowedAgain || `success total ${await votesAllowed()}`,
      60_000,
    );

    // The control plane (destination and policy) down: the proxies keep serving with what they know.
    const downAt = performance.now();
    await kubectl('-n', 'linkerd', 'scale', 'deploy/linkerd-destination', '--replicas=0');
    await eventually(
      'linkerd-destination pods gone',
      async () => {
        const pods = await kubectl(
          '-n',
          'linkerd',
          'get',
          'pods',
          '-l',
          'linkerd.io/control-plane-component=destination',
          '-o',
          'name',
        );
        return pods.trim() === '' || pods;
      },
      120_000,
    );
    const whileDown = await votesAllowed();
    await eventually(
      'votes keep succeeding with the control plane down',
      async () => (await votesAllowed()) >= whileDown + 5 || `success total ${await votesAllowed()}`,
      60_000,
    );
    // Back: the proxies resubscribe, and a new policy change reaches them.
    const upAt = performance.now();
    await kubectl('-n', 'linkerd', 'scale', 'deploy/linkerd-destination', '--replicas=1');
    const rollout = await cluster.kubectl(
      ['-n', 'linkerd', 'rollout', 'status', 'deploy/linkerd-destination', '--timeout=180s'],
      { timeoutMs: 190_000, allowFailure: true },
    );
    if (rollout.code !== 0) {
      const logs = await cluster.kubectl(
        ['-n', 'linkerd', 'logs', 'deploy/linkerd-destination', '--all-containers', '--tail=30'],
        { allowFailure: true },
      );
      throw new Error(
        `linkerd-destination back: ${rollout.stdout}${rollout.stderr}${await describePods(cluster)}\n--- logs\n${logs.stdout}${logs.stderr}`,
      );
    }
    const readyAt = performance.now();
    const deniedAfterRestart = await votesDenied();
    await kubectl('-n', 'emojivoto', 'delete', 'authorizationpolicy', 'voting-grpc-from-web');
    await eventually(
      'a policy change after the restart reaches voting (web → voting denied again)',
      async () => (await votesDenied()) > deniedAfterRestart || `deny total ${await votesDenied()}`,
      120_000,
    );
    process.stderr.write(
      `e2e: control plane down ${Math.round(upAt - downAt)} ms; back Ready ${Math.round(readyAt - upAt)} ms; policy change at voting ${Math.round(performance.now() - readyAt)} ms later\n`,
    );
    await kubectl('delete', 'namespace', 'emojivoto', '--wait=true', '--timeout=120s');
  }, 600_000);

  it('tsmesh uninstall | kubectl delete leaves the cluster clean', async () => {
    await kubectl('delete', 'namespace', NS, '--wait=true', '--timeout=120s');
    const t0 = performance.now();
    const del = await cluster.kubectl(
      ['delete', '--ignore-not-found', '--wait=true', '--timeout=150s', '-f', '-'],
      {
        input: await tsmesh(['uninstall']),
        allowFailure: true,
        timeoutMs: 170_000,
      },
    );
    if (del.code !== 0)
      throw new Error(
        `kubectl delete of tsmesh uninstall: ${del.stdout}${del.stderr}${await describePods(cluster)}`,
      );
    process.stderr.write(`e2e: uninstall ${Math.round(performance.now() - t0)} ms\n`);
    expect((await kubectl('get', 'namespaces', '-o', 'name')).split('\n')).not.toContain('namespace/linkerd');
    // The Gateway API CRDs stay (shared with other users of the Gateway API, as Linkerd's uninstall).
    const crds = (await kubectl('get', 'crd', '-o', 'name')).split('\n').filter(Boolean);
    expect(crds.filter((c) => c.endsWith('linkerd.io'))).toEqual([]);
    const clusterWide = await kubectl(
      'get',
      'clusterroles,clusterrolebindings,mutatingwebhookconfigurations,validatingwebhookconfigurations',
      '-o',
      'name',
    );
    expect(clusterWide.split('\n').filter((n) => /linkerd|tsmesh/.test(n))).toEqual([]);
  }, 360_000);
});
