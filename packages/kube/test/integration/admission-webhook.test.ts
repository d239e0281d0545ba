// The admission-webhook server behind a real kube-apiserver: a MutatingWebhookConfiguration that
// points at https://127.0.0.1:PORT (caBundle = our test CA) patches pods as they are created, and
// a ValidatingWebhookConfiguration's denial reaches the client with its message.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { createCertificateAuthority, issueCertificate } from '@tsmesh/testenv';
import { kubeTest } from '@tsmesh/testenv/vitest';
import {
  allow,
  CoreKinds,
  createAdmissionWebhookServer,
  createKubeApiClient,
  deny,
  jsonPointer,
  KubeApiError,
  type AdmissionRequest,
  type KubeObject,
} from '../../src/index.js';

type Pod = KubeObject & { metadata: { name: string; annotations?: Record<string, string> }; spec: unknown };

kubeTest(
  'a pod is patched by our mutating webhook and refused by our validating webhook',
  async ({ kubeConfig, namespace }) => {
    const dir = await mkdtemp(join(tmpdir(), 'kube-webhook-it-'));
    const client = createKubeApiClient(kubeConfig);
    const seen: AdmissionRequest[] = [];
    const ca = await createCertificateAuthority({ dir, commonName: 'webhook-ca' });
    const serving = await issueCertificate({
      ca,
      dir,
      name: 'serving',
      commonName: 'webhook',
      ipAddresses: ['127.0.0.1'],
      usage: 'server',
    });
    const caBundle = (await readFile(ca.certPath)).toString('base64');
    const server = createAdmissionWebhookServer({
      certFile: serving.certPath,
      keyFile: serving.keyPath,
      handlers: {
        '/mutate': (request) => {
          seen.push(request);
          const pod = request.object as Pod;
          const patch = pod.metadata.annotations
            ? [
                {
                  op: 'add' as const,
                  path: jsonPointer('metadata', 'annotations', 'tsmesh.io/injected'),
                  value: 'true',
                },
              ]
            : [
                {
                  op: 'add' as const,
                  path: '/metadata/annotations',
                  value: { 'tsmesh.io/injected': 'true' },
                },
              ];
          return allow(patch);
        },
        '/validate': (request) =>
          (request.object as Pod).metadata.name.startsWith('forbidden')
            ? deny('tsmesh says no to forbidden pods', 403)
            : allow(),
      },
    });
    const { port } = await server.start();
    const name = `tsmesh-kube-it-${namespace}`;
    const rules = [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }];
    const common = {
      admissionReviewVersions: ['v1'],
      sideEffects: 'None',
      failurePolicy: 'Fail',
      timeoutSeconds: 5,
      rules,
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } },
    };
    try {
      await client.create(CoreKinds.MutatingWebhookConfiguration, {
        metadata: { name },
        webhooks: [
          {
            name: 'mutate.tsmesh.io',
            clientConfig: { url: `https://127.0.0.1:${port}/mutate`, caBundle },
            ...common,
          },
        ],
      });
      await client.create(CoreKinds.ValidatingWebhookConfiguration, {
        metadata: { name },
        webhooks: [
          {
            name: 'validate.tsmesh.io',
            clientConfig: { url: `https://127.0.0.1:${port}/validate`, caBundle },
            ...common,
          },
        ],
      });
      const pod = (podName: string): Pod => ({
        metadata: { name: podName, namespace },
        spec: { containers: [{ name: 'app', image: 'example.invalid/app:1' }] },
      });
      // Webhook configurations take effect asynchronously: wait until a dry-run create is patched.
      await expect
        .poll(
          async () =>
            (await client.create<Pod>(CoreKinds.Pod, pod('probe'), { dryRun: true })).metadata.annotations?.[
              'tsmesh.io/injected'
            ],
          { timeout: 20_000, interval: 200 },
        )
        .toBe('true');
      expect(seen.some((r) => r.dryRun === true)).toBe(true);

      const created = await client.create<Pod>(CoreKinds.Pod, pod('web'));
      expect(created.metadata.annotations).toEqual({ 'tsmesh.io/injected': 'true' });
      const stored = await client.get<Pod>(CoreKinds.Pod, { namespace, name: 'web' });
      expect(stored.metadata.annotations?.['tsmesh.io/injected']).toBe('true');
      const request = seen.find((r) => (r.object as Pod).metadata.name === 'web' && !r.dryRun)!;
      expect(request).toMatchObject({ operation: 'CREATE', namespace, kind: { kind: 'Pod', version: 'v1' } });

      const refused = await client.create(CoreKinds.Pod, pod('forbidden-1')).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(KubeApiError);
      expect((refused as KubeApiError).statusCode).toBe(403);
      expect((refused as KubeApiError).message).toContain('tsmesh says no to forbidden pods');
    } finally {
      await client.delete(CoreKinds.MutatingWebhookConfiguration, { name }).catch(() => undefined);
      await client.delete(CoreKinds.ValidatingWebhookConfiguration, { name }).catch(() => undefined);
      await server.close();
      client.close();
      await rm(dir, { recursive: true, force: true });
    }
  },
);
