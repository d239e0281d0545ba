// `tsmesh install`, `check` and `uninstall` against a real kube-apiserver (testenv), with the
// kubectl testenv builds from the same Kubernetes module:
//   check --pre passes on a fresh server (warning that the Gateway API is missing) and fails, with a
//   hint, without permissions;
//   check fails (CRDs, Gateway API and linkerd-config missing) before install;
//   install --crds (and upgrade --crds) refuses without the Gateway API and never takes over external Gateway API CRDs;
//   install --crds | kubectl apply --server-side, install | kubectl apply --dry-run=server, then for real;
//   check passes once the control-plane pods (made by kube-controller-manager) report ready.
// Golden: check --pre -o json. Regenerate with TSMESH_UPDATE_GOLDEN=1.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { createIntermediateCertificate, createRootCertificate, formatPrivateKey } from '@tsmesh/core';
import {
  CoreKinds,
  crdManifests,
  createKubeApiClient,
  type KubeApiClient,
  type KubeObject,
} from '@tsmesh/kube';
import { ensureBinaries, startTestEnv, type TestEnv } from '@tsmesh/testenv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { FIXED_CERTS, runCli } from '../../src/commands/install.test-support.js';
import { expectGolden } from '../../src/commands/cli.test-support.js';

const goldenDir = new URL('../golden/check/', import.meta.url);
const golden = (name: string, actual: string) => expectGolden(goldenDir, name, actual);

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

function apply(manifest: string, ...args: string[]) {
  const r = spawnSync(kubectl, ['--kubeconfig', env.kubeconfigPath, 'apply', ...args, '-f', '-'], {
    input: manifest,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

const kube = () => ['--kubeconfig', env.kubeconfigPath];

/** A kubeconfig for a ServiceAccount that may do nothing. */
async function powerlessKubeconfig(): Promise<string> {
  await client.create(CoreKinds.Namespace, {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: 'nobody-ns' },
  });
  await client.create(CoreKinds.ServiceAccount, {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name: 'nobody', namespace: 'nobody-ns' },
  });
  const token = await client.request<{ status: { token: string } }>({
    method: 'POST',
    path: '/api/v1/namespaces/nobody-ns/serviceaccounts/nobody/token',
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } },
  });
  const admin = new KubeConfig();
  admin.loadFromFile(env.kubeconfigPath);
  const cluster = admin.getCurrentCluster()!;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [cluster],
    users: [{ name: 'nobody', token: token.status.token }],
    contexts: [{ name: 'nobody', cluster: cluster.name, user: 'nobody' }],
    currentContext: 'nobody',
  });
  const path = `${env.dir}/nobody.kubeconfig`;
  writeFileSync(path, kc.exportConfig());
  return path;
}

/** What a kubelet would write: every container (and native-sidecar init container) running and ready. */
async function markPodsReady(namespace: string): Promise<number> {
  const pods = await client.list<
    KubeObject & {
      spec: { containers: { name: string }[]; initContainers?: { name: string; restartPolicy?: string }[] };
    }
  >(CoreKinds.Pod, { namespace });
  for (const pod of pods.items) {
    const running = (name: string) => ({
      name,
      ready: true,
      started: true,
      restartCount: 0,
      image: 'x',
      imageID: '',
      state: { running: { startedAt: new Date().toISOString() } },
    });
    const status = {
      phase: 'Running',
      podIP: '198.18.0.10',
      conditions: ['Initialized', 'ContainersReady', 'Ready', 'PodScheduled'].map((type) => ({
        type,
        status: 'True',
        lastTransitionTime: new Date().toISOString(),
      })),
      containerStatuses: pod.spec.containers.map((c) => running(c.name)),
      initContainerStatuses: (pod.spec.initContainers ?? []).map((c) =>
        c.restartPolicy === 'Always'
          ? running(c.name)
          : { ...running(c.name), ready: false, state: { terminated: { exitCode: 0, reason: 'Completed' } } },
      ),
    };
    await client.request({
      method: 'PATCH',
      path: `/api/v1/namespaces/${namespace}/pods/${pod.metadata!.name}/status`,
      contentType: 'application/merge-patch+json',
      body: { status },
    });
  }
  return pods.items.length;
}

