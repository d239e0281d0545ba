import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CoreKinds, MeshKinds, type KubeObject } from '../resources/index.js';
import type { ObjectSnapshot } from '../store/index.js';
import { createDirectoryObjectSource, type DirectoryObjectSource } from './directory-object-source.js';
import type { ManifestError } from './manifest-error.js';

let dir: string;
let source: DirectoryObjectSource | undefined;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kube-dir-source-'));
});

afterEach(async () => {
  await source?.close();
  source = undefined;
  await rm(dir, { recursive: true, force: true });
});

const server = (name: string, port: number, extra = '') => `apiVersion: policy.linkerd.io/v1beta3
kind: Server
metadata: {name: ${name}, namespace: shop}
spec: {podSelector: {}, port: ${port}${extra}}
`;

/** Next snapshot from `iterator` that satisfies `predicate` (fails after 5 s). */
async function until<T extends KubeObject>(
  iterator: AsyncIterator<ObjectSnapshot<T>>,
  predicate: (s: ObjectSnapshot<T>) => boolean,
): Promise<ObjectSnapshot<T>> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const next = await Promise.race([
      iterator.next(),
      new Promise<never>((_, reject) =>
        setTimeout(
          () => reject(new Error('timed out waiting for a snapshot')),
          Math.max(1, deadline - Date.now()),
        ),
      ),
    ]);
    if (next.done) throw new Error('iteration ended');
    if (predicate(next.value)) return next.value;
  }
}

