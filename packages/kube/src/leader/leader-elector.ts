// Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection does it: a
// candidate takes the Lease when it is free or its holder has not renewed it for a whole lease
// duration (measured on our own clock, from when we last saw the record change, so clock skew
// between nodes does not matter); the leader renews every retry period and steps down if it could
// not renew within the renew deadline. Writes use the Lease's resourceVersion, so two candidates
// can never both succeed. On abort the leader releases the Lease so a successor need not wait.
import { MeshError, MeshErrorCode } from '@tsmesh/core';
import type { Counter, Gauge, Registry } from 'prom-client';
import { linkedAbortController, sleep } from '../async/index.js';
import { isConflict, isNotFound, type KubeApiClient } from '../client/index.js';
import { silentLogger, type Logger } from '../logging/index.js';
import { counterOn, gaugeOn } from '../metrics/index.js';
import { CoreKinds, type KubeObject } from '../resources/index.js';

export interface LeaseSpec {
  holderIdentity?: string | null;
  leaseDurationSeconds?: number | null;
  acquireTime?: string | null;
  renewTime?: string | null;
  leaseTransitions?: number | null;
}

export interface Lease extends KubeObject {
  spec?: LeaseSpec;
}

export interface LeaderElectorOptions {
  client: KubeApiClient;
  /** Namespace and name of the Lease. */
  namespace: string;
  name: string;
  /** This candidate's identity (unique among candidates: pod name plus a random suffix). */
  identity: string;
  /** How long a Lease is valid without renewal. Default 15 s. */
  leaseDurationMs?: number;
  /** A leader that could not renew for this long steps down. Must be < leaseDurationMs. Default 10 s. */
  renewDeadlineMs?: number;
  /** Time between attempts to acquire or renew. Default 2 s. */
  retryPeriodMs?: number;
  /** Called when this candidate becomes leader; `signal` aborts when it stops leading. */
  onStartedLeading?: (signal: AbortSignal) => void | Promise<void>;
  /** Called when this candidate stops leading (lost the Lease, or released it on abort). */
  onStoppedLeading?: () => void;
  /** Called when the observed leader changes (including to this candidate). */
  onNewLeader?: (identity: string) => void;
  /** Give the Lease up when `run`'s signal aborts. Default true. */
  releaseOnAbort?: boolean;
  logger?: Logger;
  registry?: Registry;
  /** Clock in milliseconds; tests pass a fake one. Default Date.now. */
  now?: () => number;
}

interface ElectionMetrics {
  isLeader: Gauge<'lease'>;
  transitions: Counter<'lease'>;
}

