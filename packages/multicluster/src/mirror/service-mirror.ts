// The service mirror controller of one Link (Linkerd runs one per Link): follows the Link, reads
// the target cluster's kubeconfig from the Link's Secret, watches the target's Services and
// Endpoints and this cluster's mirrors and namespaces, and keeps the mirrors equal to what
// `desiredMirrors` says — level-based: every change (remote, local, Link, gateway liveness, the
// periodic repair that re-resolves gateway names) triggers one coalesced reconcile of everything.
// A failed reconcile is retried with backoff; nothing here ends before its signal does. When the
// Link is deleted, every mirror and federated membership it made is removed (unlink); when the
// process stops, mirrors stay (a restart must not blink traffic).
import { lookup } from 'node:dns/promises';
import { setMaxListeners } from 'node:events';
import { isIP } from 'node:net';
import type { KubeConfig } from '@kubernetes/client-node';
import { MeshError, MulticlusterKey } from '@tsmesh/core';
import {
  Backoff,
  CoreKinds,
  counterOn,
  createKubeApiClient,
  isNotFound,
  KubeApiError,
  resourcePath,
  LatestValue,
  linkedAbortController,
  MeshKinds,
  silentLogger,
  sleep,
  WatchCache,
  type KubeApiClient,
  type KubeObject,
  type Logger,
  type ResourceKind,
} from '@tsmesh/kube';
import { Registry } from 'prom-client';
import { readClusterCredentials } from '../credentials/index.js';
import { parseLink, type Link } from '../link/index.js';
import { GatewayProbe } from '../probe/index.js';
import { desiredMirrors, type GatewayState } from './desired-mirrors.js';
import { EndpointsKind, type EndpointsObject, type ServiceObject } from './kube-types.js';
import { linkStatus, type LinkStatus } from './link-status.js';
import { planChanges, type LocalView, type MirrorChange } from './plan-changes.js';

export interface ServiceMirrorOptions {
  /** The local cluster (where the Link and the mirrors live). */
  readonly local: KubeApiClient;
  readonly linkNamespace: string;
  readonly linkName: string;
  /** Makes the target cluster's client from the Link's kubeconfig; default createKubeApiClient. */
  readonly connect?: (kubeConfig: KubeConfig) => KubeApiClient;
  /** Probe the gateway (health and latency metrics; a dead gateway's endpoints turn not ready). Default true. */
  readonly probeGateway?: boolean;
  /** Re-resolve gateway names and rewrite every mirror this often. Default 60 s. */
  readonly repairPeriodMs?: number;
  /** Gateway name → IPs; default DNS (IP literals pass through). */
  readonly resolve?: (host: string) => Promise<string[]>;
  readonly registry?: Registry;
  readonly logger?: Logger;
}

export type ServiceMirrorPhase = 'waiting-for-link' | 'connecting' | 'mirroring' | 'invalid-link';

async function resolveHost(host: string): Promise<string[]> {
  if (isIP(host)) return [host];
  return (await lookup(host, { all: true })).map((a) => a.address);
}

function createMirrorMetrics(registry: Registry) {
  return {
    repairs: counterOn(
      registry,
      'service_mirror_endpoint_repairs',
      'Increments when the service mirror controller attempts to repair mirror endpoints',
      ['target_cluster_name'],
    ),
    changes: counterOn(
      registry,
      'tsmesh_service_mirror_changes_total',
      'Objects written by the service mirror',
      ['target_cluster_name', 'op', 'kind'],
    ),
    errors: counterOn(
      registry,
      'tsmesh_service_mirror_reconcile_errors_total',
      'Failed reconciles (retried)',
      ['target_cluster_name'],
    ),
  };
}
type MirrorMetrics = ReturnType<typeof createMirrorMetrics>;

const kindOf = (name: MirrorChange['kind']): ResourceKind =>
  name === 'Service' ? CoreKinds.Service : EndpointsKind;

