// `tsmesh multicluster …` in-process: manifests without a cluster, and against a real
// kube-apiserver linked to itself (the Link's credentials point back at the same server):
// link → apply → check passes; a trust-anchor mismatch makes check fail (exit 1) with a hint;
// remote discovery through the service mirror and the destination service; gateways probes;
// unlink lists what to delete; uninstall refuses while a Link exists.
import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { credentials } from '@grpc/grpc-js';
import { createRootCertificate, DestinationClient, MulticlusterKey } from '@tsmesh/core';
import { secretRemoteClusterDiscovery, startDestinationService } from '@tsmesh/destination';
import {
  CoreKinds,
  createKubeApiClient,
  createKubeObjectSource,
  crdManifests,
  installCrds,
  type KubeApiClient,
} from '@tsmesh/kube';
import { ServiceMirror } from '@tsmesh/multicluster';
import { ensureBinaries, ensureTestNode, markPodRunning, startTestEnv, type TestEnv } from '@tsmesh/testenv';
import { runProgram } from './cli.test-support.js';
import { parseSelectorFlag, registerMulticlusterCommand } from './multicluster.js';

/** Only the multicluster commands, so the test sees their own options. */
const run = (args: string[]) =>
  runProgram(args, {
    program: (io) => {
      const program = new Command('tsmesh')
        .exitOverride()
        .configureOutput({ writeOut: io.out, writeErr: io.err });
      registerMulticlusterCommand(program, io.out, io.err);
      return program;
    },
  });

type Obj = { kind: string; metadata: { name: string; namespace?: string }; [k: string]: unknown };
const docs = (text: string) =>
  parseAllDocuments(text)
    .map((d) => d.toJS() as Obj)
    .filter((d) => d !== null);

describe('tsmesh multicluster (no cluster)', () => {
  it('install prints the extension with the given trust domain', async () => {
    const r = await run(['multicluster', 'install', '--identity-trust-domain', 'west.example']);
    expect(r.exitCode).toBe(0);
    const objects = docs(r.out);
    expect(objects.map((o) => o.kind)).toContain('CustomResourceDefinition');
    const gateway = objects.find((o) => o.kind === 'Service')!;
    expect(gateway.metadata).toMatchObject({ name: 'linkerd-gateway', namespace: 'linkerd-multicluster' });
    expect(
      (gateway.metadata as unknown as { annotations: Record<string, string> }).annotations[
        'mirror.linkerd.io/gateway-identity'
      ],
    ).toBe('linkerd-gateway.linkerd-multicluster.serviceaccount.identity.linkerd.west.example');
    expect(
      docs((await run(['mc', 'install', '--ignore-cluster', '--no-gateway'])).out).map(
        (o) => o.metadata.name,
      ),
    ).not.toContain('linkerd-gateway');
  });

  it('allow prints a remote-access account', async () => {
    const r = await run(['multicluster', 'allow', '--service-account-name', 'from-west']);
    expect(docs(r.out).map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'ClusterRole/from-west',
      'ServiceAccount/from-west',
      'Secret/from-west-token',
      'ClusterRoleBinding/from-west',
    ]);
  });

  it('says what is wrong with bad flags', async () => {
    const link = await run(['multicluster', 'link']);
    expect(link.exitCode).toBe(1);
    expect(link.err).toContain('multicluster link: --cluster-name: the target cluster needs a name');
    const type = await run([
      'multicluster',
      'install',
      '--ignore-cluster',
      '--gateway-service-type',
      'Magic',
    ]);
    expect(type.err).toContain('--gateway-service-type: unknown service type "Magic"');
    expect(() => parseSelectorFlag('a', '--selector')).toThrow(/not key=value/);
    expect(parseSelectorFlag('a=b, c=d', '--selector').matchLabels).toEqual({ a: 'b', c: 'd' });
  });
});