describe('DirectoryObjectSource', () => {
  it('serves the objects of every file, by kind, and follows changes', async () => {
    await writeFile(join(dir, 'servers.yaml'), server('web', 80) + '---\n' + server('api', 81));
    await mkdir(join(dir, 'nested'));
    await writeFile(
      join(dir, 'nested', 'svc.json'),
      JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'shop' } }),
    );
    await writeFile(join(dir, 'notes.txt'), 'not a manifest');
    await writeFile(join(dir, '.hidden.yaml'), 'this: is ignored: entirely');
    const registry = new Registry();
    source = createDirectoryObjectSource({ dir, registry, debounceMs: 20 });
    const servers = await source.snapshot(MeshKinds.Server);
    expect(servers.synced).toBe(true);
    expect(servers.list().map((o) => o.metadata!.name)).toEqual(['api', 'web']);
    expect((await source.snapshot(CoreKinds.Service)).get('shop', 'web')).toBeDefined();

    const controller = new AbortController();
    const iterator = source.watch(MeshKinds.Server, { signal: controller.signal })[Symbol.asyncIterator]();
    await until(iterator, (s) => s.size === 2);
    await writeFile(join(dir, 'servers.yaml'), server('web', 8080));
    const changed = await until(iterator, (s) => s.size === 1);
    expect(changed.get('shop', 'web')!.spec).toMatchObject({ port: 8080 });
    await writeFile(join(dir, 'more.yml'), server('admin', 9990));
    await until(iterator, (s) => s.get('shop', 'admin') !== undefined);
    await unlink(join(dir, 'more.yml'));
    await until(iterator, (s) => s.get('shop', 'admin') === undefined);
    controller.abort();
    expect((await iterator.next()).done).toBe(true);
    const metrics = await registry.getMetricsAsJSON();
    expect(metrics.map((m) => m.name)).toEqual(
      expect.arrayContaining(['tsmesh_local_manifest_rescans_total', 'tsmesh_local_source_objects']),
    );
  });

  it('a bad document is reported (callback, metric, errors()) and skipped; the rest keeps serving', async () => {
    await writeFile(
      join(dir, 'a.yaml'),
      server('good', 80) + '---\n' + server('bad', 80, ', proxyProtocol: SMTP'),
    );
    const reported: ManifestError[] = [];
    const registry = new Registry();
    source = createDirectoryObjectSource({ dir, registry, onError: (e) => reported.push(e), debounceMs: 20 });
    const snap = await source.snapshot(MeshKinds.Server);
    expect(snap.list().map((o) => o.metadata!.name)).toEqual(['good']);
    expect(reported).toHaveLength(1);
    expect(reported[0]).toMatchObject({
      file: 'a.yaml',
      document: 2,
      line: 9,
      field: 'spec.proxyProtocol',
      reason: 'schema',
    });
    expect(source.errors()).toHaveLength(1);
    const counter = (await registry.getSingleMetric('tsmesh_local_manifest_errors_total')!.get()).values;
    expect(counter).toEqual([{ labels: { reason: 'schema' }, value: 1 }]);

    // A broken file (invalid YAML) does not disturb the other files; fixing it brings it back.
    const iterator = source.watch(MeshKinds.Server)[Symbol.asyncIterator]();
    await writeFile(join(dir, 'b.yaml'), 'apiVersion: [unclosed\n');
    await new Promise((r) => setTimeout(r, 300));
    await source.rescan();
    expect(reported.map((e) => [e.file, e.reason])).toContainEqual(['b.yaml', 'yaml_syntax']);
    expect((await source.snapshot(MeshKinds.Server)).size).toBe(1);
    await writeFile(join(dir, 'b.yaml'), server('fixed', 82));
    await until(iterator, (s) => s.get('shop', 'fixed') !== undefined);
    expect(source.errors().map((e) => e.file)).toEqual(['a.yaml']);
  });

  it('the first definition of a name wins; the duplicate is reported once', async () => {
    await writeFile(join(dir, '1.yaml'), server('web', 80));
    await writeFile(join(dir, '2.yaml'), server('web', 90));
    const reported: ManifestError[] = [];
    source = createDirectoryObjectSource({ dir, onError: (e) => reported.push(e) });
    const snap = await source.snapshot(MeshKinds.Server);
    expect(snap.get('shop', 'web')!.spec).toMatchObject({ port: 80 });
    await source.rescan();
    expect(reported.map((e) => [e.file, e.reason])).toEqual([['2.yaml', 'duplicate']]);
    expect(reported[0]!.message).toContain('already defined in 1.yaml, document 1');
  });

  it('a missing directory is a clear Config error', async () => {
    source = createDirectoryObjectSource({ dir: join(dir, 'nope') });
    await expect(source.start()).rejects.toMatchObject({ code: 'config', where: join(dir, 'nope') });
  });

  it('sees a file renamed over the old one even with the same size and an old mtime (editor saves, mv)', async () => {
    await writeFile(join(dir, 'a.yaml'), server('web', 80));
    source = createDirectoryObjectSource({ dir, debounceMs: 10_000 });
    expect((await source.snapshot(MeshKinds.Server)).get('shop', 'web')!.spec).toMatchObject({ port: 80 });
    // Same length, other content, given the old file's exact times (touch -r: nanoseconds, which
    // utimes from Node cannot set), then moved over it.
    await writeFile(join(dir, '.a.yaml.new'), server('web', 90));
    execFileSync('touch', ['-r', join(dir, 'a.yaml'), join(dir, '.a.yaml.new')]);
    const [old, replacement] = await Promise.all([stat(join(dir, 'a.yaml')), stat(join(dir, '.a.yaml.new'))]);
    expect([replacement.mtimeMs, replacement.size]).toEqual([old.mtimeMs, old.size]);
    await rename(join(dir, '.a.yaml.new'), join(dir, 'a.yaml'));
    await source.rescan();
    expect((await source.snapshot(MeshKinds.Server)).get('shop', 'web')!.spec).toMatchObject({ port: 90 });
  });

  it('polling picks up changes too', async () => {
    await writeFile(join(dir, 'a.yaml'), server('web', 80));
    source = createDirectoryObjectSource({ dir, pollIntervalMs: 50, debounceMs: 10_000 });
    const iterator = source.watch(MeshKinds.Server)[Symbol.asyncIterator]();
    await until(iterator, (s) => s.size === 1);
    await writeFile(join(dir, 'a.yaml'), server('web', 80) + '---\n' + server('two', 81));
    await until(iterator, (s) => s.size === 2);
  });
});

describe('DirectoryObjectSource object metadata', () => {
  it('creationTimestamp is stable across edits; resourceVersion changes only with the content', async () => {
    const d = await mkdtemp(join(tmpdir(), 'kube-dir-meta-'));
    const s = createDirectoryObjectSource({ dir: d });
    try {
      await writeFile(join(d, 'a.yaml'), server('web', 80) + '---\n' + server('api', 81));
      const first = await s.snapshot(MeshKinds.Server);
      const web1 = first.get('shop', 'web')!.metadata!;
      const api1 = first.get('shop', 'api')!.metadata!;
      expect(web1.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(web1.resourceVersion).toMatch(/^\d+$/);
      await writeFile(join(d, 'a.yaml'), server('web', 8080) + '---\n' + server('api', 81));
      await s.rescan();
      const second = await s.snapshot(MeshKinds.Server);
      const web2 = second.get('shop', 'web')!.metadata!;
      expect(web2.creationTimestamp).toBe(web1.creationTimestamp);
      expect(web2.resourceVersion).not.toBe(web1.resourceVersion);
      expect(second.get('shop', 'api')!.metadata!.resourceVersion).toBe(api1.resourceVersion);
      expect(Number(second.resourceVersion)).toBeGreaterThan(Number(first.resourceVersion));
    } finally {
      await s.close();
      await rm(d, { recursive: true, force: true });
    }
  });
});
