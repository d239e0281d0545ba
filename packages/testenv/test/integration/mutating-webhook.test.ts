import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdmissionregistrationV1Api, CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { expect } from 'vitest';
import { createCertificateAuthority, issueCertificate } from '../../src/index.js';
import { kubeTest } from '../../src/vitest.js';

interface AdmissionReview {
  apiVersion: string;
  kind: string;
  request: { uid: string; operation: string; object: V1Pod; dryRun?: boolean };
}

kubeTest(
  'a mutating webhook on 127.0.0.1 (HTTPS + caBundle) is called on pod creation',
  async ({ kubeConfig, namespace }) => {
    // The webhook's own PKI: the apiserver trusts it through caBundle only.
    const dir = await mkdtemp(join(tmpdir(), 'testenv-webhook-'));
    const ca = await createCertificateAuthority({ dir, commonName: 'webhook-ca' });
    const serving = await issueCertificate({
      ca,
      dir,
      name: 'webhook',
      commonName: 'webhook',
      ipAddresses: ['127.0.0.1'],
      usage: 'server',
    });
    const reviews: AdmissionReview['request'][] = [];
    const server = createServer(
      { cert: await readFile(serving.certPath), key: await readFile(serving.keyPath) },
      (req, res) => {
        let body = '';
        req.setEncoding('utf8');
        req.on('data', (c: string) => (body += c));
        req.on('end', () => {
          const review = JSON.parse(body) as AdmissionReview;
          reviews.push(review.request);
          const hasAnnotations = review.request.object.metadata?.annotations !== undefined;
          const patch = hasAnnotations
            ? [{ op: 'add', path: '/metadata/annotations/testenv.tsmesh.io~1mutated', value: 'true' }]
            : [{ op: 'add', path: '/metadata/annotations', value: { 'testenv.tsmesh.io/mutated': 'true' } }];
          res.setHeader('content-type', 'application/json');
          res.end(
            JSON.stringify({
              apiVersion: 'admission.k8s.io/v1',
              kind: 'AdmissionReview',
              response: {
                uid: review.request.uid,
                allowed: true,
                patchType: 'JSONPatch',
                patch: Buffer.from(JSON.stringify(patch)).toString('base64'),
              },
            }),
          );
        });
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;

    const admission = kubeConfig.makeApiClient(AdmissionregistrationV1Api);
    const core = kubeConfig.makeApiClient(CoreV1Api);
    const webhookName = `testenv-${namespace}`;
    await admission.createMutatingWebhookConfiguration({
      body: {
        metadata: { name: webhookName },
        webhooks: [
          {
            name: 'mutate.testenv.tsmesh.io',
            // A URL, never clientConfig.service: the apiserver would dial a ClusterIP.
            clientConfig: {
              url: `https://127.0.0.1:${port}/mutate`,
              caBundle: (await readFile(ca.certPath)).toString('base64'),
            },
            rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }],
            // Only this test's namespace.
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } },
            failurePolicy: 'Fail',
            sideEffects: 'None',
            admissionReviewVersions: ['v1'],
            timeoutSeconds: 5,
          },
        ],
      },
    });
    try {
      const pod = (name: string): V1Pod => ({
        metadata: { name },
        spec: { containers: [{ name: 'app', image: 'registry.invalid/app:1' }] },
      });
      // The apiserver picks up new webhook configurations asynchronously: poll with dry-run creates.
      await expect
        .poll(
          async () =>
            (await core.createNamespacedPod({ namespace, body: pod('probe'), dryRun: 'All' })).metadata
              ?.annotations?.['testenv.tsmesh.io/mutated'],
          { timeout: 15_000, interval: 200 },
        )
        .toBe('true');
      expect(reviews.some((r) => r.dryRun === true)).toBe(true);

      const created = await core.createNamespacedPod({ namespace, body: pod('web') });
      expect(created.metadata?.annotations?.['testenv.tsmesh.io/mutated']).toBe('true');
      const stored = await core.readNamespacedPod({ name: 'web', namespace });
      expect(stored.metadata?.annotations?.['testenv.tsmesh.io/mutated']).toBe('true');
      const real = reviews.filter((r) => !r.dryRun && r.object.metadata?.name === 'web');
      expect(real).toHaveLength(1);
      expect(real[0]?.operation).toBe('CREATE');
      // The ServiceAccount admission plugin ran before the webhook (kube-controller-manager made the SA).
      expect(real[0]?.object.spec?.serviceAccountName).toBe('default');
    } finally {
      await admission.deleteMutatingWebhookConfiguration({ name: webhookName });
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    }
  },
);
