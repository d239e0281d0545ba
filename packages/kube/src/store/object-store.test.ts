import { describe, expect, it } from 'vitest';
import { CoreKinds } from '../resources/index.js';
import { diffSnapshots, ObjectStore } from './object-store.js';

const pod = (namespace: string, name: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { namespace, name },
  ...extra,
});

describe('ObjectStore', () => {
  it('indexes by namespace and name, lists in order and counts', () => {
    const store = new ObjectStore(CoreKinds.Pod);
    store.upsert(pod('b', 'two'));
    store.upsert(pod('a', 'zz'));
    store.upsert(pod('a', 'aa'));
    store.upsert(pod('a', 'aa', { spec: { x: 1 } }));
    store.publish();
    const snap = store.snapshot();
    expect(snap.size).toBe(3);
    expect(snap.list().map((p) => `${p.metadata!.namespace}/${p.metadata!.name}`)).toEqual([
      'a/aa',
      'a/zz',
      'b/two',
    ]);
    expect(snap.list('a')).toHaveLength(2);
    expect(snap.namespaces()).toEqual(['a', 'b']);
    expect(snap.get('a', 'aa')).toMatchObject({ spec: { x: 1 } });
    expect([...snap]).toHaveLength(3);
    expect(store.remove('b', 'two')).toBe(true);
    expect(store.remove('b', 'two')).toBe(false);
    expect(store.size).toBe(2);
  });

  it('snapshots are immutable and do not change with later writes until published', () => {
    const store = new ObjectStore(CoreKinds.Pod);
    store.upsert(pod('a', 'one'));
    store.publish();
    const before = store.snapshot();
    store.upsert(pod('a', 'two'));
    expect(store.snapshot()).toBe(before);
    store.publish();
    const after = store.snapshot();
    expect(before.size).toBe(1);
    expect(after.size).toBe(2);
    expect(after.version).toBe(before.version + 1);
    expect(Object.isFrozen(after.get('a', 'one'))).toBe(true);
    expect(() => {
      (after.get('a', 'one')!.metadata as { name: string }).name = 'x';
    }).toThrow(TypeError);
  });

  it('subscribers get the newest snapshot, coalesced', async () => {
    const store = new ObjectStore(CoreKinds.Pod);
    const controller = new AbortController();
    const iterator = store.subscribe(controller.signal)[Symbol.asyncIterator]();
    const first = iterator.next();
    store.replaceAll([pod('a', 'one')], '10');
    store.publish();
    const s1 = (await first).value!;
    expect(s1.synced).toBe(true);
    expect(s1.resourceVersion).toBe('10');
    for (let i = 0; i < 5; i++) {
      store.upsert(pod('a', `p${i}`));
      store.publish();
    }
    const s2 = (await iterator.next()).value!;
    expect(s2.size).toBe(6);
    controller.abort();
    expect((await iterator.next()).done).toBe(true);
  });
});

describe('diffSnapshots', () => {
  it('reports added, updated and removed objects', () => {
    const store = new ObjectStore(CoreKinds.Pod);
    store.upsert(pod('a', 'same', { metadata: { namespace: 'a', name: 'same', resourceVersion: '1' } }));
    store.upsert(
      pod('a', 'changed', { metadata: { namespace: 'a', name: 'changed', resourceVersion: '1' } }),
    );
    store.upsert(pod('a', 'gone'));
    store.publish();
    const before = store.snapshot();
    expect(diffSnapshots(undefined, before).added).toHaveLength(3);
    store.upsert(
      pod('a', 'changed', { metadata: { namespace: 'a', name: 'changed', resourceVersion: '2' } }),
    );
    store.remove('a', 'gone');
    store.upsert(pod('b', 'new'));
    // A relist brings equal objects as new copies: same resourceVersion means unchanged.
    store.upsert(pod('a', 'same', { metadata: { namespace: 'a', name: 'same', resourceVersion: '1' } }));
    store.publish();
    const diff = diffSnapshots(before, store.snapshot());
    expect(diff.added.map((p) => p.metadata!.name)).toEqual(['new']);
    expect(
      diff.updated.map((u) => [u.before.metadata!.resourceVersion, u.after.metadata!.resourceVersion]),
    ).toEqual([['1', '2']]);
    expect(diff.removed.map((p) => p.metadata!.name)).toEqual(['gone']);
  });
});