describe('tsmesh multicluster (one real apiserver linked to itself)', () => {
  let env: TestEnv;
  let kubectl: string;
  let client: KubeApiClient;
  let gateway: Server;
  let probePort: number;
  const kube = () => ['--kubeconfig', env.kubeconfigPath];

  beforeAll(async () => {
    kubectl = (await ensureBinaries({ components: ['kubectl'] })).kubectl;
    env = await startTestEnv();
    const kc = new KubeConfig();
    kc.loadFromFile(env.kubeconfigPath);
    client = createKubeApiClient(kc);
    gateway = createServer((req, res) => res.writeHead(req.url === '/ready' ? 200 : 503).end());
    await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', resolve));
    probePort = (gateway.address() as AddressInfo).port;
  }, 45 * 60_000);

  afterAll(async () => {
    client?.close();
    gateway?.closeAllConnections();
    await new Promise((resolve) => (gateway ? gateway.close(resolve) : resolve(undefined)));
    await env?.stop();
  });

  function kubectlRun(verb: 'apply' | 'delete', manifest: string) {
    const args =
      verb === 'apply' ? ['apply', '--server-side', '-f', '-'] : ['delete', '--ignore-not-found', '-f', '-'];
    const r = spawnSync(kubectl, ['--kubeconfig', env.kubeconfigPath, ...args], {
      input: manifest,
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(r.stderr.replace(/Warning:.*\n/g, '')).toBe('');
    expect(r.status).toBe(0);
  }

  /** What `tsmesh install` leaves for multicluster to read: linkerd-config and the trust roots. */
  async function controlPlane(namespace: string, pem: string, trustDomain = 'cluster.local') {
    const values = {
      clusterDomain: 'cluster.local',
      identityTrustDomain: trustDomain,
      identityTrustAnchorsPEM: pem,
    };
    const configMap = (name: string, data: Record<string, string>) =>
      client.apply(CoreKinds.ConfigMap, { metadata: { name, namespace }, data }, { force: true });
    await configMap('linkerd-config', { values: stringify(values) });
    await configMap('linkerd-identity-trust-roots', { 'ca-bundle.crt': pem });
  }

  async function remoteDiscovery() {
    await client.create(CoreKinds.Namespace, { metadata: { name: 'shop' } });
    await eventuallyTrue(
      'default ServiceAccount',
      async () => (await client.list(CoreKinds.ServiceAccount, { namespace: 'shop' })).items.length > 0,
    );
    await client.create(CoreKinds.Service, {
      metadata: {
        name: 'api',
        namespace: 'shop',
        labels: { [MulticlusterKey.Exported]: 'remote-discovery' },
      },
      spec: { selector: { app: 'api' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
    });
    await client.create(CoreKinds.Pod, {
      metadata: {
        name: 'api-0',
        namespace: 'shop',
        labels: { app: 'api', 'linkerd.io/control-plane-ns': 'linkerd' },
      },
      spec: {
        nodeName: await ensureTestNode(env.kubeconfigPath),
        serviceAccountName: 'default',
        containers: [
          { name: 'app', image: 'example.invalid/api', ports: [{ name: 'http', containerPort: 8080 }] },
        ],
      },
    });
    await markPodRunning(env.kubeconfigPath, { namespace: 'shop', name: 'api-0', podIP: '198.18.3.1' });

    const stop = new AbortController();
    const mirror = new ServiceMirror({
      local: client,
      linkNamespace: 'linkerd-multicluster',
      linkName: 'other',
    });
    const mirroring = mirror.run(stop.signal);
    const source = createKubeObjectSource({ client });
    const secrets = createKubeObjectSource({ client, namespace: 'linkerd' });
    const destination = await startDestinationService({
      source,
      port: 0,
      remoteDiscovery: secretRemoteClusterDiscovery({ source: secrets, namespace: 'linkerd' }),
    });
    const dst = new DestinationClient(destination.address, credentials.createInsecure());
    try {
      await eventuallyTrue('mirror api-other', async () =>
        (await client.list(CoreKinds.Service, { namespace: 'shop' })).items.some(
          (s) => s.metadata?.name === 'api-other',
        ),
      );
      const identity = await new Promise<string>((resolve, reject) => {
        const call = dst.get({ scheme: 'k8s', path: 'api-other.shop.svc.cluster.local:80' });
        const timer = setTimeout(
          () => (call.cancel(), reject(new Error('no remote endpoint within 30 s'))),
          30_000,
        );
        call.on(
          'data',
          (update: { add?: { addrs?: { tlsIdentity?: { dnsLikeIdentity?: { name?: string } } }[] } }) => {
            const name = update.add?.addrs?.[0]?.tlsIdentity?.dnsLikeIdentity?.name;
            if (name) {
              clearTimeout(timer);
              call.cancel();
              resolve(name);
            }
          },
        );
        call.on('error', () => {});
      });
      expect(identity).toBe('default.shop.serviceaccount.identity.linkerd.other.example');
    } finally {
      dst.close();
      await destination.close();
      stop.abort();
      await mirroring;
      await source.close();
      await secrets.close();
    }
  }

  async function eventuallyTrue(what: string, probe: () => Promise<boolean>, timeoutMs = 30_000) {
    const deadline = Date.now() + timeoutMs;
    while (!(await probe())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  it('link, check (and a trust-anchor mismatch), gateways, unlink, uninstall', async () => {
    await client.create(CoreKinds.Namespace, { metadata: { name: 'linkerd' } });
    await controlPlane('linkerd', createRootCertificate().certificate.pem);
    await installCrds(client, crdManifests(), { timeoutMs: 60_000 });

    const install = await run([
      'multicluster',
      'install',
      ...kube(),
      '--gateway-probe-port',
      String(probePort),
    ]);
    expect(install.err).toBe('');
    kubectlRun('apply', install.out);

    const link = await run([
      'multicluster',
      'link',
      ...kube(),
      '--cluster-name',
      'self',
      '--gateway-addresses',
      '127.0.0.1',
    ]);
    expect(link.err).toBe('');
    kubectlRun('apply', link.out);

    const check = await run(['multicluster', 'check', ...kube()]);
    expect(check.out).toContain('√ remote cluster access credentials are valid');
    expect(check.out).toContain('√ clusters share trust anchors');
    expect(check.out).toContain('√ all gateways are reachable');
    expect(check.out).toContain('‼ service mirror controllers are running'); // no kubelet here
    expect(check.exitCode).toBe(0);

    const gateways = await run(['multicluster', 'gateways', ...kube()]);
    expect(gateways.out).toMatch(/^CLUSTER\s+ALIVE\s+NUM_SVC\s+LATENCY\nself\s+True\s+0\s+\d+ms\n$/);

    // A second link to a control plane with another trust anchor (its own namespace here).
    await client.create(CoreKinds.Namespace, { metadata: { name: 'other-mesh' } });
    await controlPlane(
      'other-mesh',
      createRootCertificate({ commonName: 'root.other.example' }).certificate.pem,
      'other.example',
    );
    const mismatched = await run([
      'multicluster',
      'link',
      ...kube(),
      '--cluster-name',
      'other',
      '--linkerd-namespace',
      'other-mesh',
      '--no-gateway',
    ]);
    expect(mismatched.err).toBe('');
    kubectlRun('apply', mismatched.out);
    const failing = await run(['multicluster', 'check', ...kube()]);
    expect(failing.exitCode).toBe(1);
    expect(failing.out).toContain('× clusters share trust anchors');
    expect(failing.out).toMatch(/other: trust anchors differ: cluster other has CN=root\.other\.example/);
    expect(failing.out).toContain('install both control planes with the same trust anchor');

    // Remote discovery end to end: the service mirror (link "other") mirrors an exported Service
    // without endpoints; the destination service reads the credentials Secret `link` put in its
    // namespace and answers with the linked cluster's pod, in that cluster's trust domain.
    await remoteDiscovery();

    const unlink = await run(['multicluster', 'unlink', ...kube(), '--cluster-name', 'other']);
    expect(docs(unlink.out).map((o) => `${o.kind}/${o.metadata.name}`)).toContain('Link/other');
    kubectlRun('delete', unlink.out);
    expect((await run(['multicluster', 'check', ...kube()])).exitCode).toBe(0);

    const refused = await run(['multicluster', 'uninstall', ...kube()]);
    expect(refused.exitCode).toBe(1);
    expect(refused.err).toContain('there are Links: linkerd-multicluster/self');
    kubectlRun('delete', (await run(['multicluster', 'unlink', ...kube(), '--cluster-name', 'self'])).out);
    const uninstall = await run(['multicluster', 'uninstall', ...kube()]);
    expect(uninstall.exitCode).toBe(0);
    expect(docs(uninstall.out).at(-1)).toMatchObject({
      kind: 'Namespace',
      metadata: { name: 'linkerd-multicluster' },
    });
  });
});
