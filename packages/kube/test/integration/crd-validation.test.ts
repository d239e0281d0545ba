// Every CRD the mesh serves, applied to a real kube-apiserver: each kind accepts a valid object
// and rejects an invalid one with 422 naming the offending field.
import { beforeAll, describe, expect } from 'vitest';
import { kubeTest, testKubeConfig } from '@tsmesh/testenv/vitest';
import {
  createKubeApiClient,
  crdManifests,
  installCrds,
  KubeApiError,
  MeshKinds,
  type KubeApiClient,
  type KubeObject,
} from '../../src/index.js';
import { crdSamples, sampleObject } from './crd-samples.js';

let client: KubeApiClient;

beforeAll(async () => {
  client = createKubeApiClient(testKubeConfig());
  await installCrds(client, crdManifests({ gatewayApi: true }), { timeoutMs: 60_000 });
  return () => client.close();
});

async function rejection(promise: Promise<unknown>): Promise<KubeApiError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof KubeApiError)) throw new Error(`expected a KubeApiError, got ${String(err)}`);
  return err;
}

describe('CRDs against kube-apiserver', () => {
  for (const sample of crdSamples) {
    const label = `${sample.kind.kind}.${sample.kind.group}/${sample.kind.version}`;
    kubeTest(
      `${label}: valid accepted, invalid rejected with 422 naming ${sample.field}`,
      async ({ namespace }) => {
        const valid = sampleObject(sample, namespace, 'valid');
        const created = await client.create(sample.kind, valid);
        expect(created.metadata?.uid).toBeTruthy();
        const read = await client.get<KubeObject & { spec: unknown }>(sample.kind, {
          namespace,
          name: valid.metadata!.name!,
        });
        expect(read.spec).toMatchObject(sample.valid);

        const err = await rejection(client.create(sample.kind, sampleObject(sample, namespace, 'invalid')));
        expect(err.statusCode).toBe(422);
        expect(err.reason).toBe('Invalid');
        expect(err.causes.map((c) => c.field)).toContain(sample.field);
        expect(err.message).toContain(sample.field);
      },
    );
  }

  kubeTest(
    'schema defaults are applied (Server, policy HTTPRoute, Gateway HTTPRoute)',
    async ({ namespace }) => {
      const server = await client.create<KubeObject & { spec: Record<string, unknown> }>(MeshKinds.Server, {
        metadata: { name: 'defaults', namespace },
        spec: { podSelector: {}, port: 8080 },
      });
      expect(server.spec).toMatchObject({ proxyProtocol: 'unknown', accessPolicy: 'deny' });
      const route = await client.create<KubeObject & { spec: { parentRefs: unknown[]; rules?: unknown[] } }>(
        MeshKinds.PolicyHTTPRoute,
        {
          metadata: { name: 'defaults', namespace },
          spec: { parentRefs: [{ name: 'web' }] },
        },
      );
      expect(route.spec.parentRefs).toEqual([{ group: 'policy.linkerd.io', kind: 'Gateway', name: 'web' }]);
      expect(route.spec.rules).toEqual([{ matches: [{ path: { type: 'PathPrefix', value: '/' } }] }]);
      const gw = await client.create<KubeObject & { spec: { rules: { backendRefs: unknown[] }[] } }>(
        MeshKinds.GatewayHTTPRoute,
        {
          metadata: { name: 'defaults', namespace },
          spec: { rules: [{ backendRefs: [{ name: 'web', port: 80 }] }] },
        },
      );
      expect(gw.spec.rules[0]!.backendRefs[0]).toEqual({
        group: '',
        kind: 'Service',
        name: 'web',
        port: 80,
        weight: 1,
      });
    },
  );

  kubeTest('Server: exactly one of podSelector and externalWorkloadSelector', async ({ namespace }) => {
    const both = await rejection(
      client.create(MeshKinds.Server, {
        metadata: { name: 'both', namespace },
        spec: { podSelector: {}, externalWorkloadSelector: {}, port: 80 },
      }),
    );
    expect(both.statusCode).toBe(422);
    expect(both.message).toContain('oneOf');
  });

  kubeTest('older served versions still accept their objects', async ({ namespace }) => {
    const at = (kind: typeof MeshKinds.Server, version: string) => ({ ...kind, version });
    await client.create(at(MeshKinds.Server, 'v1beta1'), {
      metadata: { name: 'old', namespace },
      spec: { podSelector: { matchLabels: { app: 'web' } }, port: 80, proxyProtocol: 'opaque' },
    });
    await client.create(at(MeshKinds.ServiceProfile, 'v1alpha1'), {
      metadata: { name: `old.${namespace}.svc.cluster.local`, namespace },
      spec: { routes: [{ name: 'all', condition: { pathRegex: '.*' } }] },
    });
    await client.create(at(MeshKinds.ExternalWorkload, 'v1alpha1'), {
      metadata: { name: 'old', namespace },
      spec: { meshTls: { identity: 'spiffe://x/vm', serverName: 'vm' } },
    });
    await client.create(at(MeshKinds.GatewayGRPCRoute, 'v1alpha2'), {
      metadata: { name: 'old', namespace },
      spec: { rules: [{ matches: [{ method: { service: 'a.B' } }] }] },
    });
    // Stored at the storage version, served at every version (conversion strategy None).
    const read = await client.get<KubeObject>(MeshKinds.Server, { namespace, name: 'old' });
    expect(read.apiVersion).toBe('policy.linkerd.io/v1beta3');
  });
});
