// `tsmesh install` / `install --crds` / `uninstall` / `version` against golden files in
// test/golden/install (fixed anchors, issuer and webhook certificates from test/fixtures/install,
// so the output is deterministic). Regenerate with
// TSMESH_UPDATE_GOLDEN=1 pnpm exec vitest run --project cli install
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { createInjectorConfig, inject, injectorConfigFromLinkerdValues, uninject } from '@tsmesh/injector';
import { parseCertificates } from '@tsmesh/core';
import { FIXED_CERTS, runCli } from './install.test-support.js';
import { expectGolden } from './cli.test-support.js';

const fixtures = fileURLToPath(new URL('../../test/fixtures/install/', import.meta.url));
const goldenDir = new URL('../../test/golden/install/', import.meta.url);

const golden = (name: string, actual: string) => expectGolden(goldenDir, name, actual);

type Obj = { kind: string; metadata: { name: string; namespace?: string }; [k: string]: unknown };
const docs = (text: string) =>
  parseAllDocuments(text)
    .map((d) => d.toJS() as Obj)
    .filter((d) => d !== null);

describe('tsmesh install', () => {
  it('renders the control plane (golden)', async () => {
    const r = await runCli(['install', ...FIXED_CERTS]);
    expect(r.err).toBe('');
    expect(r.exitCode).toBe(0);
    golden('control-plane.golden', r.out);
  });

  it('renders the HA control plane (golden): 3 replicas, anti-affinity, PDBs', async () => {
    const r = await runCli(['install', '--ha', ...FIXED_CERTS]);
    expect(r.exitCode).toBe(0);
    golden('control-plane-ha.golden', r.out);
    const objects = docs(r.out);
    const deployments = objects.filter((o) => o.kind === 'Deployment');
    expect(deployments.map((d) => (d.spec as { replicas: number }).replicas)).toEqual([3, 3, 3]);
    expect(objects.filter((o) => o.kind === 'PodDisruptionBudget').map((o) => o.metadata.name)).toEqual([
      'linkerd-identity',
      'linkerd-destination',
      'linkerd-proxy-injector',
    ]);
  });

  it('renders the CRDs (golden)', async () => {
    const r = await runCli(['install', '--crds', '--ignore-cluster']);
    expect(r.exitCode).toBe(0);
    golden('crds.golden', r.out);
    expect(docs(r.out).every((o) => o.kind === 'CustomResourceDefinition')).toBe(true);
  });

  it('--crds looks at the cluster unless --ignore-cluster, and says how when it cannot', async () => {
    const r = await runCli(['install', '--crds', '--kubeconfig', `${fixtures}no-such-kubeconfig`]);
    expect(r.exitCode).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toMatch(/^install: .*cannot load the kubeconfig/);
    const gateway = await runCli(['install', '--crds', '--ignore-cluster', '--gateway-api']);
    expect(gateway.exitCode, gateway.err).toBe(0);
    const crds = docs(gateway.out).filter((o) => o.metadata.name.endsWith('.gateway.networking.k8s.io'));
    expect(crds.map((o) => o.metadata.name)).toEqual([
      'httproutes.gateway.networking.k8s.io',
      'grpcroutes.gateway.networking.k8s.io',
    ]);
    // Marked as tsmesh's, so a later install --crds keeps managing them (as Linkerd's created-by).
    for (const crd of crds)
      expect((crd.metadata as { annotations?: Record<string, string> }).annotations).toMatchObject({
        'linkerd.io/created-by': 'tsmesh/cli <VERSION>',
      });
    const bad = await runCli(['install', '--crds', '--ignore-cluster', '--set', 'installGatewayAPI=yes']);
    expect(bad.exitCode).toBe(1);
    expect(bad.err).toMatch(/installGatewayAPI is string, expected true or false/);
  });

  it('has the objects, names and ports of Linkerd', async () => {
    const objects = docs((await runCli(['install', ...FIXED_CERTS])).out);
    const names = (kind: string) => objects.filter((o) => o.kind === kind).map((o) => o.metadata.name);
    expect(names('Namespace')).toEqual(['linkerd']);
    expect(names('Deployment')).toEqual([
      'linkerd-identity',
      'linkerd-destination',
      'linkerd-proxy-injector',
    ]);
    expect(names('Service').sort()).toEqual(
      [
        'linkerd-dst',
        'linkerd-dst-headless',
        'linkerd-identity',
        'linkerd-identity-headless',
        'linkerd-policy',
        'linkerd-policy-validator',
        'linkerd-proxy-injector',
        'linkerd-sp-validator',
      ].sort(),
    );
    expect(names('ConfigMap')).toEqual(['linkerd-config', 'linkerd-identity-trust-roots']);
    expect(names('Secret')).toContain('linkerd-identity-issuer');
    expect(names('MutatingWebhookConfiguration')).toEqual(['linkerd-proxy-injector-webhook-config']);
    expect(names('ValidatingWebhookConfiguration')).toEqual([
      'linkerd-sp-validator-webhook-config',
      'linkerd-policy-validator-webhook-config',
    ]);
    const dst = objects.find((o) => o.metadata.name === 'linkerd-destination' && o.kind === 'Deployment')!;
    const spec = (
      dst.spec as {
        template: { spec: { containers: { name: string }[]; initContainers?: { name: string }[] } };
      }
    ).template.spec;
    const containers = [...(spec.initContainers ?? []), ...spec.containers].map((c) => c.name);
    expect(containers).toEqual(
      expect.arrayContaining(['destination', 'sp-validator', 'policy', 'linkerd-proxy', 'linkerd-init']),
    );
    // Every controller container is Pod Security "restricted" shaped.
    for (const c of spec.containers as { name: string; securityContext: Record<string, unknown> }[]) {
      if (c.name === 'linkerd-proxy') continue;
      expect(c.securityContext).toMatchObject({
        allowPrivilegeEscalation: false,
        runAsNonRoot: true,
        capabilities: { drop: ['ALL'] },
      });
    }
  });

  it('meshes its Deployments with the same inject() the webhook runs (re-injecting changes nothing)', async () => {
    const objects = docs((await runCli(['install', ...FIXED_CERTS])).out);
    const values = docs((await runCli(['install', ...FIXED_CERTS])).out).find(
      (o) => o.metadata.name === 'linkerd-config',
    )!;
    expect(values).toBeDefined();
    const config = createInjectorConfig({ trustAnchorsPem: readFileSync(`${fixtures}ca.crt`, 'utf8') });
    for (const d of objects.filter((o) => o.kind === 'Deployment')) {
      const again = inject(d as never, config, undefined, { requireAnnotation: false });
      expect(again.report.entries[0]?.status).toBe('skipped');
    }
  });

  it('meshes its pods exactly as the injector configured from linkerd-config would (uninject, inject again)', async () => {
    const objects = docs((await runCli(['install', ...FIXED_CERTS])).out);
    const cm = objects.find((o) => o.metadata.name === 'linkerd-config') as unknown as {
      data: { values: string };
    };
    const input = injectorConfigFromLinkerdValues(parseYaml(cm.data.values), {
      controlPlaneNamespace: 'linkerd',
    });
    const config = createInjectorConfig({
      ...input,
      createdBy: 'tsmesh/cli test-version',
      proxy: { ...input.proxy, loadTrustBundleFromConfigMap: true },
    });
    for (const d of objects.filter((o) => o.kind === 'Deployment')) {
      const bare = uninject(d as never).object;
      expect(JSON.stringify(bare)).not.toContain('"name":"linkerd-proxy"');
      expect(inject(bare, config, undefined, { requireAnnotation: false }).object).toEqual(d);
    }
  });

  it('generates trust anchors, an issuer chaining to them and webhook certificates when none are given', async () => {
    const r = await runCli(['install']);
    expect(r.err).toBe('');
    expect(r.exitCode).toBe(0);
    const objects = docs(r.out);
    const roots = objects.find((o) => o.metadata.name === 'linkerd-identity-trust-roots') as unknown as {
      data: Record<string, string>;
    };
    const anchors = parseCertificates(roots.data['ca-bundle.crt']!);
    expect(anchors[0]!.subjectCommonName).toBe('root.linkerd.cluster.local');
    const issuer = objects.find((o) => o.metadata.name === 'linkerd-identity-issuer') as unknown as {
      data: Record<string, string>;
    };
    const crt = parseCertificates(Buffer.from(issuer.data['crt.pem']!, 'base64').toString())[0]!;
    expect(crt.subjectCommonName).toBe('identity.linkerd.cluster.local');
    expect(crt.issuer).toBe(anchors[0]!.subject);
    const mwc = objects.find((o) => o.kind === 'MutatingWebhookConfiguration') as unknown as {
      webhooks: { clientConfig: { caBundle: string } }[];
    };
    expect(Buffer.from(mwc.webhooks[0]!.clientConfig.caBundle, 'base64').toString()).toMatch(
      /BEGIN CERTIFICATE/,
    );
  });

  it('takes --set, --controller-namespace and --cluster-domain', async () => {
    const r = await runCli([
      'install',
      ...FIXED_CERTS,
      '--set',
      'controllerReplicas=2',
      '--set',
      'identity.image.name=registry.example/identity',
      '--controller-namespace',
      'mesh',
      '--cluster-domain',
      'example.org',
    ]);
    expect(r.exitCode).toBe(0);
    const objects = docs(r.out);
    expect(objects[0]!.metadata.name).toBe('mesh');
    const id = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'linkerd-identity')!;
    expect(JSON.stringify(id)).toContain('registry.example/identity:test-version');
    expect(JSON.stringify(id)).toContain('--trust-domain=example.org');
    expect((id.spec as { replicas: number }).replicas).toBe(2);
  });

  it("policyController.additionalArgs (Linkerd's value) adds flags to the policy container only", async () => {
    type Container = { name: string; args?: string[] };
    const containersOf = (out: string) => {
      const dst = docs(out).find(
        (o) => o.kind === 'Deployment' && o.metadata.name === 'linkerd-destination',
      )!;
      const spec = (dst.spec as { template: { spec: { containers: Container[] } } }).template.spec;
      return spec.containers;
    };
    const flag = '--allow-l5d-request-headers';
    const plain = containersOf((await runCli(['install', ...FIXED_CERTS])).out);
    expect(JSON.stringify(plain)).not.toContain(flag);
    // As Linkerd's docs write it (one string), and as a Helm list.
    for (const set of [
      `policyController.additionalArgs=${flag}`,
      `policyController.additionalArgs={${flag}}`,
    ]) {
      const r = await runCli(['install', ...FIXED_CERTS, '--set', set]);
      expect(r.exitCode, r.err).toBe(0);
      const containers = containersOf(r.out);
      const policy = containers.find((c) => c.name === 'policy')!;
      expect(policy.args?.at(-1)).toBe(flag);
      expect(policy.args?.filter((a) => a === flag)).toHaveLength(1);
      for (const c of containers.filter((c) => c.name !== 'policy'))
        expect(JSON.stringify(c)).not.toContain(flag);
    }
    const bad = await runCli(['install', '--set', 'policyController.additionalArgs=allow']);
    expect(bad.exitCode).toBe(1);
    expect(bad.err).toMatch(/policyController\.additionalArgs: "allow" is not a flag/);
    const notText = await runCli(['install', '--set', 'policyController.additionalArgs={1}']);
    expect(notText.err).toMatch(/policyController\.additionalArgs\[0\] is integer, expected string/);
  });

  it("identity and destination reach the Kubernetes API around their proxy (proxyInit.kubeAPIServerPorts, as Linkerd's chart)", async () => {
    type Init = { name: string; args: string[] };
    const skipped = (out: string, deployment: string) => {
      const d = docs(out).find((o) => o.kind === 'Deployment' && o.metadata.name === deployment)!;
      const init = (d.spec as { template: { spec: { initContainers: Init[] } } }).template.spec
        .initContainers;
      const args = init.find((c) => c.name === 'linkerd-init')!.args;
      return args[args.indexOf('--outbound-ports-to-ignore') + 1];
    };
    const plain = (await runCli(['install', ...FIXED_CERTS])).out;
    expect(skipped(plain, 'linkerd-identity')).toBe('443,6443');
    expect(skipped(plain, 'linkerd-destination')).toBe('443,6443');
    expect(skipped(plain, 'linkerd-proxy-injector')).toBe('4567,4568');
    // Linkerd's proxyInit values reach linkerd-init, one port given as a number too.
    const r = await runCli([
      'install',
      ...FIXED_CERTS,
      '--set',
      'proxyInit.kubeAPIServerPorts=6443',
      '--set',
      'proxyInit.ignoreOutboundPorts=25',
    ]);
    expect(r.exitCode, r.err).toBe(0);
    expect(skipped(r.out, 'linkerd-identity')).toBe('6443');
    expect(skipped(r.out, 'linkerd-destination')).toBe('6443');
    expect(skipped(r.out, 'linkerd-proxy-injector')).toBe('25');
    const bad = await runCli(['install', '--set', 'proxyInit.kubeAPIServerPorts=true']);
    expect(bad.exitCode).toBe(1);
    expect(bad.err).toMatch(/proxyInit\.kubeAPIServerPorts is boolean, expected string/);
  });

  it('rejects bad values with what, where and how to fix', async () => {
    const bad = await runCli(['install', '--set', 'controllerReplicas=many']);
    expect(bad.exitCode).toBe(1);
    expect(bad.err).toMatch(/controllerReplicas is string, expected integer/);
    const unknown = await runCli(['install', '--set', 'nope=1']);
    expect(unknown.err).toMatch(/nope is not a known value/);
    const wait = await runCli(['install', ...FIXED_CERTS, '--set', 'proxy.waitBeforeExitSeconds=10']);
    expect(wait.exitCode).toBe(1);
    expect(wait.err).toMatch(/proxy\.nativeSidecar and waitBeforeExitSeconds cannot be used simultaneously/);
    const half = await runCli(['install', '--identity-issuer-certificate-file', `${fixtures}issuer.crt`]);
    expect(half.err).toMatch(/go together/);
    const wrongAnchors = await runCli([
      'install',
      '--identity-trust-anchors-file',
      `${fixtures}../inject/trust-anchors.pem`,
      '--identity-issuer-certificate-file',
      `${fixtures}issuer.crt`,
      '--identity-issuer-key-file',
      `${fixtures}issuer.key`,
    ]);
    expect(wrongAnchors.exitCode).toBe(1);
  });
});

describe('tsmesh uninstall', () => {
  it('prints references to every object install creates, CRDs and webhook configurations included (golden)', async () => {
    const r = await runCli(['uninstall']);
    expect(r.err).toBe('');
    expect(r.exitCode).toBe(0);
    golden('uninstall.golden', r.out);
    const kinds = new Set(docs(r.out).map((o) => o.kind));
    for (const k of [
      'CustomResourceDefinition',
      'MutatingWebhookConfiguration',
      'ValidatingWebhookConfiguration',
      'ClusterRole',
      'Namespace',
    ])
      expect(kinds).toContain(k);
  });
});

describe('tsmesh version', () => {
  it('prints the client version, and the proxy version it installs', async () => {
    expect((await runCli(['version', '--client'])).out).toBe('Client version: <VERSION>');
    expect((await runCli(['version', '--proxy'])).out).toBe('Proxy version: <VERSION>');
  });
});