/** RFC 3339 with microseconds, as metav1.MicroTime wants it. */
export function formatMicroTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export class LeaderElector {
  readonly #o: Required<
    Pick<LeaderElectorOptions, 'leaseDurationMs' | 'renewDeadlineMs' | 'retryPeriodMs' | 'releaseOnAbort'>
  > &
    LeaderElectorOptions;
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #metrics: ElectionMetrics | undefined;
  readonly #label: string;
  #observed: { holder: string; renewTime: string } | undefined;
  #observedAtMs = 0;
  #leading = false;
  #leader: string | undefined;

  constructor(options: LeaderElectorOptions) {
    const leaseDurationMs = options.leaseDurationMs ?? 15_000;
    const renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    const retryPeriodMs = options.retryPeriodMs ?? 2_000;
    const bad = (what: string) =>
      new MeshError(MeshErrorCode.Config, `invalid leader election settings: ${what}`, {
        where: `lease ${options.namespace}/${options.name}`,
      });
    if (!options.identity) throw bad('identity is empty');
    if (!(renewDeadlineMs < leaseDurationMs))
      throw bad(`renewDeadlineMs ${renewDeadlineMs} must be less than leaseDurationMs ${leaseDurationMs}`);
    if (!(retryPeriodMs > 0 && retryPeriodMs < renewDeadlineMs))
      throw bad(`retryPeriodMs ${retryPeriodMs} must be > 0 and < renewDeadlineMs`);
    this.#o = {
      ...options,
      leaseDurationMs,
      renewDeadlineMs,
      retryPeriodMs,
      releaseOnAbort: options.releaseOnAbort ?? true,
    };
    this.#logger = options.logger ?? silentLogger;
    this.#now = options.now ?? Date.now;
    this.#label = `${options.namespace}/${options.name}`;
    this.#metrics = options.registry
      ? {
          isLeader: gaugeOn(
            options.registry,
            'tsmesh_leader_election_is_leader',
            '1 while this process holds the Lease.',
            ['lease'],
          ),
          transitions: counterOn(
            options.registry,
            'tsmesh_leader_election_transitions_total',
            'Times this process became leader.',
            ['lease'],
          ),
        }
      : undefined;
    this.#metrics?.isLeader.set({ lease: this.#label }, 0);
  }

  get isLeader(): boolean {
    return this.#leading;
  }

  /** The last observed holder of the Lease. */
  get leader(): string | undefined {
    return this.#leader;
  }

  #observe(lease: Lease): void {
    const record = {
      holder: lease.spec?.holderIdentity ?? '',
      renewTime: lease.spec?.renewTime ?? '',
    };
    if (
      !this.#observed ||
      this.#observed.holder !== record.holder ||
      this.#observed.renewTime !== record.renewTime
    ) {
      this.#observedAtMs = this.#now();
    }
    this.#observed = record;
    if (record.holder && record.holder !== this.#leader) {
      this.#leader = record.holder;
      this.#logger.info({ lease: this.#label, leader: record.holder }, 'new leader observed');
      this.#o.onNewLeader?.(record.holder);
    }
  }

  /** One attempt: take or renew the Lease. True if we hold it afterwards. */
  async tryAcquireOrRenew(signal?: AbortSignal): Promise<boolean> {
    const { client, namespace, name, identity } = this.#o;
    const now = this.#now();
    const durationSeconds = Math.max(1, Math.ceil(this.#o.leaseDurationMs / 1000));
    let lease: Lease;
    try {
      lease = await client.get<Lease>(CoreKinds.Lease, { namespace, name }, { signal });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      try {
        const created = await client.create<Lease>(
          CoreKinds.Lease,
          {
            metadata: { namespace, name },
            spec: {
              holderIdentity: identity,
              leaseDurationSeconds: durationSeconds,
              acquireTime: formatMicroTime(now),
              renewTime: formatMicroTime(now),
              leaseTransitions: 0,
            },
          },
          { signal },
        );
        this.#observe(created);
        return true;
      } catch (createErr) {
        if (isConflict(createErr) || (createErr as { statusCode?: number }).statusCode === 409) return false;
        throw createErr;
      }
    }
    this.#observe(lease);
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const held = holder !== '' && holder !== identity;
    const leaseMs = (spec.leaseDurationSeconds ?? durationSeconds) * 1000;
    if (held && this.#observedAtMs + leaseMs > now) return false;
    const ours = holder === identity;
    const next: Lease = {
      ...lease,
      spec: {
        ...spec,
        holderIdentity: identity,
        leaseDurationSeconds: durationSeconds,
        renewTime: formatMicroTime(now),
        acquireTime: ours ? (spec.acquireTime ?? formatMicroTime(now)) : formatMicroTime(now),
        leaseTransitions: ours ? (spec.leaseTransitions ?? 0) : (spec.leaseTransitions ?? 0) + 1,
      },
    };
    try {
      // resourceVersion in the body makes this a compare-and-swap.
      this.#observe(await client.replace<Lease>(CoreKinds.Lease, next, { signal }));
      return true;
    } catch (err) {
      if (isConflict(err)) return false;
      throw err;
    }
  }

  /**
   * Hands the Lease back (holder cleared, 1 s duration) so a successor need not wait it out. Reads
   * it afresh: a renewal aborted in flight may have been applied without our seeing the answer, and
   * a replace with the stale resourceVersion would conflict (the successor then waited the whole
   * lease). The replace is still a compare-and-swap, so a Lease someone else took is left alone.
   */
  async #release(): Promise<void> {
    const { client, namespace, name, identity } = this.#o;
    for (let attempt = 1; ; attempt++) {
      try {
        const lease = await client.get<Lease>(CoreKinds.Lease, { namespace, name });
        if (lease.spec?.holderIdentity !== identity) return;
        const now = this.#now();
        await client.replace<Lease>(CoreKinds.Lease, {
          ...lease,
          spec: {
            ...lease.spec,
            holderIdentity: '',
            leaseDurationSeconds: 1,
            renewTime: formatMicroTime(now),
            acquireTime: formatMicroTime(now),
          },
        });
        this.#logger.info({ lease: this.#label, identity }, 'lease released');
        return;
      } catch (err) {
        if (isConflict(err) && attempt < 3) continue;
        this.#logger.warn(
          { lease: this.#label, err: MeshError.is(err) ? err.describe() : String(err) },
          'could not release the lease',
        );
        return;
      }
    }
  }

  async #attempt(signal: AbortSignal): Promise<boolean> {
    try {
      return await this.tryAcquireOrRenew(signal);
    } catch (err) {
      if (!signal.aborted) {
        this.#logger.warn(
          { lease: this.#label, err: MeshError.is(err) ? err.describe() : String(err) },
          'lease request failed',
        );
      }
      return false;
    }
  }

  /**
   * Campaigns until `signal` aborts: waits to acquire, leads (calling onStartedLeading) while it
   * can renew, and campaigns again if leadership is lost. Resolves after stepping down.
   */
  async run(signal: AbortSignal): Promise<void> {
    const { retryPeriodMs, renewDeadlineMs } = this.#o;
    while (!signal.aborted) {
      // Candidate: try until we hold the Lease.
      while (!signal.aborted && !(await this.#attempt(signal))) {
        if (!(await sleep(retryPeriodMs, signal))) break;
      }
      if (signal.aborted) break;
      await this.#lead(signal, retryPeriodMs, renewDeadlineMs);
    }
  }

  async #lead(signal: AbortSignal, retryPeriodMs: number, renewDeadlineMs: number): Promise<void> {
    this.#leading = true;
    this.#metrics?.isLeader.set({ lease: this.#label }, 1);
    this.#metrics?.transitions.inc({ lease: this.#label });
    this.#logger.info({ lease: this.#label, identity: this.#o.identity }, 'started leading');
    const leadership = linkedAbortController(signal);
    const work = Promise.resolve()
      .then(() => this.#o.onStartedLeading?.(leadership.signal))
      .catch((err: unknown) =>
        this.#logger.error({ lease: this.#label, err: String(err) }, 'onStartedLeading failed'),
      );
    let lastRenewMs = this.#now();
    while (!signal.aborted) {
      if (!(await sleep(retryPeriodMs, signal))) break;
      if (await this.#attempt(signal)) {
        lastRenewMs = this.#now();
        continue;
      }
      if (this.#observed && this.#observed.holder !== this.#o.identity && this.#observed.holder !== '') {
        this.#logger.warn(
          { lease: this.#label, holder: this.#observed.holder },
          'lease taken by another candidate',
        );
        break;
      }
      if (this.#now() - lastRenewMs >= renewDeadlineMs) {
        this.#logger.warn(
          { lease: this.#label, renewDeadlineMs },
          'could not renew the lease in time; stepping down',
        );
        break;
      }
    }
    leadership.abort(new MeshError(MeshErrorCode.Aborted, 'leadership ended'));
    leadership.dispose();
    this.#leading = false;
    this.#metrics?.isLeader.set({ lease: this.#label }, 0);
    if (signal.aborted && this.#o.releaseOnAbort) await this.#release();
    await work;
    this.#logger.info({ lease: this.#label, identity: this.#o.identity }, 'stopped leading');
    this.#o.onStoppedLeading?.();
  }
}

export function createLeaderElector(options: LeaderElectorOptions): LeaderElector {
  return new LeaderElector(options);
}
