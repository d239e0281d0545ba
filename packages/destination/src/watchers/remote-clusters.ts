// The linked clusters remote discovery reads (Linkerd's ClusterStore): one ClusterState per linked
// cluster (Services, EndpointSlices, Pods, Servers), replaced when its credentials change and
// stopped when the link goes. Which clusters are linked comes from a RemoteClusterDiscovery; the
// one Linkerd uses is `secretRemoteClusterDiscovery`: Secrets of type
// mirror.linkerd.io/remote-kubeconfig in the control-plane namespace labelled
// multicluster.linkerd.io/cluster-name, annotated with the cluster's trust and cluster domains,
// holding a kubeconfig (what `tsmesh multicluster link` writes there).
import { KubeConfig } from '@kubernetes/client-node';
import { MulticlusterKey } from '@tsmesh/core';
import {
  CoreKinds,
  createKubeApiClient,
  createKubeObjectSource,
  linkedAbortController,
  silentLogger,
  type KubeObject,
  type Logger,
  type ObjectSource,
} from '@tsmesh/kube';
import { ClusterState, type RemoteClusterLookup } from './cluster-state.js';

export interface RemoteClusterSpec {
  readonly name: string;
  readonly trustDomain: string;
  readonly clusterDomain: string;
  readonly source: ObjectSource;
  /** Releases the source (called when the cluster is unlinked or its spec replaced). */
  close?(): Promise<void>;
}

export interface RemoteClusterDiscovery {
  /** The linked clusters: each value is the whole set; a spec object that changes is replaced. */
  watch(signal: AbortSignal): AsyncIterable<readonly RemoteClusterSpec[]>;
}

/** What remote discovery reads in a linked cluster (the remote-access account may read these). */
const REMOTE_KINDS = ['Service', 'EndpointSlice', 'Pod', 'Server'] as const;

interface Running {
  readonly spec: RemoteClusterSpec;
  readonly state: ClusterState;
  readonly controller: AbortController & { dispose(): void };
  readonly unsubscribe: () => void;
}

export interface RemoteClustersOptions {
  readonly logger?: Logger;
  /** Called (coalesced by each cluster's state) when any linked cluster's objects change. */
  readonly onChange: () => void;
}

export class RemoteClusters {
  readonly #o: RemoteClustersOptions;
  readonly #logger: Logger;
  readonly #clusters = new Map<string, Running>();
  #running: Promise<void> | undefined;

  constructor(options: RemoteClustersOptions) {
    this.#o = options;
    this.#logger = options.logger ?? silentLogger;
  }

  /** For ClusterStateOptions.remoteClusters. */
  readonly lookup: RemoteClusterLookup = (cluster) => {
    const running = this.#clusters.get(cluster);
    return running ? { state: running.state, trustDomain: running.spec.trustDomain } : undefined;
  };

  get size(): number {
    return this.#clusters.size;
  }

  /** Follows `discovery` until `signal` aborts; then stops every cluster. */
  start(discovery: RemoteClusterDiscovery, signal: AbortSignal): void {
    this.#running ??= this.#follow(discovery, signal);
  }

  async stopped(): Promise<void> {
    await this.#running;
  }

