// The cluster as the destination service sees it: the latest snapshot of every kind it reads,
// followed through an ObjectSource (the Kubernetes API or a directory of YAML files), with
// indexes built lazily once per snapshot. Changes are announced, coalesced, to `onChange`
// listeners (the topics), which recompute what their streams show.
import { CoreKinds, diffSnapshots, kindKey, MeshKinds, silentLogger } from '@tsmesh/kube';
import type { KubeObject, Logger, ObjectSnapshot, ObjectSource, ResourceKind } from '@tsmesh/kube';
import {
  SERVICE_NAME_LABEL,
  type EndpointSliceObject,
  type NamespaceObject,
  type NodeObject,
  type PodObject,
  type ServerObject,
  type ServiceObject,
  type ServiceProfileObject,
} from '../domain/index.js';

export const WATCHED_KINDS = {
  Service: CoreKinds.Service,
  EndpointSlice: CoreKinds.EndpointSlice,
  Pod: CoreKinds.Pod,
  Namespace: CoreKinds.Namespace,
  Node: CoreKinds.Node,
  Server: MeshKinds.Server,
  ServiceProfile: MeshKinds.ServiceProfile,
} as const;
type KindName = keyof typeof WATCHED_KINDS;

export interface ClusterStateOptions {
  readonly source: ObjectSource;
  readonly logger?: Logger;
  /** Called when a kind's watch ended on its own and was started again. */
  readonly onWatchRestart?: (kind: string) => void;
  /** Called once per malformed object version (it is skipped). */
  readonly onMalformed?: (kind: string) => void;
  /** Delay before restarting a watch that ended. Default 500 ms. */
  readonly restartDelayMs?: number;
  /** Kinds to follow; default all of WATCHED_KINDS (a linked cluster's state needs fewer). */
  readonly kinds?: readonly (keyof typeof WATCHED_KINDS)[];
  /** Linked clusters for remote discovery (multicluster); none by default. */
  readonly remoteClusters?: RemoteClusterLookup;
}

/** A linked cluster as remote discovery reads it: its state and the trust domain of its pods. */
export interface RemoteClusterView {
  readonly state: ClusterState;
  readonly trustDomain: string;
}

/** The linked cluster with this name (the Link's targetClusterName), if it is known. */
export type RemoteClusterLookup = (cluster: string) => RemoteClusterView | undefined;

const EMPTY: readonly never[] = Object.freeze([]);

/** Namespaces whose objects changed since the last notification, or 'all'. */
export type ChangedNamespaces = ReadonlySet<string> | 'all';

export class ClusterState {
  readonly #o: ClusterStateOptions;
  readonly #logger: Logger;
  readonly #snapshots = new Map<KindName, ObjectSnapshot>();
  readonly #listeners = new Set<(changed: ChangedNamespaces) => void>();
  #changed: Set<string> | 'all' = new Set();
  readonly #indexes = new WeakMap<ObjectSnapshot, Map<string, unknown>>();
  readonly #reported = new WeakSet<object>();
  #scheduled = false;
  #running: Promise<void>[] = [];
  #synced = new Set<KindName>();
  #syncWaiters: (() => void)[] = [];

  readonly #kinds: readonly KindName[];

  constructor(options: ClusterStateOptions) {
    this.#o = options;
    this.#logger = options.logger ?? silentLogger;
    this.#kinds = options.kinds ?? (Object.keys(WATCHED_KINDS) as KindName[]);
  }

  /** Linked clusters (remote discovery), when the service was given them. */
  get remoteClusters(): RemoteClusterLookup | undefined {
    return this.#o.remoteClusters;
  }

  /** Starts following every kind; ends when `signal` aborts. */
  start(signal: AbortSignal): void {
    for (const name of this.#kinds) {
      this.#running.push(this.#follow(name, WATCHED_KINDS[name], signal));
    }
  }

