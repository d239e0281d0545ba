// Reads every policy-relevant kind from an ObjectSource and publishes a new ClusterState after each
// change. Changes that arrive while a rebuild is pending are folded into it (latest state wins);
// objects are parsed once per version (memoized by object identity, snapshots share unchanged
// objects) and malformed ones are reported once — name, field and fix — and left out.
import { setMaxListeners } from 'node:events';
import { MeshError, parsePolicyResource, type PolicyIndexOptions, type PolicyResource } from '@tsmesh/core';
import {
  apiVersionOf,
  LatestValue,
  silentLogger,
  type KubeObject,
  type Logger,
  type ObjectSnapshot,
  type ObjectSource,
  type ResourceKind,
} from '@tsmesh/kube';
import type { Counter, Gauge, Registry } from 'prom-client';
import { counter, gauge } from '../metrics/index.js';
import { ClusterState, type ResourceProblem } from './cluster-state.js';
import { parseEgressNetwork, type EgressNetworkInfo } from './egress-network.js';
import { parseService, type ServiceInfo } from './service-info.js';
import { POLICY_WATCHED_KINDS } from './watched-kinds.js';

export interface PolicyIndexerOptions {
  readonly source: ObjectSource;
  readonly index: PolicyIndexOptions;
  readonly logger?: Logger;
  readonly registry?: Registry;
  readonly signal?: AbortSignal;
  /** Kinds to read. Default POLICY_WATCHED_KINDS. */
  readonly kinds?: readonly ResourceKind[];
}

type Parsed =
  | { readonly ok: true; readonly resource: PolicyResource | ServiceInfo | EgressNetworkInfo | undefined }
  | { readonly ok: false; readonly problem: ResourceProblem };

interface IndexerMetrics {
  rebuilds: Counter;
  invalid: Gauge;
  version: Gauge;
}

function createMetrics(registry: Registry | undefined): IndexerMetrics | undefined {
  if (!registry) return undefined;
  return {
    rebuilds: counter(registry, {
      name: 'policy_index_rebuilds_total',
      help: 'Policy index states published.',
    }),
    invalid: gauge(registry, {
      name: 'policy_index_invalid_resources',
      help: 'Resources skipped because they are malformed.',
    }),
    version: gauge(registry, {
      name: 'policy_index_version',
      help: 'Version of the newest published policy state.',
    }),
  };
}

export class PolicyIndexer {
  readonly #o: PolicyIndexerOptions;
  readonly #logger: Logger;
  readonly #kinds: readonly ResourceKind[];
  readonly #snapshots = new Map<ResourceKind, ObjectSnapshot>();
  readonly #parsed = new WeakMap<object, Parsed>();
  readonly #reported = new Set<string>();
  readonly #state = new LatestValue<ClusterState>();
  readonly #listeners = new Set<() => void>();
  #closed = false;
  readonly #metrics: IndexerMetrics | undefined;
  readonly #controller = new AbortController();
  readonly #readers: Promise<void>[] = [];
  #version = 0;
  #scheduled = false;
  #synced: () => void = () => undefined;
  readonly #syncedPromise: Promise<void>;

