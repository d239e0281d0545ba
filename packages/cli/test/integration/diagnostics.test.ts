// `tsmesh diagnostics …` and the global --kubeconfig/--context/-n against a real kube-apiserver
// (testenv), with the real destination and policy services started in-process over it and a real
// tsmesh proxy. There is no kubelet, so pods get their status from the test: the proxy's and the
// control plane's pods carry 127.0.0.1 (where those servers listen, ports from the kernel) and
// are reached with --via direct; the API server refuses to proxy to loopback pod IPs, which the
// apiserver-route test checks is reported with a fix. Service endpoints use 198.18.0.0/15 IPs
// (data only, never dialled).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { ProxyEnv } from '@tsmesh/core';
import { startDestinationService, type DestinationService } from '@tsmesh/destination';
import {
  CoreKinds,
  createKubeApiClient,
  createKubeObjectSource,
  crdManifests,
  installCrds,
  MeshKinds,
  type KubeApiClient,
  type KubeObject,
  type KubeObjectSource,
} from '@tsmesh/kube';
import { startPolicyService, type PolicyService } from '@tsmesh/policy';
import { createEnvSource, readProxyConfig, startProxy, type RunningProxy } from '@tsmesh/proxy';
import { ensureTestNode, markPodRunning, startTestEnv, type TestEnv } from '@tsmesh/testenv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { runProgram } from '../../src/commands/cli.test-support.js';

let env: TestEnv;
let client: KubeApiClient;
let source: KubeObjectSource;
let destination: DestinationService;
let policy: PolicyService;
let proxy: RunningProxy;
let node: string;
let dir: string;
let kubeconfig: string;
const ns = `diag-${process.pid}`;
const cpNs = `diag-cp-${process.pid}`;

const cli = (...args: string[]) => runProgram(args);

// Node's "possible EventTarget memory leak" warnings: a controller that shares one signal among its
// watches must say how many listeners it expects, or its log shows a leak warning at start.
const leakWarnings: string[] = [];
process.on('warning', (w) => {
  if (w.name === 'MaxListenersExceededWarning') leakWarnings.push(w.message);
});

/** The kubeconfig and context that reach the test cluster. */
const inTestenv = () => ['--kubeconfig', kubeconfig, '--context', 'testenv'];
const kube = (...args: string[]) => cli(...inTestenv(), ...args);

