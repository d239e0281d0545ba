// Live tap through a REAL kube-apiserver's API aggregation, as in a cluster: the objects of
// `tsmesh viz install` (its RBAC: web bound to linkerd-linkerd-viz-tap-admin; the APIService
// v1alpha1.tap.linkerd.io) applied to the testenv apiserver, with the tap Service made an
// ExternalName for 127.0.0.1 at the port of a tap API server this test runs (the aggregator's
// request-header CA and names read from the apiserver, every tap authorized by a real
// SubjectAccessReview) over the proxies of a running `tsmesh demo`. Then:
// - `tsmesh viz tap --kubeconfig` (admin) prints live requests through the aggregator;
// - `tsmesh viz web` (the built CLI, as the web Deployment runs it) with the web ServiceAccount's
//   token streams tap events and top rows on /api/tap and /api/top;
// - a ServiceAccount without the binding gets 403 from the dashboard, with the apiserver's reason.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { createKubeApiClient, type KubeApiClient } from '@tsmesh/kube';
import { ensureBinaries, startTestEnv, type TestEnv } from '@tsmesh/testenv';
import {
  createKubeApiTapHandler,
  createSubjectAccessReviewAuthorizer,
  readRequestHeaderConfig,
  startDashboardServer,
  startTapApiServer,
  type TapApiServer,
  type TapEventJson,
} from '@tsmesh/viz';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vizManifests, DEFAULT_VIZ_VALUES } from '../../src/commands/viz/index.js';
import { runProgram } from '../../src/commands/cli.test-support.js';
import { localTapService } from '../../src/commands/viz-tap.js';
import { createWebhookCertificate, formatManifests } from '../../src/install/index.js';
import { built, cli, startDemo, type DemoProcess } from './demo-process.js';
import { kubectlAsync } from './viz-support.js';

const NS = 'linkerd-viz';

