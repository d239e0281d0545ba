import { CoreV1Api, KubeConfig, Watch, type V1ConfigMap } from '@kubernetes/client-node';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createTestNamespace, startTestEnv, statusOf, type TestEnv } from '../../src/index.js';

// This test restarts the apiserver, so it runs its own environment (without a controller
// manager) instead of the run's shared one. It doubles as the programmatic-API test.
let env: TestEnv;
beforeAll(async () => {
  env = await startTestEnv({ controllers: false });
  console.log(`startTestEnv (no controller manager): ${JSON.stringify(roundTimings(env.timings))}`);
});
afterAll(async () => {
  const pids = env ? Object.values(env.pids) : [];
  await env?.stop();
  // stop() ends exactly the processes it started.
  for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
});

interface WatchStats {
  connections: number;
  gone410: number;
  relists: number;
}

/**
 * The list-then-watch loop every controller needs: watch from the last seen resourceVersion; on a
 * dropped connection reconnect from there; on 410 Gone (the restarted apiserver's watch cache no
 * longer reaches back that far) relist and watch from the list's resourceVersion.
 */
function watchConfigMaps(kc: KubeConfig, namespace: string, signal: AbortSignal) {
  const core = kc.makeApiClient(CoreV1Api);
  const watch = new Watch(kc);
  const state = new Map<string, string>();
  const stats: WatchStats = { connections: 0, gone410: 0, relists: 0 };
  let resourceVersion = '';

  const relist = async (): Promise<void> => {
    const list = await core.listNamespacedConfigMap({ namespace });
    state.clear();
    for (const cm of list.items) state.set(cm.metadata!.name!, cm.data?.value ?? '');
    resourceVersion = list.metadata!.resourceVersion!;
    stats.relists++;
  };

  const loop = async (): Promise<void> => {
    let needList = true;
    while (!signal.aborted) {
      try {
        if (needList) await relist();
        needList = false;
        const ended = await new Promise<{ gone: boolean }>((resolve, reject) => {
          let gone = false;
          void watch
            .watch(
              `/api/v1/namespaces/${namespace}/configmaps`,
              { resourceVersion, allowWatchBookmarks: true },
              (type: string, obj: V1ConfigMap & { code?: number }) => {
                if (type === 'ERROR') {
                  if (obj.code === 410) gone = true;
                  return;
                }
                resourceVersion = obj.metadata?.resourceVersion ?? resourceVersion;
                if (type === 'ADDED' || type === 'MODIFIED')
                  state.set(obj.metadata!.name!, obj.data?.value ?? '');
                if (type === 'DELETED') state.delete(obj.metadata!.name!);
              },
              (err: unknown) => (err && !gone ? reject(err) : resolve({ gone })),
            )
            .then((controller) => {
              stats.connections++;
              signal.addEventListener('abort', () => controller.abort(), { once: true });
            });
        });
        if (ended.gone) {
          stats.gone410++;
          needList = true;
        }
      } catch (err) {
        if (statusOf(err) === 410 || (err as { statusCode?: number }).statusCode === 410) {
          stats.gone410++;
          needList = true;
        }
        // Connection refused while the apiserver is down: back off and retry.
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  };
  const done = loop();
  return { state, stats, done };
}

test('a watch survives an apiserver restart (reconnect, relist after 410 Gone)', async () => {
  const kc = new KubeConfig();
  kc.loadFromFile(env.kubeconfigPath);
  const core = kc.makeApiClient(CoreV1Api);
  const ns = await createTestNamespace(kc, { prefix: 'watch', waitForDefaultServiceAccount: false });
  const namespace = ns.name;
  const aborter = new AbortController();
  const watcher = watchConfigMaps(kc, namespace, aborter.signal);
  try {
    await core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: 'a' }, data: { value: '1' } },
    });
    await expect.poll(() => watcher.state.get('a'), { timeout: 10_000, interval: 50 }).toBe('1');
    const connectionsBefore = watcher.stats.connections;

    const { readyMs } = await env.restartApiserver();
    console.log(`restartApiserver: ready in ${Math.round(readyMs)} ms`);

    await core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: 'b' }, data: { value: '2' } },
    });
    await core.replaceNamespacedConfigMap({
      name: 'a',
      namespace,
      body: { metadata: { name: 'a' }, data: { value: '3' } },
    });
    await expect
      .poll(() => Object.fromEntries(watcher.state), { timeout: 20_000, interval: 50 })
      .toEqual({ a: '3', b: '2' });
    await core.deleteNamespacedConfigMap({ name: 'b', namespace });
    await expect.poll(() => watcher.state.has('b'), { timeout: 10_000, interval: 50 }).toBe(false);

    expect(watcher.stats.connections).toBeGreaterThan(connectionsBefore);
    console.log(`watch across restart: ${JSON.stringify(watcher.stats)}`);
  } finally {
    aborter.abort();
    await watcher.done;
    await ns.delete();
  }
});

function roundTimings(t: TestEnv['timings']): Record<string, number> {
  return Object.fromEntries(Object.entries(t).map(([k, v]) => [k, Math.round(v)]));
}
