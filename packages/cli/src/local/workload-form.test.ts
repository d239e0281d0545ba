import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreKinds, DirectoryObjectSource, type KubeObject, type ManifestError } from '@tsmesh/kube';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalObjectSource } from './local-object-source.js';
import { assignClusterIPs, expandWorkloads, validateWorkload, WorkloadKind } from './workload-form.js';

const workload = (spec: unknown, name = 'web'): KubeObject => ({
  apiVersion: 'local.tsmesh.io/v1alpha1',
  kind: 'Workload',
  metadata: { name, namespace: 'shop' },
  spec: spec as Record<string, unknown>,
});

const GOOD = `apiVersion: local.tsmesh.io/v1alpha1
kind: Workload
metadata:
  name: web
  namespace: shop
spec:
  serviceAccount: web-sa
  clusterIP: 198.18.10.1
  labels:
    version: v1
  ports:
    - name: http
      port: 80
      targetPort: 8080
    - name: echo
      port: 9000
      opaque: true
`;

const BAD = `apiVersion: v1
kind: ServiceAccount
metadata:
  name: other
  namespace: shop
---
apiVersion: local.tsmesh.io/v1alpha1
kind: Workload
metadata:
  name: broken
  namespace: shop
spec:
  ports:
    - port: 70000
`;

describe('the compact workload form', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('expands into a ServiceAccount, a Pod and a Service', () => {
    const { spec, problems } = validateWorkload(
      workload({
        serviceAccount: 'web-sa',
        clusterIP: '198.18.10.1',
        ports: [
          { name: 'http', port: 80, targetPort: 8080, appProtocol: 'http' },
          { name: 'echo', port: 9000, opaque: true },
        ],
      }),
    );
    expect(problems).toEqual([]);
    const { objects, errors } = expandWorkloads([workload(spec)], '/nonexistent');
    expect(errors).toEqual([]);
    expect(
      objects.map((o) => `${o.object.kind} ${o.object.metadata?.namespace}/${o.object.metadata?.name}`),
    ).toEqual(['ServiceAccount shop/web-sa', 'Pod shop/web', 'Service shop/web']);
    const service = objects[2]!.object as KubeObject & { spec: Record<string, unknown> };
    expect(service.spec).toMatchObject({
      selector: { app: 'web' },
      clusterIP: '198.18.10.1',
      ports: [
        { name: 'http', port: 80, targetPort: 8080, protocol: 'TCP', appProtocol: 'http' },
        { name: 'echo', port: 9000, targetPort: 9000, protocol: 'TCP' },
      ],
    });
    expect(service.metadata?.annotations).toEqual({ 'config.linkerd.io/opaque-ports': '9000' });
    const pod = objects[1]!.object as KubeObject & { spec: Record<string, unknown>; status: unknown };
    expect(pod.spec).toMatchObject({
      serviceAccountName: 'web-sa',
      containers: [
        {
          ports: [
            { containerPort: 8080, name: 'http' },
            { containerPort: 9000, name: 'echo' },
          ],
        },
      ],
    });
    // Declared, not running: no pod IP until `tsmesh run` registers an instance.
    expect(pod.status).toEqual({ phase: 'Pending' });
  });

  it('names each bad field', () => {
    const fields = (spec: unknown) => validateWorkload(workload(spec)).problems.map((p) => p.field);
    expect(fields(undefined)).toEqual(['spec']);
    expect(fields({})).toEqual(['spec.ports']);
    expect(fields({ ports: [{ port: 0 }] })).toEqual(['spec.ports[0].port']);
    expect(fields({ ports: [{ port: 80, nme: 'x' }] })).toEqual(['spec.ports[0].nme']);
    expect(fields({ ports: [{ port: 80 }, { port: 81 }] })).toEqual(['spec.ports']);
    expect(fields({ ports: [{ port: 80 }], clusterIP: 'nope' })).toEqual(['spec.clusterIP']);
    expect(fields({ ports: [{ port: 80 }], serviceAccount: 'Bad_Name' })).toEqual(['spec.serviceAccount']);
    expect(fields({ ports: [{ port: 80, opaque: 'yes' }] })).toEqual(['spec.ports[0].opaque']);
  });

  it('serves the expansion through the local source; a bad Workload is reported with file, document and field', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsmesh-workload-form-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'web.yaml'), GOOD);
    writeFileSync(join(dir, 'bad.yaml'), BAD);
    const reported: ManifestError[] = [];
    const directory = new DirectoryObjectSource({ dir, kinds: [WorkloadKind] });
    await directory.start();
    const source = new LocalObjectSource(directory, { onWorkloadError: (e) => reported.push(e) });
    try {
      const deadline = Date.now() + 10_000;
      let services = await source.snapshot(CoreKinds.Service);
      while (!services.get('shop', 'web') && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
        services = await source.snapshot(CoreKinds.Service);
      }
      expect(services.get('shop', 'web')?.metadata?.resourceVersion).toBeDefined();
      const accounts = await source.snapshot(CoreKinds.ServiceAccount);
      expect(accounts.get('shop', 'web-sa')).toBeDefined();
      // The file's own ServiceAccount is served beside the expansion.
      expect(accounts.get('shop', 'other')).toBeDefined();
      expect(source.workloadErrors()).toHaveLength(1);
      const error = source.workloadErrors()[0]!;
      expect([error.file, error.document, error.field]).toEqual(['bad.yaml', 2, 'spec.ports[0].port']);
      expect(error.describe()).toMatch(/Workload shop\/broken: invalid port/);
      expect(reported).toHaveLength(1);

      // Fixing the file applies live.
      writeFileSync(join(dir, 'bad.yaml'), BAD.replace('70000', '7000'));
      const fixedBy = Date.now() + 10_000;
      while (!(await source.snapshot(CoreKinds.Service)).get('shop', 'broken') && Date.now() < fixedBy)
        await new Promise((r) => setTimeout(r, 20));
      expect((await source.snapshot(CoreKinds.Service)).get('shop', 'broken')).toBeDefined();
      expect(source.workloadErrors()).toEqual([]);
    } finally {
      await source.close();
    }
  });

  it('gives Workloads without one a stable clusterIP from 198.18.128.0/17, distinct from the others', () => {
    const keys = Array.from({ length: 300 }, (_, i) => ({ key: `ns${i % 3}/w${i}` }));
    const first = assignClusterIPs([...keys, { key: 'shop/fixed', clusterIP: '198.18.10.1' }]);
    const ips = [...first.values()];
    expect(new Set(ips).size).toBe(301);
    expect(first.get('shop/fixed')).toBe('198.18.10.1');
    for (const ip of ips.filter((i) => i !== '198.18.10.1')) {
      const [a, b, c, d] = ip.split('.').map(Number) as [number, number, number, number];
      expect([a, b]).toEqual([198, 18]);
      expect(c).toBeGreaterThanOrEqual(128);
      expect(d === 0 || d === 255).toBe(false);
    }
    // The same set in another order gets the same addresses.
    expect(assignClusterIPs([...keys].reverse())).toEqual(assignClusterIPs(keys));
    const { objects } = expandWorkloads([workload({ ports: [{ port: 80 }] })], '/nonexistent');
    const service = objects.find((o) => o.object.kind === 'Service')!.object as KubeObject & {
      spec: { clusterIP: string };
    };
    expect(service.spec.clusterIP).toBe(assignClusterIPs([{ key: 'shop/web' }]).get('shop/web'));
  });
});