  constructor(options: PolicyIndexerOptions) {
    this.#o = options;
    this.#logger = options.logger ?? silentLogger;
    this.#kinds = options.kinds ?? POLICY_WATCHED_KINDS;
    this.#metrics = createMetrics(options.registry);
    this.#syncedPromise = new Promise((resolve) => (this.#synced = resolve));
    // One listener per watched kind, plus one per open watch stream.
    setMaxListeners(0, this.#controller.signal);
    options.signal?.addEventListener('abort', () => this.close(), { once: true });
  }

  /** Starts reading; resolves once every kind has been read once and the first state is published. */
  async start(): Promise<void> {
    const signal = this.#controller.signal;
    for (const kind of this.#kinds) {
      this.#readers.push(
        (async () => {
          try {
            for await (const snapshot of this.#o.source.watch(kind, { signal })) {
              this.#snapshots.set(kind, snapshot);
              this.#schedule();
            }
          } catch (err) {
            if (!signal.aborted)
              this.#logger.error({ kind: kind.kind, error: String(err) }, 'policy index: watch failed');
          }
        })(),
      );
    }
    // A kind that never lists (e.g. its CRD is not installed) holds the first state back: say which.
    const waiting = setInterval(() => {
      const missing = this.#kinds
        .filter((k) => !this.#snapshots.has(k))
        .map((k) => `${k.kind}.${k.group || 'core'}`);
      if (missing.length > 0)
        this.#logger.warn(
          { kinds: missing },
          `policy index: still waiting for the first list of ${missing.join(', ')} (are their CRDs installed?)`,
        );
    }, 10_000);
    waiting.unref();
    await Promise.race([
      this.#syncedPromise.finally(() => clearInterval(waiting)),
      new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true })),
    ]);
    clearInterval(waiting);
  }

  /** The newest state (undefined before the first). */
  get current(): ClusterState | undefined {
    return this.#state.get();
  }

  get synced(): boolean {
    return this.#state.hasValue;
  }

  /** The raw objects of a kind as last read (undefined before the first read). */
  objects(kind: ResourceKind): ObjectSnapshot | undefined {
    return this.#snapshots.get(kind);
  }

  /** The current state, then the newest after each change (intermediate states are skipped). */
  subscribe(signal?: AbortSignal): AsyncGenerator<ClusterState> {
    return this.#state.subscribe(signal);
  }

  /**
   * Calls `listener` after each published state and once on close; returns the unsubscribe
   * function. For many subscribers this is cheaper than `subscribe` (no generator, no per-wait
   * abort listener); the listener only learns that something changed and reads `current`.
   */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  get closed(): boolean {
    return this.#closed;
  }

  #notify(): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener();
      } catch (err) {
        this.#logger.error({ error: String(err) }, 'policy index: change listener failed');
      }
    }
  }

  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#notify();
    }
    this.#controller.abort();
    this.#state.close();
    await Promise.allSettled(this.#readers);
  }

  #schedule(): void {
    if (this.#scheduled || this.#controller.signal.aborted) return;
    if (this.#snapshots.size < this.#kinds.length) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      if (this.#controller.signal.aborted) return;
      try {
        this.#rebuild();
      } catch (err) {
        this.#logger.error(
          { error: String(err) },
          'policy index: rebuild failed; keeping the previous state',
        );
      }
    });
  }

  #parse(kind: ResourceKind, object: KubeObject): Parsed {
    const hit = this.#parsed.get(object);
    if (hit) return hit;
    let parsed: Parsed;
    try {
      if (kind.kind === 'Service' && kind.group === '') {
        parsed = { ok: true, resource: parseService(object) };
      } else if (kind.kind === 'EgressNetwork') {
        parsed = { ok: true, resource: parseEgressNetwork(object) };
      } else {
        const full =
          object.apiVersion && object.kind
            ? object
            : { ...object, apiVersion: apiVersionOf(kind), kind: kind.kind };
        parsed = { ok: true, resource: parsePolicyResource(full) };
      }
    } catch (err) {
      const message = MeshError.is(err) ? err.describe() : err instanceof Error ? err.message : String(err);
      parsed = {
        ok: false,
        problem: {
          kind: kind.kind,
          namespace: object.metadata?.namespace ?? '',
          name: object.metadata?.name ?? '',
          message,
        },
      };
    }
    this.#parsed.set(object, parsed);
    return parsed;
  }

  #rebuild(): void {
    const resources: PolicyResource[] = [];
    const services: ServiceInfo[] = [];
    const egressNetworks: EgressNetworkInfo[] = [];
    const problems: ResourceProblem[] = [];
    for (const kind of this.#kinds) {
      const snapshot = this.#snapshots.get(kind);
      if (!snapshot) continue;
      for (const object of snapshot) {
        const parsed = this.#parse(kind, object);
        if (!parsed.ok) {
          problems.push(parsed.problem);
          const key = `${kind.kind}/${objectId(object)}/${parsed.problem.message}`;
          if (!this.#reported.has(key)) {
            this.#reported.add(key);
            this.#logger.warn(
              { kind: kind.kind, namespace: parsed.problem.namespace, name: parsed.problem.name },
              `skipping invalid resource: ${parsed.problem.message}`,
            );
          }
          continue;
        }
        const r = parsed.resource;
        if (r === undefined) continue;
        if ('clusterIPs' in r) services.push(r);
        else if ('trafficPolicy' in r) egressNetworks.push(r);
        else resources.push(r);
      }
    }
    const state = new ClusterState({
      version: ++this.#version,
      resources,
      services,
      egressNetworks,
      problems,
      options: this.#o.index,
    });
    for (const warning of state.policy.warnings) {
      if (this.#reported.has(warning)) continue;
      this.#reported.add(warning);
      this.#logger.warn({}, `policy index: ${warning}`);
    }
    if (this.#reported.size > 10_000) this.#reported.clear();
    this.#state.set(state);
    this.#notify();
    this.#metrics?.rebuilds.inc();
    this.#metrics?.invalid.set(problems.length);
    this.#metrics?.version.set(state.version);
    this.#synced();
  }
}

function objectId(object: KubeObject): string {
  const m = object.metadata;
  return `${m?.namespace ?? ''}/${m?.name ?? ''}@${m?.resourceVersion ?? ''}`;
}
