import { randomBytes } from 'node:crypto';
import { ApiextensionsV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { expect } from 'vitest';
import { statusOf } from '../../src/index.js';
import { kubeTest } from '../../src/vitest.js';

kubeTest(
  'a CRD with an OpenAPI schema rejects an invalid object and accepts a valid one',
  async ({ kubeConfig, namespace }) => {
    const ext = kubeConfig.makeApiClient(ApiextensionsV1Api);
    const custom = kubeConfig.makeApiClient(CustomObjectsApi);
    const group = 'testenv.tsmesh.io';
    // CRDs are cluster-scoped: a unique plural keeps concurrent runs apart.
    const plural = `widgets${randomBytes(3).toString('hex')}`;
    const name = `${plural}.${group}`;
    await ext.createCustomResourceDefinition({
      body: {
        metadata: { name },
        spec: {
          group,
          scope: 'Namespaced',
          names: {
            plural,
            singular: plural.slice(0, -1),
            kind: `Widget${plural.slice(7)}`,
            listKind: `Widget${plural.slice(7)}List`,
          },
          versions: [
            {
              name: 'v1',
              served: true,
              storage: true,
              schema: {
                openAPIV3Schema: {
                  type: 'object',
                  properties: {
                    spec: {
                      type: 'object',
                      required: ['port'],
                      properties: {
                        port: { type: 'integer', minimum: 1, maximum: 65535 },
                        protocol: { type: 'string', _enum: ['HTTP/1', 'HTTP/2', 'opaque'] },
                      },
                    },
                  },
                },
              },
            },
          ],
        },
      },
    });
    try {
      // Wait for Established before creating custom objects.
      await expect
        .poll(
          async () => {
            const crd = await ext.readCustomResourceDefinition({ name });
            return crd.status?.conditions?.find((c) => c.type === 'Established')?.status;
          },
          { timeout: 20_000, interval: 100 },
        )
        .toBe('True');
      const kind = `Widget${plural.slice(7)}`;
      const create = (spec: Record<string, unknown>) =>
        custom.createNamespacedCustomObject({
          group,
          version: 'v1',
          namespace,
          plural,
          body: {
            apiVersion: `${group}/v1`,
            kind,
            metadata: { name: `w-${randomBytes(3).toString('hex')}` },
            spec,
          },
        });

      const rejected = await create({ port: 70000, protocol: 'SMTP' }).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(statusOf(rejected)).toBe(422);
      const body = String((rejected as { body?: unknown }).body);
      expect(body).toContain('spec.port');
      expect(body).toContain('spec.protocol');

      const missing = await create({ protocol: 'HTTP/2' }).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(statusOf(missing)).toBe(422);
      expect(String((missing as { body?: unknown }).body)).toContain('spec.port: Required value');

      const ok = (await create({ port: 8080, protocol: 'HTTP/2' })) as { spec: { port: number } };
      expect(ok.spec.port).toBe(8080);
    } finally {
      await ext.deleteCustomResourceDefinition({ name });
    }
  },
);
