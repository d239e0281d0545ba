// Watch one named object (a Secret or ConfigMap) through the Kubernetes API: get it, then watch
// from its resourceVersion; on any end or error, get again and re-watch after a short delay. The
// callback receives the latest object (or undefined when it does not exist). A latest-value watch,
// not an event log: only the newest state matters to the issuer store.
import { Watch, type KubeConfig } from '@kubernetes/client-node';

export interface KubeObjectWatchOptions<T> {
  readonly kubeConfig: KubeConfig;
  /** e.g. /api/v1/namespaces/linkerd/secrets */
  readonly collectionPath: string;
  readonly name: string;
  /** List the collection with a field selector (CoreV1Api.listNamespacedSecret and friends). */
  readonly list: (fieldSelector: string) => Promise<{ items: T[]; metadata?: { resourceVersion?: string } }>;
  readonly signal: AbortSignal;
  readonly onObject: (object: T | undefined) => void;
  readonly onError: (err: unknown) => void;
  readonly retryDelayMs?: number;
}

interface KubeObject {
  metadata?: { resourceVersion?: string; name?: string };
}

export async function watchKubeObject<T extends KubeObject>(
  options: KubeObjectWatchOptions<T>,
): Promise<void> {
  const { kubeConfig, collectionPath, name, signal } = options;
  const watch = new Watch(kubeConfig);
  const retryDelayMs = options.retryDelayMs ?? 1000;
  let lastVersion: string | undefined;
  let first = true;
  const emit = (obj: T | undefined) => {
    const version = obj?.metadata?.resourceVersion ?? '(none)';
    if (version === lastVersion) return;
    lastVersion = version;
    options.onObject(obj);
  };

  const list = async (): Promise<string | undefined> => {
    const body = await options.list(`metadata.name=${name}`);
    emit(body.items[0]);
    return body.metadata?.resourceVersion;
  };

  const loop = async () => {
    while (!signal.aborted) {
      try {
        const resourceVersion = await list();
        if (first) {
          first = false;
          firstDone();
        }
        await new Promise<void>((resolve) => {
          let controller: AbortController | undefined;
          const onAbort = () => controller?.abort();
          signal.addEventListener('abort', onAbort, { once: true });
          watch
            .watch(
              collectionPath,
              { fieldSelector: `metadata.name=${name}`, resourceVersion, allowWatchBookmarks: true },
              (phase, obj: T) => {
                if (phase === 'ADDED' || phase === 'MODIFIED') emit(obj);
                else if (phase === 'DELETED') emit(undefined);
              },
              (err: unknown) => {
                signal.removeEventListener('abort', onAbort);
                if (err && !signal.aborted) options.onError(err);
                resolve();
              },
            )
            .then(
              (c) => {
                controller = c;
                if (signal.aborted) c.abort();
              },
              (err: unknown) => {
                signal.removeEventListener('abort', onAbort);
                if (!signal.aborted) options.onError(err);
                resolve();
              },
            );
        });
      } catch (err) {
        if (!signal.aborted) options.onError(err);
        if (first) {
          first = false;
          firstDone();
        }
      }
      if (!signal.aborted) await delay(retryDelayMs, signal);
    }
  };
  let firstDone!: () => void;
  const firstListed = new Promise<void>((resolve) => (firstDone = resolve));
  void loop();
  await firstListed;
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