/** Applies changes in order; a Service that exists here but is not a mirror is left alone. */
export async function applyMirrorChanges(
  client: KubeApiClient,
  changes: readonly MirrorChange[],
  options: { logger?: Logger; signal?: AbortSignal; onChange?: (change: MirrorChange) => void } = {},
): Promise<void> {
  const logger = options.logger ?? silentLogger;
  const signal = options.signal ? { signal: options.signal } : {};
  for (const change of changes) {
    const kind = kindOf(change.kind);
    if (change.op === 'delete') {
      try {
        await client.delete(kind, { namespace: change.namespace, name: change.name }, signal);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      logger.info({ kind: change.kind, namespace: change.namespace, name: change.name }, 'deleted');
    } else if (change.op === 'create') {
      try {
        await client.create(kind, change.object, signal);
      } catch (err) {
        if (err instanceof KubeApiError && err.reason === 'AlreadyExists') {
          // Our cache may lag behind our own write; a real name clash is a Service without our label.
          const existing = await client.get(
            kind,
            {
              namespace: change.object.metadata?.namespace ?? '',
              name: change.object.metadata?.name ?? '',
            },
            signal,
          );
          if (existing.metadata?.labels?.[MulticlusterKey.MirroredService] === 'true') continue;
          logger.warn(
            {
              kind: change.kind,
              namespace: change.object.metadata?.namespace,
              name: change.object.metadata?.name,
            },
            'an object that is not a mirror has the mirror name; not mirroring',
          );
          continue;
        }
        throw err;
      }
      logger.info(
        {
          kind: change.kind,
          namespace: change.object.metadata?.namespace,
          name: change.object.metadata?.name,
        },
        'created',
      );
    } else {
      await client.replace(kind, change.object, signal);
      logger.info(
        {
          kind: change.kind,
          namespace: change.object.metadata?.namespace,
          name: change.object.metadata?.name,
        },
        'updated',
      );
    }
    options.onChange?.(change);
  }
}

/** Everything of one cluster's mirrors in the local cluster, listed now (for unlink and checks). */
export async function listLocalMirrors(
  client: KubeApiClient,
  cluster: string,
  signal?: AbortSignal,
): Promise<LocalView> {
  const ours = `${MulticlusterKey.MirroredService}=true,${MulticlusterKey.ClusterName}=${cluster}`;
  const opts = { labelSelector: ours, ...(signal ? { signal } : {}) };
  const [services, endpoints, mirrored] = await Promise.all([
    client.list<ServiceObject>(CoreKinds.Service, opts),
    client.list<EndpointsObject>(EndpointsKind, opts),
    client.list<ServiceObject>(CoreKinds.Service, {
      labelSelector: `${MulticlusterKey.MirroredService}=true`,
      ...(signal ? { signal } : {}),
    }),
  ]);
  return {
    mirrorServices: services.items,
    mirrorEndpoints: endpoints.items,
    federatedServices: mirrored.items.filter((s) => s.metadata?.name?.endsWith('-federated')),
  };
}

/** Removes every mirror and federated membership of `link` (what unlinking does). */
export async function removeLinkMirrors(
  client: KubeApiClient,
  link: Link,
  options: { logger?: Logger; signal?: AbortSignal } = {},
): Promise<MirrorChange[]> {
  const local = await listLocalMirrors(client, link.targetClusterName, options.signal);
  const changes = planChanges(
    link,
    { mirrors: new Map(), federated: new Map(), skippedNamespaces: [], selected: [] },
    local,
  );
  await applyMirrorChanges(client, changes, options);
  return changes;
}

/** One connection to a target cluster for one Link; replaced when the credentials change. */
class LinkSession {
  readonly #o: ServiceMirrorOptions;
  readonly #logger: Logger;
  readonly #metrics: MirrorMetrics;
  readonly #registry: Registry;
  readonly #trigger = new LatestValue<number>();
  readonly #controller: AbortController & { dispose(): void };
  #link: Link;
  #ticks = 0;
  #gateway: GatewayState = { addresses: [], alive: true };
  #probe: GatewayProbe | undefined;
  #remote: KubeApiClient | undefined;
  #running: Promise<void> | undefined;
  /** The status last written to the Link. */
  #status: LinkStatus | undefined;
  mirroring = false;

  constructor(
    options: ServiceMirrorOptions,
    link: Link,
    registry: Registry,
    metrics: MirrorMetrics,
    parent: AbortSignal,
  ) {
    this.#o = options;
    this.#link = link;
    this.#registry = registry;
    this.#metrics = metrics;
    this.#logger = options.logger ?? silentLogger;
    this.#controller = linkedAbortController(parent);
    // Five watch caches, their subscriptions, the probe and the repair timer all listen on it.
    setMaxListeners(64, this.#controller.signal);
  }

  get link(): Link {
    return this.#link;
  }

  /** Same credentials and cluster: the session can follow the new spec. */
  accepts(link: Link): boolean {
    return (
      link.clusterCredentialsSecret === this.#link.clusterCredentialsSecret &&
      link.targetClusterName === this.#link.targetClusterName
    );
  }

  update(link: Link): void {
    this.#link = link;
    this.#kick();
  }

  #kick(): void {
    this.#trigger.set(++this.#ticks);
  }

  start(): void {
    this.#running ??= this.#run(this.#controller.signal).catch((err: unknown) => {
      if (!this.#controller.signal.aborted) {
        this.#logger.error({ error: String(err) }, 'link session ended unexpectedly');
      }
    });
  }

  async stop(): Promise<void> {
    this.#controller.abort();
    await this.#running;
    this.#controller.dispose();
    this.#remote?.close();
  }

  async #connect(signal: AbortSignal): Promise<KubeApiClient | undefined> {
    const backoff = new Backoff({ minMs: 500, maxMs: 30_000, jitter: 0.5 });
    while (!signal.aborted) {
      try {
        const kc = await readClusterCredentials(
          this.#o.local,
          this.#link.namespace,
          this.#link.clusterCredentialsSecret,
          signal,
        );
        return (this.#o.connect ?? ((c: KubeConfig) => createKubeApiClient(c)))(kc);
      } catch (err) {
        if (signal.aborted) break;
        this.#logger.warn(
          { link: this.#link.name, error: MeshError.is(err) ? err.describe() : String(err) },
          'cannot read the link credentials; retrying',
        );
        await sleep(backoff.next(), signal);
      }
    }
    return undefined;
  }

  async #run(signal: AbortSignal): Promise<void> {
    const remote = await this.#connect(signal);
    if (!remote) return;
    this.#remote = remote;
    const cluster = this.#link.targetClusterName;
    const logger = this.#logger;
    const cache = <T extends KubeObject>(
      client: KubeApiClient,
      kind: ResourceKind,
      metricsName: string,
      labelSelector?: string,
    ) =>
      new WatchCache<T>({
        client,
        kind,
        logger,
        registry: this.#registry,
        metricsName,
        ...(labelSelector ? { labelSelector } : {}),
      });
    const remoteServices = cache<ServiceObject>(remote, CoreKinds.Service, `remote:${cluster}:Service`);
    const remoteEndpoints = cache<EndpointsObject>(remote, EndpointsKind, `remote:${cluster}:Endpoints`);
    const localServices = cache<ServiceObject>(
      this.#o.local,
      CoreKinds.Service,
      `local:${cluster}:Service`,
      `${MulticlusterKey.MirroredService}=true`,
    );
    const localEndpoints = cache<EndpointsObject>(
      this.#o.local,
      EndpointsKind,
      `local:${cluster}:Endpoints`,
      `${MulticlusterKey.MirroredService}=true,${MulticlusterKey.ClusterName}=${cluster}`,
    );
    const namespaces = cache(this.#o.local, CoreKinds.Namespace, `local:${cluster}:Namespace`);
    const caches = [remoteServices, remoteEndpoints, localServices, localEndpoints, namespaces];
    const tasks: Promise<unknown>[] = caches.map((c) => c.start(signal));
    for (const c of caches) {
      tasks.push(
        (async () => {
          for await (const _ of c.subscribe(signal)) this.#kick();
        })(),
      );
    }
    if (this.#o.probeGateway ?? true) {
      this.#probe = new GatewayProbe({
        clusterName: cluster,
        address: () => this.#gateway.addresses[0],
        spec: () => this.#link.probeSpec,
        enabled: () => this.#link.gatewayAddresses.length > 0,
        registry: this.#registry,
        logger,
        onChange: () => this.#kick(),
      });
      tasks.push(this.#probe.run(signal));
    }
    tasks.push(this.#repairLoop(signal));

    const backoff = new Backoff({ minMs: 200, maxMs: 10_000, jitter: 0.5 });
    this.#kick();
    for await (const _ of this.#trigger.subscribe(signal)) {
      if (!caches.every((c) => c.synced)) continue;
      try {
        await this.#reconcile(
          {
            services: remoteServices.snapshot().list(),
            hasReadyEndpoints: (ns, name) =>
              (remoteEndpoints.get(ns, name)?.subsets ?? []).some((s) => (s.addresses ?? []).length > 0),
          },
          new Set(
            namespaces
              .snapshot()
              .list()
              .map((n) => n.metadata?.name ?? ''),
          ),
          {
            mirrorServices: localServices
              .snapshot()
              .list()
              .filter((s) => s.metadata?.labels?.[MulticlusterKey.ClusterName] === cluster),
            mirrorEndpoints: localEndpoints.snapshot().list(),
            federatedServices: localServices
              .snapshot()
              .list()
              .filter((s) => s.metadata?.name?.endsWith('-federated')),
          },
          signal,
        );
        this.mirroring = true;
        backoff.reset();
      } catch (err) {
        if (signal.aborted) break;
        this.#metrics.errors.inc({ target_cluster_name: cluster });
        const delayMs = backoff.next();
        logger.warn(
          { cluster, error: MeshError.is(err) ? err.describe() : String(err), delayMs },
          'reconcile failed; retrying',
        );
        // Retry even when nothing else changes (the caches will have caught up by then).
        void sleep(delayMs, signal).then((slept) => slept && this.#kick());
      }
    }
    await Promise.allSettled(tasks);
  }

  async #repairLoop(signal: AbortSignal): Promise<void> {
    const period = this.#o.repairPeriodMs ?? 60_000;
    while (await sleep(period, signal)) {
      this.#metrics.repairs.inc({ target_cluster_name: this.#link.targetClusterName });
      this.#kick();
    }
  }

  async #resolveGateway(): Promise<readonly string[]> {
    const resolve = this.#o.resolve ?? resolveHost;
    const out = new Set<string>();
    for (const host of this.#link.gatewayAddresses) {
      try {
        for (const ip of await resolve(host)) out.add(ip);
      } catch (err) {
        this.#logger.warn({ host, error: String(err) }, 'cannot resolve the gateway address');
      }
    }
    return [...out].sort();
  }

  async #reconcile(
    remote: Parameters<typeof desiredMirrors>[1],
    namespaces: ReadonlySet<string>,
    local: LocalView,
    signal: AbortSignal,
  ): Promise<void> {
    const link = this.#link;
    this.#gateway = { addresses: await this.#resolveGateway(), alive: this.#probe?.alive ?? true };
    const desired = desiredMirrors(link, remote, namespaces, this.#gateway);
    const changes = planChanges(link, desired, local);
    if (changes.length > 0) {
      await applyMirrorChanges(this.#o.local, changes, {
        logger: this.#logger,
        signal,
        onChange: (c) =>
          this.#metrics.changes.inc({ target_cluster_name: link.targetClusterName, op: c.op, kind: c.kind }),
      });
    }
    await this.#writeStatus(linkStatus(link, desired.selected, this.#status, new Date()), signal);
  }

  /** Merge-patches the Link's status when it changed; a failure is logged and retried next time. */
  async #writeStatus(status: LinkStatus, signal: AbortSignal): Promise<void> {
    if (JSON.stringify(status) === JSON.stringify(this.#status)) return;
    try {
      await this.#o.local.request({
        method: 'PATCH',
        path: resourcePath(MeshKinds.Link, {
          namespace: this.#link.namespace,
          name: this.#link.name,
          subresource: 'status',
        }),
        contentType: 'application/merge-patch+json',
        body: { status },
        signal,
      });
      this.#status = status;
    } catch (err) {
      if (!signal.aborted) {
        this.#logger.warn({ link: this.#link.name, error: String(err) }, 'cannot write the Link status');
      }
    }
  }
}