describe.skipIf(!built)('live tap through the real API aggregation (viz tap, viz web)', () => {
  const root = mkdtempSync(join(tmpdir(), 'tsmesh-viz-web-tap-'));
  const state = join(root, 'demo');
  let demo: DemoProcess;
  let env: TestEnv;
  let client: KubeApiClient;
  let kubectl: string;
  let tapApi: TapApiServer;

  /** kubectl without blocking the event loop (the apiserver calls this process's tap server back). */
  const kubectlRun = (args: string[], input?: string) =>
    kubectlAsync(kubectl, env.kubeconfigPath, args, input);

  /** A kubeconfig file for a ServiceAccount of the viz namespace (a TokenRequest token). */
  const serviceAccountKubeconfig = async (sa: string): Promise<string> => {
    const review = await client.request<{ status: { token: string } }>({
      method: 'POST',
      path: `/api/v1/namespaces/${NS}/serviceaccounts/${sa}/token`,
      body: {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: { expirationSeconds: 3600 },
      },
    });
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'test', server: env.server, caFile: env.pki.ca.certPath }],
      users: [{ name: sa, token: review.status.token }],
      contexts: [{ name: sa, cluster: 'test', user: sa }],
      currentContext: sa,
    });
    const file = join(root, `${sa}.kubeconfig`);
    writeFileSync(file, kc.exportConfig());
    return file;
  };

  beforeAll(async () => {
    kubectl = (await ensureBinaries({ components: ['kubectl'] })).kubectl;
    demo = startDemo(state, ['--duration', '240s']);
    env = await startTestEnv();
    const kc = new KubeConfig();
    kc.loadFromFile(env.kubeconfigPath);
    client = createKubeApiClient(kc);
    await demo.up();

    // The tap Deployment's server, here on 127.0.0.1, tapping the demo's proxies.
    const serving = createWebhookCertificate('tap', NS);
    const requestHeader = await readRequestHeaderConfig(client);
    tapApi = await startTapApiServer({
      service: localTapService(state),
      authorize: createSubjectAccessReviewAuthorizer(client),
      certificatePem: serving.crtPEM,
      privateKeyPem: serving.keyPEM,
      requestHeaderClientCaPem: requestHeader.clientCaPem,
      requestHeaderAllowedNames: requestHeader.allowedNames,
      usernameHeader: requestHeader.usernameHeader,
      groupHeader: requestHeader.groupHeader,
      host: '127.0.0.1',
      port: 0,
    });

    // viz install's objects with that certificate; the tap Service points the aggregator at it.
    const objects = vizManifests({ ...DEFAULT_VIZ_VALUES, prometheusUrl: 'http://127.0.0.1:9' }, new Date(), {
      tap: serving,
      tapInjector: createWebhookCertificate('tap-injector', NS),
    })
      .filter((o) => !['Deployment', 'MutatingWebhookConfiguration'].includes(o.kind as string))
      .map((o) => {
        const name = (o.metadata as { name: string }).name;
        if (o.kind === 'Service' && name === 'tap')
          return {
            ...o,
            spec: {
              type: 'ExternalName',
              externalName: '127.0.0.1',
              ports: [{ name: 'apiserver', port: tapApi.port }],
            },
          };
        if (o.kind === 'APIService')
          return {
            ...o,
            spec: { ...(o.spec as object), service: { name: 'tap', namespace: NS, port: tapApi.port } },
          };
        return o;
      });
    // viz goes on an installed control plane: its tap Role reads the trust roots in `linkerd`.
    await kubectlRun(['create', 'namespace', 'linkerd']);
    const applied = await kubectlRun(['apply', '-f', '-'], formatManifests(objects));
    if (applied.status !== 0) throw new Error(`kubectl apply: ${applied.err}`);
    const available = await kubectlRun([
      'wait',
      '--for=condition=Available',
      '--timeout=50s',
      'apiservice/v1alpha1.tap.linkerd.io',
    ]);
    if (available.status !== 0) {
      const status = await kubectlRun(['get', 'apiservice/v1alpha1.tap.linkerd.io', '-o', 'yaml']);
      throw new Error(`the tap APIService is not Available: ${available.err}\n${status.out}`);
    }
  }, 45 * 60_000);

  afterAll(async () => {
    await demo?.stop('SIGINT');
    await tapApi?.close();
    client?.close();
    await env?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('tsmesh viz tap --kubeconfig prints live requests of the demo through the aggregator', async () => {
    let out = '';
    // Bounded retries: on a loaded machine one short window may catch no complete request.
    for (let i = 0; i < 5 && !/^end id=/m.test(out); i++) {
      const r = await runProgram(
        [
          'viz',
          'tap',
          'deploy/web',
          '-n',
          'emojivoto',
          '--kubeconfig',
          env.kubeconfigPath,
          '--duration',
          '4s',
        ],
        { lines: true },
      );
      expect(r.exitCode, r.err).toBe(0);
      out += r.out;
    }
    expect(out).toMatch(
      /^req id=\d+:\d+ proxy=in\s+src=\S+ dst=\S+ tls=\S* :method=\w+ :authority=\S+ :path=\//m,
    );
    expect(out).toMatch(/^rsp id=\d+:\d+ .* :status=\d{3} latency=\d+µs$/m);
    expect(out).toMatch(/^end id=\d+:\d+ /m);
  }, 120_000);

  it('tsmesh viz web taps with its ServiceAccount through the APIService: /api/tap and /api/top stream', async () => {
    const kubeconfig = await serviceAccountKubeconfig('web');
    const web: ChildProcess = spawn(
      process.execPath,
      [
        cli,
        'viz',
        'web',
        '--addr=127.0.0.1:0',
        '--admin-addr=127.0.0.1:0',
        '--prometheus-url=http://127.0.0.1:9',
        '--kubeconfig',
        kubeconfig,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let log = '';
    web.stdout!.setEncoding('utf8').on('data', (t: string) => (log += t));
    web.stderr!.setEncoding('utf8').on('data', (t: string) => (log += t));
    const exited = new Promise((resolve) => web.once('exit', resolve));
    try {
      const deadline = Date.now() + 30_000;
      while (!/serving (http:\/\/127\.0\.0\.1:\d+\/)/.test(log)) {
        if (Date.now() > deadline || web.exitCode !== null) throw new Error(`viz web did not start: ${log}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const url = /serving (http:\/\/127\.0\.0\.1:\d+\/)/.exec(log)![1]!;
      const meta = (await (await fetch(`${url}api/meta`)).json()) as { tap?: boolean };
      expect(meta.tap).toBe(true);
      const tap = await stream(
        `${url}api/tap?resource=deploy/web&namespace=emojivoto`,
        (t) => (t.match(/^event: tap$/gm) ?? []).length >= 6,
      );
      expect(tap.status, tap.text).toBe(200);
      const events = [...tap.text.matchAll(/^event: tap\ndata: (.*)$/gm)].map(
        (m) => JSON.parse(m[1]!) as TapEventJson,
      );
      expect(events.length).toBeGreaterThanOrEqual(6);
      expect(
        events.every(
          (e) => e.destination.metadata.deployment === 'web' || e.source.metadata.deployment === 'web',
        ),
      ).toBe(true);
      expect(events.some((e) => e.requestInitEvent?.method)).toBe(true);
      const top = await stream(`${url}api/top?resource=deploy/web&namespace=emojivoto`, (t) =>
        /"count":[1-9]/.test(t),
      );
      expect(top.text).toMatch(/^event: top\ndata: \{"rows":\[\{"source":/m);
    } finally {
      web.kill('SIGTERM');
      await exited;
    }
  }, 120_000);

  it('a ServiceAccount without the tap-admin binding gets 403 from the dashboard, with the reason', async () => {
    const created = await kubectlRun(['-n', NS, 'create', 'serviceaccount', 'nobody']);
    expect(created.status, created.err).toBe(0);
    const kc = new KubeConfig();
    kc.loadFromFile(await serviceAccountKubeconfig('nobody'));
    const tap = createKubeApiTapHandler({ kubeConfig: kc });
    const dashboard = await startDashboardServer({
      source: {
        mode: 'prometheus',
        windowSeconds: 60,
        vectors: () => undefined,
        refresh: async () => {},
        problems: () => [],
      },
      tap: (req, res) => void tap(req, res),
      intervalMs: 60_000,
    });
    try {
      const res = await fetch(`${dashboard.url}api/tap?resource=deploy/web&namespace=emojivoto`);
      expect(res.status).toBe(403);
      const body = (await res.json()) as { error: string };
      expect(body.error).toContain('system:serviceaccount:linkerd-viz:nobody');
      expect(body.error).toMatch(/forbidden/i);
    } finally {
      await dashboard.close();
    }
  }, 60_000);
});

/** Reads a streamed answer until `enough` (or 30 s), then closes it. */
function stream(url: string, enough: (text: string) => boolean): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    let status = 0;
    let text = '';
    const req = request(url, (res) => {
      status = res.statusCode ?? 0;
      res.setEncoding('utf8').on('data', (c: string) => {
        text += c;
        if (enough(text)) done();
      });
      res.on('end', done);
      res.on('error', done);
    });
    const timer = setTimeout(done, 30_000);
    function done() {
      clearTimeout(timer);
      req.destroy();
      resolve({ status, text });
    }
    req.on('error', (e) => (status ? done() : reject(e))).end();
  });
}
