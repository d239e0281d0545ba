// `tsmesh viz install | kubectl apply`, `viz check`, `viz uninstall | kubectl delete` against a
// real kube-apiserver (testenv), and the tap service's authorization with the real RBAC those
// manifests create: a SubjectAccessReview for `watch deployments/tap` allows a user bound to
// `linkerd-linkerd-viz-tap-admin` and refuses others; the tap HTTP API (caller from the
// aggregator's request headers) answers 403 to the refused user.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { request as httpsRequest } from 'node:https';
import { createServer, type Server } from 'node:http';
import { KubeConfig } from '@kubernetes/client-node';
import { CoreKinds, createKubeApiClient, type KubeApiClient } from '@tsmesh/kube';
import {
  createCertificateAuthority,
  ensureBinaries,
  issueCertificate,
  startTestEnv,
  type TestEnv,
} from '@tsmesh/testenv';
import {
  createSubjectAccessReviewAuthorizer,
  createTapHttpHandler,
  createTapService,
  parseTapTarget,
  readRequestHeaderConfig,
  requestHeaderAuthenticator,
  startClusterTapServer,
  startTapInjector,
} from '@tsmesh/viz';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { runCli } from '../../src/commands/install.test-support.js';
import { kubectlAsync as kubectlAsyncIn } from './viz-support.js';
import { createWebhookCertificate } from '../../src/install/index.js';

let env: TestEnv;
let kubectl: string;
let client: KubeApiClient;

beforeAll(async () => {
  kubectl = (await ensureBinaries({ components: ['kubectl'] })).kubectl;
  env = await startTestEnv();
  const kc = new KubeConfig();
  kc.loadFromFile(env.kubeconfigPath);
  client = createKubeApiClient(kc);
}, 45 * 60_000);

afterAll(async () => {
  client?.close();
  await env?.stop();
});