  async #follow(discovery: RemoteClusterDiscovery, signal: AbortSignal): Promise<void> {
    try {
      for await (const specs of discovery.watch(signal)) {
        const wanted = new Map(specs.map((s) => [s.name, s]));
        for (const [name, running] of [...this.#clusters]) {
          if (wanted.get(name) !== running.spec) await this.#stop(name, running);
        }
        for (const spec of wanted.values()) {
          if (!this.#clusters.has(spec.name)) this.#add(spec, signal);
        }
        this.#o.onChange();
      }
    } catch (err) {
      if (!signal.aborted) this.#logger.error({ error: String(err) }, 'remote cluster discovery failed');
    } finally {
      for (const [name, running] of [...this.#clusters]) await this.#stop(name, running);
    }
  }

  #add(spec: RemoteClusterSpec, signal: AbortSignal): void {
    const controller = linkedAbortController(signal);
    const state = new ClusterState({ source: spec.source, logger: this.#logger, kinds: REMOTE_KINDS });
    const unsubscribe = state.onChange(() => this.#o.onChange());
    state.start(controller.signal);
    this.#clusters.set(spec.name, { spec, state, controller, unsubscribe });
    this.#logger.info({ cluster: spec.name, trustDomain: spec.trustDomain }, 'added linked cluster');
  }

  async #stop(name: string, running: Running): Promise<void> {
    this.#clusters.delete(name);
    running.unsubscribe();
    running.controller.abort();
    running.controller.dispose();
    await running.state.stopped();
    await running.spec.close?.().catch(() => {});
    this.#logger.info({ cluster: name }, 'removed linked cluster');
  }
}

interface SecretObject extends KubeObject {
  type?: string;
  data?: Record<string, string>;
}

export interface SecretRemoteClusterDiscoveryOptions {
  /** Reads Secrets (a source over the control-plane namespace). */
  readonly source: ObjectSource;
  /** The control-plane namespace. */
  readonly namespace: string;
  /** A linked cluster's source from its kubeconfig; default: the Kubernetes API it names. */
  readonly connect?: (
    kubeconfig: string,
    cluster: string,
  ) => { source: ObjectSource; close(): Promise<void> };
  readonly logger?: Logger;
}

function connectKubeconfig(kubeconfig: string): { source: ObjectSource; close(): Promise<void> } {
  const kc = new KubeConfig();
  kc.loadFromString(kubeconfig);
  const client = createKubeApiClient(kc, { fieldManager: 'tsmesh-destination' });
  const source = createKubeObjectSource({ client });
  return {
    source,
    async close() {
      await source.close();
      client.close();
    },
  };
}

/** Linkerd's way of naming linked clusters to the destination service: credentials Secrets. */
export function secretRemoteClusterDiscovery(o: SecretRemoteClusterDiscoveryOptions): RemoteClusterDiscovery {
  const logger = o.logger ?? silentLogger;
  const connect = o.connect ?? connectKubeconfig;
  return {
    async *watch(signal) {
      // One spec per Secret version: an unchanged Secret keeps its spec (and its running state).
      let known = new Map<string, { version: string; spec: RemoteClusterSpec }>();
      const reported = new Set<string>();
      for await (const snapshot of o.source.watch<SecretObject>(CoreKinds.Secret, { signal })) {
        const next = new Map<string, { version: string; spec: RemoteClusterSpec }>();
        for (const secret of snapshot.list(o.namespace)) {
          if (secret.type !== MulticlusterKey.RemoteKubeconfigSecretType) continue;
          const cluster = secret.metadata?.labels?.[MulticlusterKey.CredentialsClusterName];
          if (!cluster) continue;
          const annotations = secret.metadata?.annotations ?? {};
          const version = `${secret.metadata?.resourceVersion ?? ''}/${JSON.stringify([annotations, secret.data])}`;
          const previous = known.get(cluster);
          if (previous?.version === version) {
            next.set(cluster, previous);
            continue;
          }
          const trustDomain = annotations[MulticlusterKey.CredentialsTrustDomain];
          const clusterDomain = annotations[MulticlusterKey.CredentialsClusterDomain];
          const kubeconfig = secret.data?.kubeconfig;
          const problem = !kubeconfig
            ? 'no kubeconfig key'
            : !trustDomain
              ? `no ${MulticlusterKey.CredentialsTrustDomain} annotation`
              : !clusterDomain
                ? `no ${MulticlusterKey.CredentialsClusterDomain} annotation`
                : undefined;
          try {
            if (problem) throw new Error(problem);
            const connection = connect(Buffer.from(kubeconfig!, 'base64').toString('utf8'), cluster);
            next.set(cluster, {
              version,
              spec: {
                name: cluster,
                trustDomain: trustDomain!,
                clusterDomain: clusterDomain!,
                ...connection,
              },
            });
          } catch (err) {
            const key = `${cluster}/${version}`;
            if (!reported.has(key)) {
              reported.add(key);
              logger.error(
                { secret: `${o.namespace}/${secret.metadata?.name}`, cluster, error: (err as Error).message },
                'cannot use linked cluster credentials',
              );
            }
          }
        }
        known = next;
        yield [...next.values()].map((e) => e.spec);
      }
    },
  };
}