export class ServiceMirror {
  readonly #o: ServiceMirrorOptions;
  readonly #logger: Logger;
  readonly #registry: Registry;
  readonly #metrics: MirrorMetrics;
  #session: LinkSession | undefined;
  #phase: ServiceMirrorPhase = 'waiting-for-link';

  constructor(options: ServiceMirrorOptions) {
    this.#o = options;
    this.#logger = options.logger ?? silentLogger;
    this.#registry = options.registry ?? new Registry();
    this.#metrics = createMirrorMetrics(this.#registry);
  }

  get phase(): ServiceMirrorPhase {
    if (this.#phase === 'connecting' && this.#session?.mirroring) return 'mirroring';
    return this.#phase;
  }

  /** Follows the Link until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    const { linkNamespace: namespace, linkName: name } = this.#o;
    const links = new WatchCache({
      client: this.#o.local,
      kind: MeshKinds.Link,
      namespace,
      fieldSelector: `metadata.name=${name}`,
      logger: this.#logger,
      registry: this.#registry,
      metricsName: 'local:Link',
    });
    const watching = links.start(signal);
    let lastInvalid: string | undefined;
    try {
      for await (const snapshot of links.subscribe(signal)) {
        const object = snapshot.get(namespace, name);
        if (!object) {
          await this.#unlink(signal);
          this.#phase = 'waiting-for-link';
          continue;
        }
        let link: Link;
        try {
          link = parseLink(object);
        } catch (err) {
          const message = MeshError.is(err) ? err.describe() : String(err);
          if (message !== lastInvalid)
            this.#logger.error({ error: message }, 'invalid Link; keeping the last valid one');
          lastInvalid = message;
          if (!this.#session) this.#phase = 'invalid-link';
          continue;
        }
        lastInvalid = undefined;
        if (this.#session?.accepts(link)) {
          this.#session.update(link);
          continue;
        }
        if (this.#session) {
          const previous = this.#session.link;
          await this.#session.stop();
          this.#session = undefined;
          if (previous.targetClusterName !== link.targetClusterName) await this.#cleanup(previous, signal);
        }
        this.#logger.info({ link: name, cluster: link.targetClusterName }, 'following link');
        this.#phase = 'connecting';
        this.#session = new LinkSession(this.#o, link, this.#registry, this.#metrics, signal);
        this.#session.start();
      }
    } finally {
      await this.#session?.stop();
      this.#session = undefined;
      await watching;
    }
  }

  async #unlink(signal: AbortSignal): Promise<void> {
    const session = this.#session;
    if (!session) return;
    this.#session = undefined;
    await session.stop();
    this.#logger.info({ cluster: session.link.targetClusterName }, 'link deleted; removing its mirrors');
    await this.#cleanup(session.link, signal);
  }

  async #cleanup(link: Link, signal: AbortSignal): Promise<void> {
    const backoff = new Backoff({ minMs: 500, maxMs: 10_000, jitter: 0.5 });
    while (!signal.aborted) {
      try {
        await removeLinkMirrors(this.#o.local, link, { logger: this.#logger, signal });
        return;
      } catch (err) {
        if (signal.aborted) return;
        this.#logger.warn({ error: String(err) }, 'removing mirrors failed; retrying');
        await sleep(backoff.next(), signal);
      }
    }
  }
}