function kubectlRun(args: string[], input?: string) {
  const r = spawnSync(kubectl, ['--kubeconfig', env.kubeconfigPath, ...args], {
    ...(input !== undefined ? { input } : {}),
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

/** kubectl without blocking the event loop (for tests whose servers the apiserver calls back). */
const kubectlAsync = (args: string[], input?: string) =>
  kubectlAsyncIn(kubectl, env.kubeconfigPath, args, input);

interface Report {
  success: boolean;
  categories: { categoryName: string; checks: { description: string; result: string; error?: string }[] }[];
}

const checks = async (...more: string[]) => {
  const r = await runCli(['viz', 'check', '--kubeconfig', env.kubeconfigPath, '-o', 'json', ...more]);
  const report = JSON.parse(r.out) as Report;
  return {
    exitCode: r.exitCode,
    byName: Object.fromEntries(report.categories[0]!.checks.map((c) => [c.description, c])),
  };
};

describe('viz install, check and uninstall on a real apiserver', () => {
  it('check fails before install, with the fix', async () => {
    const { exitCode, byName } = await checks();
    expect(exitCode).toBe(1);
    expect(byName['linkerd-viz Namespace exists']).toMatchObject({ result: 'error' });
    expect(byName['linkerd-viz Namespace exists']?.error).toContain('tsmesh viz install');
  });

  it('renders linkerd-viz objects, applies them and checks them', async () => {
    const install = await runCli([
      'viz',
      'install',
      '--set',
      'prometheusUrl=http://prometheus.monitoring.svc:9090',
    ]);
    expect(install.exitCode, install.err).toBe(0);
    const objects = parseAllDocuments(install.out).map(
      (d) => d.toJS() as { kind: string; metadata: { name: string } },
    );
    const names = objects.map((o) => `${o.kind}/${o.metadata.name}`);
    for (const n of [
      'Namespace/linkerd-viz',
      'APIService/v1alpha1.tap.linkerd.io',
      'ClusterRole/linkerd-linkerd-viz-tap-admin',
      'ClusterRoleBinding/linkerd-linkerd-viz-tap-auth-delegator',
      'RoleBinding/linkerd-linkerd-viz-tap-auth-reader',
      'MutatingWebhookConfiguration/linkerd-tap-injector-webhook-config',
      'Deployment/metrics-api',
      'Deployment/tap',
      'Deployment/tap-injector',
      'Deployment/web',
      'Service/tap',
    ])
      expect(names).toContain(n);
    // An external Prometheus: none of viz's own, and metrics-api points at it.
    expect(names).not.toContain('Deployment/prometheus');
    expect(install.out).toContain('-prometheus-url=http://prometheus.monitoring.svc:9090');
    expect((await runCli(['viz', 'install'])).out).toContain(
      'kind: Deployment\nmetadata:\n  name: prometheus',
    );
    const bad = await runCli(['viz', 'install', '--set', 'nope=1']);
    expect(bad.exitCode).toBe(1);
    expect(bad.err).toContain('unknown value "nope"');

    // viz goes on an installed control plane: its tap Role reads the trust roots in `linkerd`.
    kubectlRun(['create', 'namespace', 'linkerd']);
    const applied = kubectlRun(['apply', '-f', '-'], install.out);
    expect(applied.status, applied.err).toBe(0);

    const { exitCode, byName } = await checks('--external-prometheus');
    for (const d of [
      'linkerd-viz Namespace exists',
      'linkerd-viz ClusterRoles exist',
      'linkerd-viz ClusterRoleBindings exist',
      'tap API server has valid cert',
      'tap API server cert is valid for at least 60 days',
    ])
      expect(byName[d], d).toMatchObject({ result: 'success' });
    // No kubelet here: the APIService's backend and the pods never become ready.
    expect(exitCode).toBe(1);
    expect(byName['tap API service is running']).toMatchObject({ result: 'error' });
    expect(byName['tap API service is running']?.error).toContain('v1alpha1.tap.linkerd.io is not available');
  }, 120_000);

  it('authorizes tap with RBAC: the tap-admin role allows, anything else is refused (SubjectAccessReview)', async () => {
    const binding = [
      'apiVersion: v1',
      'kind: Namespace',
      'metadata: {name: tap-team}',
      '---',
      'apiVersion: rbac.authorization.k8s.io/v1',
      'kind: RoleBinding',
      'metadata: {name: alice-taps, namespace: tap-team}',
      'roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: linkerd-linkerd-viz-tap-admin}',
      'subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: alice}]',
      '',
    ].join('\n');
    const applied = kubectlRun(['apply', '-f', '-'], binding);
    expect(applied.status, applied.err).toBe(0);
    const authorize = createSubjectAccessReviewAuthorizer(client);
    const web = parseTapTarget('deploy/web', 'tap-team');
    // RBAC caches refresh quickly but not instantly after a write: allow a bounded wait.
    let decision = await authorize({ user: 'alice', groups: [] }, web);
    for (let i = 0; i < 50 && !decision.allowed; i++) {
      await new Promise((r) => setTimeout(r, 100));
      decision = await authorize({ user: 'alice', groups: [] }, web);
    }
    expect(decision).toMatchObject({ allowed: true });
    expect(
      await authorize({ user: 'alice', groups: [] }, parseTapTarget('deploy/web', 'default')),
    ).toMatchObject({
      allowed: false,
    });
    const bob = await authorize({ user: 'bob', groups: ['dev'] }, web);
    expect(bob.allowed).toBe(false);
    expect(bob.reason).toContain('user "bob" cannot watch deployments/tap web in namespace tap-team');

    // The HTTP API behind the aggregator: 403 for bob, and alice gets past RBAC (no pods here: 404).
    const handler = createTapHttpHandler({
      service: createTapService({
        listPods: async (signal) => (await client.list(CoreKinds.Pod, { signal })).items,
        tls: { trustAnchorsPem: '', certificateChainPem: '', privateKeyPem: '' },
      }),
      authenticate: requestHeaderAuthenticator(),
      authorize,
    });
    const server: Server = createServer((req, res) => {
      if (!handler(req, res)) res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as { port: number };
    const url = `http://127.0.0.1:${port}/api/tap?resource=deploy/web&namespace=tap-team`;
    try {
      const anonymous = await fetch(url);
      expect(anonymous.status).toBe(401);
      const refused = await fetch(url, { headers: { 'x-remote-user': 'bob', 'x-remote-group': 'dev' } });
      expect(refused.status).toBe(403);
      expect(((await refused.json()) as { error: string }).error).toContain('tap authorization failed');
      const allowed = await fetch(url, { headers: { 'x-remote-user': 'alice' } });
      expect(allowed.status).toBe(404);
      expect(((await allowed.json()) as { error: string }).error).toContain(
        'no pods to tap for deployment/web',
      );
    } finally {
      await new Promise((r) => server.close(r));
    }
  }, 60_000);

  it('serves the aggregated tap API over TLS: request headers count only from the front proxy', async () => {
    const pki = env.pki;
    const serving = createWebhookCertificate('tap', 'linkerd-viz');
    // The tap Deployment's server: the aggregator's request-header settings come from the real
    // apiserver's kube-system/extension-apiserver-authentication.
    const tlsDir = mkdtempSync(join(tmpdir(), 'tsmesh-tap-tls-'));
    writeFileSync(join(tlsDir, 'tls.crt'), serving.crtPEM);
    writeFileSync(join(tlsDir, 'tls.key'), serving.keyPEM);
    const server = await startClusterTapServer({
      client,
      tlsDir,
      host: '127.0.0.1',
      port: 0,
      controlPlaneNamespace: 'linkerd',
      trustDomain: 'cluster.local',
      tapTls: () => ({ trustAnchorsPem: '', certificateChainPem: '', privateKeyPem: '' }),
    });
    rmSync(tlsDir, { recursive: true, force: true });
    expect(await readRequestHeaderConfig(client)).toMatchObject({
      allowedNames: ['front-proxy-client'],
      usernameHeader: 'x-remote-user',
      groupHeader: 'x-remote-group',
    });
    const frontProxy = {
      cert: readFileSync(pki.frontProxyClient.certPath),
      key: readFileSync(pki.frontProxyClient.keyPath),
    };
    const get = (path: string, headers: Record<string, string>, clientCert?: typeof frontProxy) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpsRequest(
          {
            host: '127.0.0.1',
            port: server.port,
            path,
            headers,
            ca: serving.caBundle,
            servername: 'tap.linkerd-viz.svc',
            ...(clientCert ?? {}),
          },
          (res) => {
            let body = '';
            res.setEncoding('utf8').on('data', (c: string) => (body += c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          },
        );
        req.on('error', reject);
        req.end();
      });
    const path = '/apis/tap.linkerd.io/v1alpha1/watch/namespaces/tap-team/deployments/web/tap';
    try {
      const discovery = await get('/apis/tap.linkerd.io/v1alpha1', {});
      expect(JSON.parse(discovery.body)).toMatchObject({
        kind: 'APIResourceList',
        groupVersion: 'tap.linkerd.io/v1alpha1',
      });
      // Headers from a client without the front proxy's certificate are not believed.
      expect((await get(path, { 'X-Remote-User': 'alice' })).status).toBe(401);
      const bob = await get(path, { 'X-Remote-User': 'bob', 'X-Remote-Group': 'dev' }, frontProxy);
      expect(bob.status).toBe(403);
      expect(bob.body).toContain('cannot watch deployments/tap web in namespace tap-team');
      const alice = await get(path, { 'X-Remote-User': 'alice' }, frontProxy);
      expect(alice.status).toBe(404);
      expect(alice.body).toContain('no pods to tap for deployment/web in namespace tap-team');
    } finally {
      await server.close();
    }
  }, 60_000);

  it('the tap injector gives meshed pods the tap identity when the apiserver creates them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsmesh-tap-injector-'));
    const ca = await createCertificateAuthority({ dir, commonName: 'tap-injector-ca' });
    const serving = await issueCertificate({
      ca,
      dir,
      name: 'tls',
      commonName: 'tap-injector',
      ipAddresses: ['127.0.0.1'],
      usage: 'server',
    });
    // kubectl runs asynchronously here: a blocking spawnSync would stall this process's webhook server.
    // The webhook server reads tls.crt and tls.key from its directory.
    const { server, port } = await startTapInjector({
      client,
      tlsDir: dirname(serving.certPath),
      host: '127.0.0.1',
      port: 0,
      tapServiceName: 'tap.linkerd-viz.serviceaccount.identity.linkerd.cluster.local',
    });
    const webhook = {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingWebhookConfiguration',
      metadata: { name: 'test-tap-injector' },
      webhooks: [
        {
          name: 'tap-injector.linkerd.io',
          clientConfig: {
            url: `https://127.0.0.1:${port}/`,
            caBundle: readFileSync(ca.certPath).toString('base64'),
          },
          namespaceSelector: { matchLabels: { 'tap-injector-test': 'yes' } },
          failurePolicy: 'Fail',
          admissionReviewVersions: ['v1'],
          rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }],
          sideEffects: 'None',
          timeoutSeconds: 10,
        },
      ],
    };
    const manifests = [
      webhook,
      {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: 'tapped', labels: { 'tap-injector-test': 'yes' } },
      },
      {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: {
          name: 'untapped',
          labels: { 'tap-injector-test': 'yes' },
          annotations: { 'viz.linkerd.io/disable-tap': 'true' },
        },
      },
    ];
    const pod = (ns: string) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web-0', namespace: ns },
      spec: {
        containers: [
          { name: 'web', image: 'web' },
          { name: 'linkerd-proxy', image: 'proxy', env: [{ name: 'LINKERD2_PROXY_LOG', value: 'info' }] },
        ],
      },
    });
    try {
      // viz install's own webhook points at a Service nothing serves here (each pod creation would
      // wait for its timeout): only this test's webhook stays.
      kubectlRun([
        'delete',
        'mutatingwebhookconfiguration',
        'linkerd-tap-injector-webhook-config',
        '--ignore-not-found',
      ]);
      for (const m of manifests) expect(kubectlRun(['apply', '-f', '-'], JSON.stringify(m)).status).toBe(0);
      type PodOut = {
        metadata: { annotations?: Record<string, string> };
        spec: { containers: { name: string; env?: { name: string; value: string }[] }[] };
      };
      // The webhook configuration takes effect within a moment: retry the first creation briefly.
      let created: { status: number | null; out: string; err: string } = { status: 1, out: '', err: '' };
      for (let i = 0; i < 20; i++) {
        created = await kubectlAsync(['create', '-o', 'json', '-f', '-'], JSON.stringify(pod('tapped')));
        const env =
          created.status === 0 ? (JSON.parse(created.out) as PodOut).spec.containers[1]?.env : undefined;
        if (env?.some((e) => e.name === 'LINKERD2_PROXY_TAP_SVC_NAME')) break;
        await kubectlAsync([
          'delete',
          'pod',
          '-n',
          'tapped',
          'web-0',
          '--wait=false',
          '--grace-period=0',
          '--force',
        ]);
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(created.status, created.err).toBe(0);
      const tapped = JSON.parse(created.out) as PodOut;
      expect(tapped.spec.containers[1]?.env).toContainEqual({
        name: 'LINKERD2_PROXY_TAP_SVC_NAME',
        value: 'tap.linkerd-viz.serviceaccount.identity.linkerd.cluster.local',
      });
      expect(tapped.metadata.annotations?.['viz.linkerd.io/tap-enabled']).toBe('true');
      const optedOut = await kubectlAsync(
        ['create', '-o', 'json', '-f', '-'],
        JSON.stringify(pod('untapped')),
      );
      expect(optedOut.status, optedOut.err).toBe(0);
      const untapped = JSON.parse(optedOut.out) as PodOut;
      expect(untapped.spec.containers[1]?.env?.map((e) => e.name)).toEqual(['LINKERD2_PROXY_LOG']);
    } finally {
      kubectlRun(['delete', 'mutatingwebhookconfiguration', 'test-tap-injector', '--ignore-not-found']);
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);

  it('uninstall lists what install created, for kubectl delete', async () => {
    const r = await runCli(['viz', 'uninstall']);
    expect(r.exitCode, r.err).toBe(0);
    const kinds = parseAllDocuments(r.out).map((d) => (d.toJS() as { kind: string }).kind);
    expect(kinds.at(-1)).toBe('Namespace');
    const deleted = kubectlRun(['delete', '--ignore-not-found', '--wait=false', '-f', '-'], r.out);
    expect(deleted.status, deleted.err).toBe(0);
    const left = kubectlRun(['get', 'clusterroles', '-l', 'linkerd.io/extension=viz', '-o', 'name']);
    expect(left.out.trim()).toBe('');
    expect(kubectlRun(['get', 'apiservice', 'v1alpha1.tap.linkerd.io']).status).not.toBe(0);
  }, 60_000);
});
