// The injector webhook behind a real kube-apiserver: a MutatingWebhookConfiguration (the one
// injectorWebhookConfiguration() writes, pointed at https://127.0.0.1:PORT/) sends pod creations to
// startInjectorService; a pod in an annotated namespace comes back injected, a pod that says
// disabled does not, a pod whose proxy cannot be rendered is refused with the reason, and a
// malformed review gets 400 while the service keeps serving.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { kubeTest } from '@tsmesh/testenv/vitest';
import { CoreKinds, createKubeApiClient, type KubeObject } from '@tsmesh/kube';
import {
  injectorWebhookConfiguration,
  startInjectorService,
  uninject,
  type Workload,
} from '../../src/index.js';
import { testConfig } from '../test-config.js';
import { createServingCertificate, postToWebhook } from './webhook-fixtures.js';

type Pod = KubeObject & {
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: { containers: { name: string }[]; initContainers?: { name: string; restartPolicy?: string }[] };
};

kubeTest('pods in an annotated namespace are injected by the webhook', async ({ kubeConfig, namespace }) => {
  const dir = await mkdtemp(join(tmpdir(), 'injector-it-'));
  const client = createKubeApiClient(kubeConfig);
  const { serving, caPem } = await createServingCertificate(dir);
  const service = await startInjectorService({
    config: testConfig(),
    certFile: serving.certPath,
    keyFile: serving.keyPath,
    port: 0,
    adminPort: 0,
    client,
  });
  const name = `tsmesh-injector-it-${namespace}`;
  const configuration = injectorWebhookConfiguration({
    caBundlePem: caPem.toString(),
    url: `https://127.0.0.1:${service.webhook.port}/`,
    name,
    timeoutSeconds: 5,
  });
  // Only this test's namespace goes to this webhook (other tests share the apiserver).
  configuration.webhooks[0]!.namespaceSelector.matchExpressions.push({
    key: 'kubernetes.io/metadata.name',
    operator: 'In',
    values: [namespace],
  });
  try {
    // The namespace turns injection on and sets a config annotation for its pods.
    const ns = await client.get(CoreKinds.Namespace, { name: namespace });
    await client.replace(CoreKinds.Namespace, {
      ...ns,
      metadata: {
        ...ns.metadata,
        annotations: {
          ...(ns.metadata as { annotations?: Record<string, string> }).annotations,
          'linkerd.io/inject': 'enabled',
          'config.linkerd.io/proxy-log-level': 'debug',
        },
      },
    });
    await client.create(CoreKinds.MutatingWebhookConfiguration, configuration);
    const pod = (podName: string, annotations?: Record<string, string>): Pod => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: podName, namespace, ...(annotations ? { annotations } : {}) },
      spec: {
        containers: [
          { name: 'app', image: 'example.invalid/app:1', ports: [{ containerPort: 8080 }] } as never,
        ],
      },
    });
    // Webhook configurations take effect asynchronously: wait until a dry-run create is injected.
    await expect
      .poll(
        async () =>
          (await client.create<Pod>(CoreKinds.Pod, pod('probe'), { dryRun: true })).spec.initContainers?.map(
            (c) => c.name,
          ),
        { timeout: 20_000, interval: 200 },
      )
      .toEqual(['linkerd-init', 'linkerd-proxy']);

    const web = await client.create<Pod>(CoreKinds.Pod, pod('web'));
    expect(web.spec.initContainers?.map((c) => [c.name, c.restartPolicy])).toEqual([
      ['linkerd-init', undefined],
      ['linkerd-proxy', 'Always'],
    ]);
    expect(web.metadata.labels).toMatchObject({
      'linkerd.io/control-plane-ns': 'linkerd',
      'linkerd.io/workload-ns': namespace,
    });
    expect(web.metadata.annotations).toMatchObject({
      'linkerd.io/inject': 'enabled',
      'config.linkerd.io/proxy-log-level': 'debug',
      'linkerd.io/proxy-version': 'test-version',
    });
    const proxy = web.spec.initContainers![1] as unknown as { env: { name: string; value?: string }[] };
    expect(proxy.env.find((e) => e.name === 'LINKERD2_PROXY_LOG')?.value).toBe(
      'debug,[{headers}]=off,[{request}]=off',
    );
    expect(proxy.env.find((e) => e.name === 'LINKERD2_PROXY_INBOUND_PORTS')?.value).toBe('8080');
    // The stored pod is the injected one, and uninject() takes our additions back out.
    const stored = await client.get<Pod>(CoreKinds.Pod, { namespace, name: 'web' });
    expect(stored.spec.initContainers?.map((c) => c.name)).toEqual(['linkerd-init', 'linkerd-proxy']);
    const back = uninject(stored as unknown as Workload).object as unknown as Pod;
    expect(back.spec.initContainers).toBeUndefined();
    expect(back.spec.containers.map((c) => c.name)).toEqual(['app']);

    const off = await client.create<Pod>(
      CoreKinds.Pod,
      pod('opted-out', { 'linkerd.io/inject': 'disabled' }),
    );
    expect(off.spec.initContainers).toBeUndefined();
    expect(off.spec.containers.map((c) => c.name)).toEqual(['app']);
    expect(off.metadata.labels?.['linkerd.io/control-plane-ns']).toBeUndefined();

    // A Deployment's pods, created by the ReplicaSet controller, are injected and labelled with
    // the Deployment (found through the ReplicaSet's name and pod-template-hash).
    await client.create(CoreKinds.Deployment, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'voting', namespace },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'voting' } },
        template: {
          metadata: { labels: { app: 'voting' } },
          spec: { containers: [{ name: 'voting', image: 'example.invalid/voting:1' }] },
        },
      },
    });
    await expect
      .poll(
        async () =>
          (await client.list<Pod>(CoreKinds.Pod, { namespace, labelSelector: 'app=voting' })).items.map(
            (p) => [
              p.metadata.labels?.['linkerd.io/proxy-deployment'],
              p.spec.initContainers?.map((c) => c.name).join(','),
            ],
          ),
        { timeout: 30_000, interval: 250 },
      )
      .toEqual([['voting', 'linkerd-init,linkerd-proxy']]);

    // A malformed review is refused with 400 and the service keeps answering.
    const bad = await postToWebhook(service.webhook.port, '{"kind": "AdmissionReview", ', caPem);
    expect(bad.status).toBe(400);
    const again = await client.create<Pod>(CoreKinds.Pod, pod('after-bad-request'), { dryRun: true });
    expect(again.spec.initContainers?.map((c) => c.name)).toEqual(['linkerd-init', 'linkerd-proxy']);

    // A proxy that cannot be rendered (native sidecar with a preStop wait) refuses the pod with the
    // reason, as Linkerd's injector does; a regular sidecar gets the preStop sleep.
    const wait = { 'config.alpha.linkerd.io/proxy-wait-before-exit-seconds': '15' };
    await expect(
      client.create<Pod>(CoreKinds.Pod, pod('native-wait', wait), { dryRun: true }),
    ).rejects.toThrow(
      /denied the request: linkerd-proxy-injector: config\.alpha\.linkerd\.io\/proxy-wait-before-exit-seconds=15 cannot be used with the native sidecar proxy/,
    );
    const regular = await client.create<Pod>(
      CoreKinds.Pod,
      pod('regular-wait', { ...wait, 'config.linkerd.io/proxy-enable-native-sidecar': 'false' }),
      { dryRun: true },
    );
    const regularProxy = regular.spec.containers.find((c) => c.name === 'linkerd-proxy') as unknown as {
      lifecycle?: { preStop?: unknown };
    };
    expect(regularProxy.lifecycle?.preStop).toEqual({ exec: { command: ['/bin/sleep', '15'] } });

    const metrics = await service.registry.metrics();
    expect(metrics).toMatch(
      /proxy_inject_admission_requests_total\{owner_kind="pod",namespace="[^"]+",annotation_at="namespace"\} \d+/,
    );
    expect(metrics).toMatch(
      /proxy_inject_admission_responses_total\{[^}]*skip="true",skip_reason="injection_disable_annotation_present"/,
    );
    // Events on the owner (the pod itself here) are recorded asynchronously.
    await expect
      .poll(
        async () =>
          (
            await client.list(
              {
                group: '',
                version: 'v1',
                kind: 'Event',
                plural: 'events',
                namespaced: true,
                servedVersions: ['v1'],
              },
              { namespace },
            )
          ).items.map((e) => (e as { reason?: string }).reason),
        { timeout: 10_000 },
      )
      .toEqual(expect.arrayContaining(['Injected', 'InjectionSkipped']));

    // failurePolicy Ignore: with the injector down, pods are still created (unmeshed).
    await service.close();
    const whileDown = await client.create<Pod>(CoreKinds.Pod, pod('while-down'));
    expect(whileDown.spec.initContainers).toBeUndefined();
    expect(whileDown.spec.containers.map((c) => c.name)).toEqual(['app']);
  } finally {
    await client.delete(CoreKinds.MutatingWebhookConfiguration, { name }).catch(() => undefined);
    await service.close();
    client.close();
    await rm(dir, { recursive: true, force: true });
  }
});