/** Polls `fn` until `ok` holds, at most `timeoutMs`; fails with the last value. */
async function until<T>(
  fn: () => Promise<T>,
  ok: (v: T) => boolean,
  what: string,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T;
  for (;;) {
    last = await fn();
    if (ok(last)) return last;
    if (Date.now() > deadline)
      throw new Error(`${what} not within ${timeoutMs} ms; last: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function podObject(
  namespace: string,
  name: string,
  labels: Record<string, string>,
  containers: unknown[],
): KubeObject {
  return { metadata: { name, namespace, labels }, spec: { nodeName: node, containers } } as KubeObject;
}

async function runningPod(pod: KubeObject, ip: string): Promise<void> {
  await client.create(CoreKinds.Pod, pod);
  await markPodRunning(env.kubeconfigPath, {
    namespace: pod.metadata!.namespace!,
    name: pod.metadata!.name!,
    podIP: ip,
  });
}

beforeAll(async () => {
  env = await startTestEnv();
  const kc = new KubeConfig();
  kc.loadFromFile(env.kubeconfigPath);
  client = createKubeApiClient(kc);
  await installCrds(client, crdManifests({ gatewayApi: true }), { timeoutMs: 60_000 });
  node = await ensureTestNode(kc);
  for (const name of [ns, cpNs]) {
    await client.create(CoreKinds.Namespace, { metadata: { name } } as KubeObject);
  }

  // A kubeconfig whose current context points nowhere: only --context testenv reaches the cluster,
  // and that context's namespace is the default -n.
  dir = mkdtempSync(join(tmpdir(), 'tsmesh-diag-'));
  const cluster = kc.getCurrentCluster()!;
  const user = kc.getCurrentUser()!;
  const multi = new KubeConfig();
  multi.loadFromOptions({
    clusters: [cluster, { name: 'nowhere', server: 'https://127.0.0.1:1', skipTLSVerify: true }],
    users: [user],
    contexts: [
      { name: 'nowhere', cluster: 'nowhere', user: user.name },
      { name: 'testenv', cluster: cluster.name, user: user.name, namespace: ns },
    ],
    currentContext: 'nowhere',
  });
  kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, multi.exportConfig());

  source = createKubeObjectSource({ client });
  destination = await startDestinationService({ source, port: 0, adminPort: 0, adminHost: '127.0.0.1' });
  policy = await startPolicyService({ source, port: 0, admin: { host: '127.0.0.1', port: 0 } });
  proxy = await startProxy({
    config: readProxyConfig(
      createEnvSource({
        [ProxyEnv.InboundListenAddr]: '127.0.0.1:0',
        [ProxyEnv.OutboundListenAddr]: '127.0.0.1:0',
        [ProxyEnv.AdminListenAddr]: '127.0.0.1:0',
        [ProxyEnv.ShutdownGracePeriod]: '100ms',
      }),
    ),
  });

  // The control plane's pod, as install makes it: containers destination and policy, ports grpc
  // and admin-http — here the ports of the in-process services.
  await runningPod(
    podObject(cpNs, 'linkerd-destination-0', { 'linkerd.io/control-plane-component': 'destination' }, [
      {
        name: 'destination',
        image: 'example.invalid/destination:1',
        ports: [
          { name: 'grpc', containerPort: destination.port },
          { name: 'admin-http', containerPort: destination.adminPort! },
        ],
      },
      {
        name: 'policy',
        image: 'example.invalid/policy:1',
        ports: [
          { name: 'grpc', containerPort: policy.port },
          { name: 'admin-http', containerPort: policy.adminPort! },
        ],
      },
    ]),
    '127.0.0.1',
  );
  // A meshed workload: web-0 whose proxy admin port is the real proxy's.
  const proxyContainer = {
    name: 'linkerd-proxy',
    image: 'example.invalid/proxy:1',
    ports: [{ name: 'linkerd-admin', containerPort: proxy.admin.address.port }],
  };
  await client.create(CoreKinds.Deployment, {
    metadata: { name: 'web', namespace: ns },
    spec: {
      replicas: 0,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [proxyContainer] } },
    },
  } as KubeObject);
  await runningPod(podObject(ns, 'web-0', { app: 'web' }, [proxyContainer]), '127.0.0.1');
  // A Service with two endpoints for discovery and policy.
  await client.create(CoreKinds.Service, {
    metadata: { name: 'api', namespace: ns },
    spec: { selector: { app: 'api' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
  } as KubeObject);
  for (const [i, ip] of ['198.18.40.1', '198.18.40.2'].entries()) {
    await runningPod(
      podObject(ns, `api-${i}`, { app: 'api' }, [
        { name: 'app', image: 'example.invalid/api:1', ports: [{ name: 'http', containerPort: 8080 }] },
      ]),
      ip,
    );
  }
  await client.create(MeshKinds.Server, {
    apiVersion: 'policy.linkerd.io/v1beta3',
    kind: 'Server',
    metadata: { name: 'api-http', namespace: ns },
    spec: { podSelector: { matchLabels: { app: 'api' } }, port: 8080, proxyProtocol: 'HTTP/1' },
  } as KubeObject);
}, 45 * 60_000);

afterAll(async () => {
  await proxy?.shutdown(0);
  await destination?.close();
  await policy?.close();
  await source?.close();
  client?.close();
  await env?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('tsmesh diagnostics against kube-apiserver', () => {
  it('proxy-metrics: --context picks the cluster and its namespace; pods of a Deployment; --obfuscate', async () => {
    const r = await kube('diagnostics', 'proxy-metrics', 'po/web-0', '--via', 'direct');
    expect(r.err).toBe('');
    expect(r.exitCode).toBe(0);
    expect(r.out).toMatch(/^#\n# POD web-0 \(1 of 1\)\n#\n/);
    expect(r.out).toMatch(/^process_start_time_seconds /m);

    // Global options after the subcommand, and a Deployment resolved to its pods.
    const d = await cli(
      'diag',
      'proxy-metrics',
      'deploy/web',
      '--via',
      'direct',
      '--kubeconfig',
      kubeconfig,
      '--context',
      'testenv',
      '-n',
      ns,
      '--obfuscate',
    );
    expect(d.exitCode).toBe(0);
    expect(d.out).toContain('# POD web-0 (1 of 1)');
  });

  it('proxy-metrics: errors say what, where and how to fix', async () => {
    const noCtx = await cli(
      '--kubeconfig',
      kubeconfig,
      '--context',
      'prod',
      'diagnostics',
      'proxy-metrics',
      'po/web-0',
    );
    expect(noCtx.exitCode).toBe(1);
    expect(noCtx.err).toContain('no context "prod" in the kubeconfig');
    expect(noCtx.err).toContain('known contexts: nowhere, testenv');

    const missing = await kube('diagnostics', 'proxy-metrics', 'deploy/nope');
    expect(missing.exitCode).toBe(1);
    expect(missing.err).toContain(`no Deployment ${ns}/nope`);
    expect(missing.err).toContain('-n NAMESPACE');

    const badType = await kube('diagnostics', 'proxy-metrics', 'svc/api');
    expect(badType.err).toContain('unknown resource type "svc"');

    // The API server will not proxy to a loopback pod IP: the error says how else to reach it.
    const viaApi = await kube('diagnostics', 'proxy-metrics', 'po/web-0');
    expect(viaApi.exitCode).toBe(1);
    expect(viaApi.out).toContain('# ERROR ');
    expect(viaApi.err).toContain('--via direct');
  });

  it('controller-metrics: every admin-http container of the control plane', async () => {
    const r = await kube(
      'diagnostics',
      'controller-metrics',
      '--controller-namespace',
      cpNs,
      '--via',
      'direct',
    );
    expect(r.err).toBe('');
    expect(r.out).toContain('# POD linkerd-destination-0 (1 of 2)\n# CONTAINER destination \n#\n');
    expect(r.out).toContain('# POD linkerd-destination-0 (2 of 2)\n# CONTAINER policy \n#\n');
    const empty = await kube('diagnostics', 'controller-metrics', '--controller-namespace', ns);
    expect(empty.exitCode).toBe(1);
    expect(empty.err).toContain(`no control-plane pods with a admin-http port in namespace ${ns}`);
  });

  it('endpoints: the destination pod found in the control-plane namespace, table and JSON', async () => {
    const authority = `api.${ns}.svc.cluster.local:80`;
    const base = [...inTestenv(), 'diagnostics', 'endpoints', '--controller-namespace', cpNs];
    const json = await until(
      () => cli(...base, '-o', 'json', authority),
      (r) => r.exitCode === 0 && (JSON.parse(r.out || '[]') as unknown[]).length === 2,
      'two endpoints',
    );
    expect(JSON.parse(json.out)).toEqual([
      { namespace: ns, ip: '198.18.40.1', port: 8080, pod: 'api-0', service: `api.${ns}` },
      { namespace: ns, ip: '198.18.40.2', port: 8080, pod: 'api-1', service: `api.${ns}` },
    ]);
    const table = await cli(...base, authority);
    const lines = table.out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NAMESPACE\s+IP\s+PORT\s+POD\s+SERVICE$/);
    expect(lines[1]!.split(/\s+/)).toEqual([ns, '198.18.40.1', '8080', 'api-0', `api.${ns}`]);

    // An explicit address needs no kubeconfig at all.
    const direct = await cli(
      '--kubeconfig',
      join(dir, 'missing'),
      'diagnostics',
      'endpoints',
      '--destination-addr',
      destination.address,
      '-o',
      'json',
      authority,
    );
    expect(direct.exitCode).toBe(0);
    expect(JSON.parse(direct.out)).toHaveLength(2);

    // The local mesh's control-plane.json (tsmesh up --state DIR) names the address.
    const state = join(dir, 'state');
    mkdirSync(state);
    writeFileSync(
      join(state, 'control-plane.json'),
      JSON.stringify({ destination: { addr: destination.address, name: 'linkerd-destination' } }),
    );
    const local = await cli(
      '--kubeconfig',
      join(dir, 'missing'),
      'diagnostics',
      'ep',
      '--state',
      state,
      '-o',
      'json',
      authority,
    );
    expect(local.err).toBe('');
    expect(JSON.parse(local.out)).toHaveLength(2);
    const noPolicy = await cli('diagnostics', 'policy', '--state', state, 'po/api-0', '8080');
    expect(noPolicy.err).toContain('the local control plane runs no policy service');

    const unknown = await cli(...base, `nothing.${ns}.svc.cluster.local:80`);
    expect(unknown.exitCode).toBe(1);
    expect(unknown.err).toContain('kubectl get svc');
    const bad = await cli(...base, 'api');
    expect(bad.err).toContain('"api" is not an authority with a port');
    const noCp = await kube('diagnostics', 'endpoints', authority);
    expect(noCp.err).toContain('no running destination pod in namespace linkerd');
    expect(noCp.err).toContain('--destination-addr');
  });

  it('profile: GetProfile for an authority, JSON and YAML', async () => {
    const authority = `api.${ns}.svc.cluster.local:80`;
    const base = [...inTestenv(), 'diagnostics', 'profile', '--controller-namespace', cpNs];
    const json = await kube(
      'diagnostics',
      'profile',
      '--controller-namespace',
      cpNs,
      '--token',
      JSON.stringify({ ns }),
      authority,
    );
    expect(json.err).toBe('');
    const profile = JSON.parse(json.out) as { fullyQualifiedName?: string; retryBudget?: unknown };
    expect(profile.fullyQualifiedName).toBe(`api.${ns}.svc.cluster.local`);
    const yaml = await cli(...base, '-o', 'yaml', authority);
    expect(parseYaml(yaml.out)).toEqual(profile);
    const bad = await cli(...base, 'api');
    expect(bad.err).toContain('"api" is not HOST:PORT');
  });

  it('policy: inbound for a pod port (the Server), outbound for a Service port', async () => {
    const base = [...inTestenv(), 'diagnostics', 'policy', '--controller-namespace', cpNs];
    const inbound = await until(
      () => cli(...base, '-o', 'json', 'po/api-0', '8080'),
      (r) => r.exitCode === 0 && r.out.includes('api-http'),
      'the Server in the inbound policy',
    );
    const server = JSON.parse(inbound.out) as { labels?: Record<string, string>; protocol?: unknown };
    expect(server.labels).toMatchObject({ kind: 'server', name: 'api-http' });
    expect(server.protocol).toHaveProperty('http1');

    // The policy controller indexes Services from its own watch: wait for it to know api.
    const outbound = await until(
      () => cli(...base, 'svc/api', '80'),
      (r) => r.exitCode === 0,
      'the outbound policy of svc/api',
    );
    const parsed = parseYaml(outbound.out) as { metadata?: unknown };
    expect(JSON.stringify(parsed.metadata)).toContain('api');

    const badPort = await cli(...base, 'po/api-0', 'http');
    expect(badPort.err).toContain('"http" is not a port number');
    const noPod = await cli(...base, 'po/nope', '8080');
    expect(noPod.exitCode).toBe(1);
    expect(noPod.err).toMatch(/InboundServerPolicies.GetPort/);
  });

  it('authz: the Server, ServerAuthorization and AuthorizationPolicies (Server and route) of a workload', async () => {
    const meta = (name: string) => ({ name, namespace: ns });
    await client.create(MeshKinds.ServerAuthorization, {
      metadata: meta('api-any'),
      spec: { server: { name: 'api-http' }, client: { unauthenticated: true } },
    } as KubeObject);
    await client.create(MeshKinds.AuthorizationPolicy, {
      metadata: meta('api-server-ap'),
      spec: {
        targetRef: { group: 'policy.linkerd.io', kind: 'Server', name: 'api-http' },
        requiredAuthenticationRefs: [],
      },
    } as KubeObject);
    await client.create(MeshKinds.PolicyHTTPRoute, {
      metadata: meta('api-write'),
      spec: {
        parentRefs: [{ group: 'policy.linkerd.io', kind: 'Server', name: 'api-http' }],
        rules: [{ matches: [{ method: 'POST' }] }],
      },
    } as KubeObject);
    await client.create(MeshKinds.AuthorizationPolicy, {
      metadata: meta('api-write-ap'),
      spec: {
        targetRef: { group: 'policy.linkerd.io', kind: 'HTTPRoute', name: 'api-write' },
        requiredAuthenticationRefs: [],
      },
    } as KubeObject);

    const table = await kube('authz', 'po/api-0');
    expect(table.err).toBe('');
    expect(
      table.out
        .trimEnd()
        .split('\n')
        .map((l) => l.split(/\s{3,}/)),
    ).toEqual([
      ['ROUTE', 'SERVER', 'AUTHORIZATION_POLICY', 'SERVER_AUTHORIZATION'],
      ['*', 'api-http', 'api-any'],
      ['*', 'api-http', 'api-server-ap'],
      ['api-write', 'api-http', 'api-write-ap'],
    ]);
    const json = await kube('authz', '-o', 'json', 'po', 'api-1');
    expect(JSON.parse(json.out)).toContainEqual({
      route: 'api-write',
      server: 'api-http',
      authorizationPolicy: 'api-write-ap',
      serverAuthorization: '',
    });
    // web-0 is selected by no Server: only the header.
    expect((await kube('authz', 'deploy/web')).out.trimEnd().split('\n')).toHaveLength(1);
    const missing = await kube('authz', 'po/nope');
    expect(missing.err).toContain(`no Pod ${ns}/nope`);
  });

  it('the destination and policy services over the Kubernetes API print no listener-leak warning', () => {
    expect(leakWarnings).toEqual([]);
  });

  it('a user without permissions is told how to check them', async () => {
    await client.create(CoreKinds.ServiceAccount, {
      metadata: { name: 'nobody', namespace: ns },
    } as KubeObject);
    const token = await client.request<{ status: { token: string } }>({
      method: 'POST',
      path: `/api/v1/namespaces/${ns}/serviceaccounts/nobody/token`,
      body: {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: { expirationSeconds: 3600 },
      },
    });
    const admin = new KubeConfig();
    admin.loadFromFile(env.kubeconfigPath);
    const cluster = admin.getCurrentCluster()!;
    const nobody = new KubeConfig();
    nobody.loadFromOptions({
      clusters: [cluster],
      users: [{ name: 'nobody', token: token.status.token }],
      contexts: [{ name: 'nobody', cluster: cluster.name, user: 'nobody', namespace: ns }],
      currentContext: 'nobody',
    });
    const file = join(dir, 'nobody.kubeconfig');
    writeFileSync(file, nobody.exportConfig());
    const r = await cli('--kubeconfig', file, 'authz', 'po/api-0');
    expect(r.exitCode).toBe(1);
    expect(r.err).toContain('forbidden');
    expect(r.err).toContain('kubectl auth can-i');
    const ep = await cli('--kubeconfig', file, 'diagnostics', 'endpoints', `api.${ns}.svc.cluster.local:80`);
    expect(ep.err).toContain('kubectl auth can-i');
  });
});