describe('tsmesh install and check against kube-apiserver', () => {
  it('check --pre passes on a fresh server, warning that the Gateway API is missing (golden JSON)', async () => {
    const r = await runCli(['check', '--pre', '-o', 'json', ...kube()]);
    expect(r.exitCode, r.out + r.err).toBe(0);
    const text = await runCli(['check', '--pre', ...kube()]);
    expect(text.out).toMatch(
      /‼ Gateway API is installed\n {4}no CustomResourceDefinition httproutes\.gateway\.networking\.k8s\.io, which the mesh needs; install the Gateway API first: .*\n {4}see https:\/\/linkerd\.io\/2\/checks\/#gwapi for hints\n√ Gateway API CRDs serve v1\n/,
    );
    golden('check-pre.json.golden', r.out);
  });

  it('check --pre fails with a hint when the user may not create anything', async () => {
    const path = await powerlessKubeconfig();
    const r = await runCli(['check', '--pre', '--kubeconfig', path]);
    expect(r.exitCode).toBe(1);
    expect(r.out).toMatch(/× can create non-namespaced resources\n {4}not allowed to create namespaces/);
    expect(r.out).toMatch(/see https:\/\/linkerd\.io\/2\/checks\/#pre-k8s for hints/);
    expect(r.out).toMatch(/Status check results are ×/);
  });

  it('check fails before install: CRDs and linkerd-config missing, with hints', async () => {
    const r = await runCli(['check', '--wait', '0s', ...kube()]);
    expect(r.exitCode).toBe(1);
    expect(r.out).toMatch(
      /× control plane CustomResourceDefinitions exist\n {4}missing servers\.policy\.linkerd\.io/,
    );
    expect(r.out).toMatch(/tsmesh install --crds \| kubectl apply --server-side -f -/);
    expect(r.out).toMatch(/× 'linkerd-config' config map exists/);
    // Linkerd's gateway-api-crd category: the HTTPRoute CRD is required, and the hint says how.
    expect(r.out).toMatch(
      /gateway-api-crd\n-+\n× Gateway API CRDs are installed\n {4}the Gateway API is not installed: no CustomResourceDefinition httproutes\.gateway\.networking\.k8s\.io; install the Gateway API first: kubectl apply --server-side -f https:\/\/github\.com\/kubernetes-sigs\/gateway-api\/releases\/download\/v[\d.]+\/standard-install\.yaml .*tsmesh install --crds --set installGatewayAPI=true/,
    );
    expect(r.out).toMatch(/see https:\/\/linkerd\.io\/2\/checks\/#gwapi for hints/);
  });

  it('install --crds looks for the Gateway API as linkerd install --crds does: refuses without it, never takes over external CRDs', async () => {
    const gatewayNames = (out: string) =>
      parseAllDocuments(out)
        .map((d) => (d.toJS() as KubeObject).metadata?.name ?? '')
        .filter((n) => n.endsWith('.gateway.networking.k8s.io'));
    const absent = await runCli(['install', '--crds', ...kube()]);
    expect(absent.exitCode).toBe(1);
    expect(absent.out).toBe('');
    expect(absent.err).toMatch(
      /the Gateway API CRDs must be installed before tsmesh: the cluster has no httproutes\.gateway\.networking\.k8s\.io \(install the Gateway API first: kubectl apply --server-side -f https:.*standard-install\.yaml/,
    );
    const installing = await runCli(['install', '--crds', '--set', 'installGatewayAPI=true', ...kube()]);
    expect(installing.exitCode, installing.err).toBe(0);
    expect(gatewayNames(installing.out)).toEqual([
      'httproutes.gateway.networking.k8s.io',
      'grpcroutes.gateway.networking.k8s.io',
    ]);

    // The Gateway API from elsewhere (no created-by annotation): left alone, never taken over.
    const external = crdManifests({ gatewayApi: true }).filter(
      (c) => c.spec.group === 'gateway.networking.k8s.io',
    );
    const a = apply(external.map((c) => `---\n${stringify(c)}`).join(''), '--server-side');
    expect(a.status, a.err).toBe(0);
    const takeover = await runCli(['install', '--crds', '--gateway-api', ...kube()]);
    expect(takeover.exitCode).toBe(1);
    expect(takeover.err).toMatch(/were not installed by tsmesh; installing them would take them over/);
    const plain = await runCli(['install', '--crds', ...kube()]);
    expect(plain.exitCode, plain.err).toBe(0);
    expect(gatewayNames(plain.out)).toEqual([]);
    // check --pre sees them now (it warned on the fresh server: see its golden).
    const pre = await runCli(['check', '--pre', ...kube()]);
    expect(pre.exitCode, pre.out).toBe(0);
    expect(pre.out).toMatch(/√ Gateway API is installed\n√ Gateway API CRDs serve v1\n/);
    // upgrade --crds decides as install --crds: the same CRDs, the external Gateway API left alone.
    const upgrade = await runCli(['upgrade', '--crds', ...kube()]);
    expect(upgrade.exitCode, upgrade.err).toBe(0);
    expect(upgrade.out).toBe(plain.out);
    const upgradeTakeover = await runCli(['upgrade', '--crds', '--gateway-api', ...kube()]);
    expect(upgradeTakeover.exitCode).toBe(1);
    expect(upgradeTakeover.err).toMatch(/were not installed by tsmesh; installing them would take them over/);
  });

  it('install --crds | kubectl apply --server-side, install | kubectl apply --dry-run=server, then check passes', async () => {
    const crds = await runCli(['install', '--crds', ...kube()]);
    const a = apply(crds.out, '--server-side');
    expect(a.status, a.err).toBe(0);
    expect(a.out).toMatch(/servers\.policy\.linkerd\.io serverside-applied/);

    const install = await runCli(['install', ...FIXED_CERTS]);
    expect(install.exitCode).toBe(0);
    // The namespace first: a dry run creates nothing for the namespaced objects to go in.
    const ns = parseAllDocuments(install.out)[0]!.toString();
    expect(apply(ns).status).toBe(0);
    const dry = apply(install.out, '--dry-run=server');
    expect(dry.status, dry.err).toBe(0);
    expect(dry.out).toMatch(/deployment\.apps\/linkerd-destination created \(server dry run\)/);
    const ha = apply((await runCli(['install', '--ha', ...FIXED_CERTS])).out, '--dry-run=server');
    expect(ha.status, ha.err).toBe(0);
    expect(ha.out).toMatch(/poddisruptionbudget\.policy\/linkerd-identity created \(server dry run\)/);
    const real = apply(install.out);
    expect(real.status, real.err).toBe(0);

    // kube-controller-manager turns the Deployments into pods; play kubelet for them.
    let pods = 0;
    for (let i = 0; i < 60 && pods < 3; i++) {
      pods = (await client.list(CoreKinds.Pod, { namespace: 'linkerd' })).items.length;
      if (pods < 3) await new Promise((r) => setTimeout(r, 500));
    }
    expect(pods).toBe(3);
    await markPodsReady('linkerd');

    const check = await runCli(['check', '--wait', '10s', '-o', 'json', ...kube()]);
    const report = JSON.parse(check.out) as {
      success: boolean;
      categories: { checks: { result: string; description: string; error?: string }[] }[];
    };
    const failed = report.categories.flatMap((c) => c.checks).filter((c) => c.result === 'error');
    expect(failed).toEqual([]);
    expect(report.categories.flatMap((c) => c.checks)).toContainEqual(
      expect.objectContaining({ description: 'Gateway API CRDs are installed', result: 'success' }),
    );
    expect(report.success).toBe(true);
    expect(check.exitCode).toBe(0);
  });

  it('check --proxy: data-plane proxies ready, a stale proxy version is a warning (‼), an unready proxy an error', async () => {
    await client.create(CoreKinds.Namespace, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'apps' },
    });
    const pod = (name: string, version: string) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name,
        namespace: 'apps',
        labels: { 'linkerd.io/control-plane-ns': 'linkerd' },
        annotations: { 'linkerd.io/proxy-version': version },
      },
      spec: {
        containers: [
          { name: 'app', image: 'app' },
          { name: 'linkerd-proxy', image: 'ghcr.io/tsmesh/proxy:test-version' },
        ],
      },
    });
    await client.create(CoreKinds.Pod, pod('web', 'test-version'));
    await markPodsReady('apps');
    const ok = await runCli(['check', '--proxy', '-n', 'apps', '--wait', '5s', ...kube()]);
    expect(ok.out).toMatch(
      /linkerd-data-plane\n-+\n√ data plane namespace exists\n√ data plane proxies are ready\n√ data plane is up-to-date/,
    );
    expect(ok.exitCode).toBe(0);

    await client.create(CoreKinds.Pod, pod('old', 'stable-2.14.0'));
    await markPodsReady('apps');
    const stale = await runCli(['check', '--proxy', '-n', 'apps', '--wait', '5s', ...kube()]);
    expect(stale.out).toMatch(
      /‼ data plane is up-to-date\n {4}apps\/old \(stable-2\.14\.0\) not running test-version/,
    );
    expect(stale.exitCode).toBe(0);

    await client.create(CoreKinds.Pod, pod('pending', 'test-version'));
    const progress = await runCli(['check', '--proxy', '-n', 'apps', '--wait', '2s', ...kube()]);
    expect(progress.exitCode).toBe(1);
    expect(progress.out).toMatch(
      /× data plane proxies are ready\n {4}pod\/pending \(apps\): linkerd-proxy is not ready/,
    );
    expect(progress.err).toMatch(/\.\.\. data plane proxies are ready: .* \(retry 1, waiting\)/);
  });

  it('check: anchors and issuer expiring within 60 days are ‼, an issuer from other anchors is ×', async () => {
    const original = {
      roots: await client.get<KubeObject & { data: Record<string, string> }>(CoreKinds.ConfigMap, {
        namespace: 'linkerd',
        name: 'linkerd-identity-trust-roots',
      }),
      issuer: await client.get<KubeObject & { data: Record<string, string> }>(CoreKinds.Secret, {
        namespace: 'linkerd',
        name: 'linkerd-identity-issuer',
      }),
    };
    const put = async (
      anchorsPem: string,
      issuer: { certificate: { pem: string }; privateKey: Parameters<typeof formatPrivateKey>[0] },
    ) => {
      await client.replace(CoreKinds.ConfigMap, { ...original.roots, data: { 'ca-bundle.crt': anchorsPem } });
      await client.replace(CoreKinds.Secret, {
        ...original.issuer,
        data: {
          'crt.pem': Buffer.from(issuer.certificate.pem).toString('base64'),
          'key.pem': Buffer.from(formatPrivateKey(issuer.privateKey)).toString('base64'),
        },
      });
      original.roots = await client.get(CoreKinds.ConfigMap, {
        namespace: 'linkerd',
        name: 'linkerd-identity-trust-roots',
      });
      original.issuer = await client.get(CoreKinds.Secret, {
        namespace: 'linkerd',
        name: 'linkerd-identity-issuer',
      });
    };
    const DAY = 86_400_000;
    const root = createRootCertificate({ lifetimeMs: 30 * DAY });
    await put(root.certificate.pem, createIntermediateCertificate({ issuer: root, lifetimeMs: 20 * DAY }));
    const soon = await runCli(['check', '--wait', '5s', ...kube()]);
    expect(soon.out).toMatch(
      /‼ trust anchors are valid for at least 60 days\n {4}CN=root\.linkerd\.cluster\.local expires in 29 days/,
    );
    expect(soon.out).toMatch(
      /‼ issuer cert is valid for at least 60 days\n {4}CN=identity\.linkerd\.cluster\.local expires in 19 days/,
    );
    expect(soon.out).toMatch(/√ issuer cert is issued by the trust anchor/);
    expect(soon.exitCode).toBe(0);

    const other = createRootCertificate();
    await put(root.certificate.pem, createIntermediateCertificate({ issuer: other }));
    const wrong = await runCli(['check', '--wait', '5s', ...kube()]);
    expect(wrong.out).toMatch(
      /× issuer cert is issued by the trust anchor\n {4}.+\n {4}see https:\/\/linkerd\.io\/2\/checks\/#l5d-identity-issuer-cert-issued-by-trust-anchor for hints/,
    );
    expect(wrong.exitCode).toBe(1);
  });

  it('upgrade reads the installed values and certificates from the cluster', async () => {
    // Back to the fixture certificates (the test before replaced them).
    expect(apply((await runCli(['install', ...FIXED_CERTS])).out).status).toBe(0);
    const install = await runCli(['install', ...FIXED_CERTS]);
    const upgrade = await runCli(['upgrade', '--set', 'linkerdVersion=test-version', ...kube()]);
    expect(upgrade.err).toBe('');
    expect(upgrade.out).toBe(install.out);
  });

  it('uninstall | kubectl delete removes what install created', async () => {
    const u = await runCli(['uninstall']);
    const r = spawnSync(kubectl, [...kube(), 'delete', '--ignore-not-found', '--wait=false', '-f', '-'], {
      input: u.out,
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /mutatingwebhookconfiguration.admissionregistration.k8s.io "linkerd-proxy-injector-webhook-config" deleted/,
    );
  });
});
