// Watch one named object (a Secret or ConfigMap) with @tsmesh/kube's WatchCache — list, then watch
// from the list's resourceVersion, resume, relist on 410 Gone, back off on failures — narrowed to
// the one name by a field selector. The callback receives the latest object (or undefined when it
// does not exist), once per new resourceVersion: a latest-value watch, not an event log.
import {
  WatchCache,
  type BackoffOptions,
  type KubeApiClient,
  type KubeObject,
  type Logger,
  type ResourceKind,
} from '@tsmesh/kube';

export interface KubeObjectWatchOptions<T> {
  readonly client: KubeApiClient;
  readonly kind: ResourceKind;
  readonly namespace: string;
  readonly name: string;
  readonly signal: AbortSignal;
  readonly onObject: (object: T | undefined) => void;
  /** API failures are logged here (and retried with backoff). */
  readonly logger?: Logger;
  /** First delay after a failure. */
  readonly retryDelayMs?: number;
}

/** Starts the watch; resolves once the object has been read once (or the signal aborts). */
export async function watchKubeObject<T extends KubeObject>(
  options: KubeObjectWatchOptions<T>,
): Promise<void> {
  const { namespace, name, signal } = options;
  const backoff: BackoffOptions = { minMs: options.retryDelayMs ?? 1000, maxMs: 30_000, jitter: 0.5 };
  const cache = new WatchCache<T>({
    client: options.client,
    kind: options.kind,
    namespace,
    fieldSelector: `metadata.name=${name}`,
    backoff,
    logger: options.logger,
  });
  let lastVersion: string | undefined;
  const emit = () => {
    const object = cache.get(namespace, name);
    const version = object?.metadata?.resourceVersion ?? '(none)';
    if (version === lastVersion) return;
    lastVersion = version;
    options.onObject(object);
  };
  void cache.start(signal);
  try {
    await cache.waitForSync(signal);
  } catch (err) {
    if (signal.aborted) return;
    throw err;
  }
  emit();
  void (async () => {
    for await (const _snapshot of cache.subscribe(signal)) emit();
  })();
}