  /** Resolves when every running follow loop has ended (after the signal aborted). */
  async stopped(): Promise<void> {
    await Promise.all(this.#running);
  }

  /** True once every kind has delivered its first snapshot. */
  get synced(): boolean {
    return this.#synced.size === this.#kinds.length;
  }

  /** Names of kinds not read yet. */
  unsynced(): string[] {
    return this.#kinds.filter((k) => !this.#synced.has(k));
  }

  /** Waits until every kind is read, or `timeoutMs` passes (then serves what it has). */
  async waitForSync(signal: AbortSignal, timeoutMs: number): Promise<boolean> {
    if (this.synced) return true;
    return new Promise<boolean>((resolve) => {
      const done = (value: boolean) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      };
      const onAbort = () => done(false);
      const timer = setTimeout(() => done(this.synced), timeoutMs);
      signal.addEventListener('abort', onAbort, { once: true });
      this.#syncWaiters.push(() => done(true));
    });
  }

  async #follow(name: KindName, kind: ResourceKind, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        for await (const snapshot of this.#o.source.watch(kind, { signal })) {
          this.#noteChanges(name, this.#snapshots.get(name), snapshot);
          this.#snapshots.set(name, snapshot);
          if (!this.#synced.has(name)) {
            this.#synced.add(name);
            if (this.synced) for (const wake of this.#syncWaiters.splice(0)) wake();
          }
          this.#schedule();
        }
      } catch (err) {
        if (signal.aborted) return;
        this.#logger.warn({ kind: kindKey(kind), error: String(err) }, 'watch failed; restarting');
      }
      if (signal.aborted) return;
      this.#o.onWatchRestart?.(kindKey(kind));
      await new Promise((resolve) => setTimeout(resolve, this.#o.restartDelayMs ?? 500).unref?.());
    }
  }

  /**
   * Which namespaces a new snapshot touches. Nodes (zones of every pod), ServiceProfiles (a
   * client namespace's profile overrides the service's) and first snapshots touch everything.
   */
  #noteChanges(name: KindName, before: ObjectSnapshot | undefined, after: ObjectSnapshot): void {
    if (this.#changed === 'all') return;
    if (!before || name === 'Node' || name === 'ServiceProfile') {
      this.#changed = 'all';
      return;
    }
    const diff = diffSnapshots(before, after);
    for (const object of [...diff.added, ...diff.removed, ...diff.updated.map((u) => u.after)]) {
      const ns = name === 'Namespace' ? object.metadata?.name : object.metadata?.namespace;
      this.#changed.add(ns ?? '');
    }
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      const changed = this.#changed;
      this.#changed = new Set();
      for (const listener of [...this.#listeners]) {
        try {
          listener(changed);
        } catch (err) {
          this.#logger.error({ error: String(err) }, 'change listener failed');
        }
      }
    });
  }

  /**
   * Calls `listener` (coalesced, asynchronously) after changes with the namespaces they touched;
   * returns the unsubscribe.
   */
  onChange(listener: (changed: ChangedNamespaces) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Logs a malformed object once per object version and counts it. */
  reportMalformed(kind: string, object: KubeObject, reason: string): void {
    if (this.#reported.has(object)) return;
    this.#reported.add(object);
    this.#o.onMalformed?.(kind);
    this.#logger.warn(
      { kind, namespace: object.metadata?.namespace, name: object.metadata?.name, reason },
      'skipping malformed object',
    );
  }

  #snapshot<T extends KubeObject>(name: KindName): ObjectSnapshot<T> | undefined {
    return this.#snapshots.get(name) as ObjectSnapshot<T> | undefined;
  }

  /** A value derived from a snapshot, computed once per snapshot. */
  #index<T>(name: KindName, key: string, build: (snapshot: ObjectSnapshot) => T): T | undefined {
    const snapshot = this.#snapshots.get(name);
    if (!snapshot) return undefined;
    let byKey = this.#indexes.get(snapshot);
    if (!byKey) this.#indexes.set(snapshot, (byKey = new Map()));
    if (!byKey.has(key)) byKey.set(key, build(snapshot));
    return byKey.get(key) as T;
  }

  service(namespace: string, name: string): ServiceObject | undefined {
    return this.#snapshot<ServiceObject>('Service')?.get(namespace, name);
  }

  pod(namespace: string, name: string): PodObject | undefined {
    return this.#snapshot<PodObject>('Pod')?.get(namespace, name);
  }

  namespace(name: string): NamespaceObject | undefined {
    return this.#snapshot<NamespaceObject>('Namespace')?.get(undefined, name);
  }

  node(name: string): NodeObject | undefined {
    return this.#snapshot<NodeObject>('Node')?.get(undefined, name);
  }

  servers(namespace: string): readonly ServerObject[] {
    return this.#snapshot<ServerObject>('Server')?.list(namespace) ?? EMPTY;
  }

  serviceProfile(namespace: string, name: string): ServiceProfileObject | undefined {
    return this.#snapshot<ServiceProfileObject>('ServiceProfile')?.get(namespace, name);
  }

  /** EndpointSlices of a Service (by the kubernetes.io/service-name label). */
  endpointSlices(namespace: string, service: string): readonly EndpointSliceObject[] {
    const index = this.#index('EndpointSlice', 'by-service', (snapshot) => {
      const byService = new Map<string, EndpointSliceObject[]>();
      for (const slice of snapshot.list() as EndpointSliceObject[]) {
        const owner = slice.metadata?.labels?.[SERVICE_NAME_LABEL];
        if (typeof owner !== 'string' || owner === '') continue;
        const key = `${slice.metadata?.namespace ?? ''}/${owner}`;
        let list = byService.get(key);
        if (!list) byService.set(key, (list = []));
        list.push(slice);
      }
      return byService;
    });
    return index?.get(`${namespace}/${service}`) ?? EMPTY;
  }

  /** Running pods with this pod IP (hostNetwork pods excluded: their IP is the node's). */
  podsByIp(ip: string): readonly PodObject[] {
    const index = this.#index('Pod', 'by-ip', (snapshot) => {
      const byIp = new Map<string, PodObject[]>();
      for (const pod of snapshot.list() as PodObject[]) {
        if (pod.spec?.hostNetwork === true || isTerminated(pod)) continue;
        for (const podIp of podIps(pod)) push(byIp, podIp, pod);
      }
      return byIp;
    });
    return index?.get(ip) ?? EMPTY;
  }

  /** Running pods on the node with this host IP (hostNetwork pods and hostPort mappings). */
  podsByHostIp(ip: string): readonly PodObject[] {
    const index = this.#index('Pod', 'by-host-ip', (snapshot) => {
      const byIp = new Map<string, PodObject[]>();
      for (const pod of snapshot.list() as PodObject[]) {
        if (isTerminated(pod)) continue;
        const ips = new Set<string>();
        if (typeof pod.status?.hostIP === 'string') ips.add(pod.status.hostIP);
        for (const h of Array.isArray(pod.status?.hostIPs) ? pod.status.hostIPs : []) {
          if (typeof h?.ip === 'string') ips.add(h.ip);
        }
        for (const hostIp of ips) push(byIp, hostIp, pod);
      }
      return byIp;
    });
    return index?.get(ip) ?? EMPTY;
  }

  /** Services whose cluster IP(s) include `ip`. */
  servicesByClusterIp(ip: string): readonly ServiceObject[] {
    const index = this.#index('Service', 'by-cluster-ip', (snapshot) => {
      const byIp = new Map<string, ServiceObject[]>();
      for (const svc of snapshot.list() as ServiceObject[]) {
        const ips = new Set<string>();
        const spec = svc.spec;
        if (typeof spec?.clusterIP === 'string' && spec.clusterIP !== 'None') ips.add(spec.clusterIP);
        for (const c of Array.isArray(spec?.clusterIPs) ? spec.clusterIPs : []) {
          if (typeof c === 'string' && c !== 'None') ips.add(c);
        }
        for (const c of ips) push(byIp, c, svc);
      }
      return byIp;
    });
    return index?.get(ip) ?? EMPTY;
  }
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function isTerminated(pod: PodObject): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed';
}

/** status.podIPs (or status.podIP). */
export function podIps(pod: PodObject): string[] {
  const out = new Set<string>();
  if (typeof pod.status?.podIP === 'string' && pod.status.podIP !== '') out.add(pod.status.podIP);
  for (const p of Array.isArray(pod.status?.podIPs) ? pod.status.podIPs : []) {
    if (typeof p?.ip === 'string' && p.ip !== '') out.add(p.ip);
  }
  return [...out];
}
