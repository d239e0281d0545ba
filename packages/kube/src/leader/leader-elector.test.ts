import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { MeshError, MeshErrorCode } from '@tsmesh/core';
import { KubeApiError, type KubeApiClient } from '../client/index.js';
import { formatMicroTime, LeaderElector, type Lease } from './leader-elector.js';

/** An in-memory Lease API with resourceVersion compare-and-swap, like the apiserver's. */
function fakeLeases() {
  const leases = new Map<string, Lease>();
  let rv = 0;
  let failing = false;
  const key = (ns?: string, name?: string) => `${ns}/${name}`;
  const check = () => {
    if (failing) throw new KubeApiError(503, { message: 'apiserver unavailable' }, 'fake');
  };
  const client = {
    server: 'fake',
    async get(_k: unknown, ref: { namespace?: string; name: string }) {
      check();
      const lease = leases.get(key(ref.namespace, ref.name));
      if (!lease) throw new KubeApiError(404, { reason: 'NotFound', message: 'not found' }, 'fake');
      return structuredClone(lease);
    },
    async create(_k: unknown, object: Lease) {
      check();
      const k = key(object.metadata?.namespace, object.metadata?.name);
      if (leases.has(k)) throw new KubeApiError(409, { reason: 'AlreadyExists', message: 'exists' }, 'fake');
      const stored = {
        ...structuredClone(object),
        metadata: { ...object.metadata, resourceVersion: String(++rv) },
      };
      leases.set(k, stored);
      return structuredClone(stored);
    },
    async replace(_k: unknown, object: Lease) {
      check();
      const k = key(object.metadata?.namespace, object.metadata?.name);
      const current = leases.get(k);
      if (!current || current.metadata?.resourceVersion !== object.metadata?.resourceVersion) {
        throw new KubeApiError(409, { reason: 'Conflict', message: 'the object has been modified' }, 'fake');
      }
      const stored = {
        ...structuredClone(object),
        metadata: { ...object.metadata, resourceVersion: String(++rv) },
      };
      leases.set(k, stored);
      return structuredClone(stored);
    },
  } as unknown as KubeApiClient;
  return {
    client,
    leases,
    setFailing(value: boolean) {
      failing = value;
    },
  };
}

const fast = { leaseDurationMs: 400, renewDeadlineMs: 250, retryPeriodMs: 30 };

function elector(
  client: KubeApiClient,
  identity: string,
  events: string[],
  extra: Partial<ConstructorParameters<typeof LeaderElector>[0]> = {},
) {
  return new LeaderElector({
    client,
    namespace: 'ns',
    name: 'lock',
    identity,
    ...fast,
    onStartedLeading: (signal) => {
      events.push(`${identity}:start`);
      signal.addEventListener('abort', () => events.push(`${identity}:signal-aborted`), { once: true });
    },
    onStoppedLeading: () => events.push(`${identity}:stop`),
    ...extra,
  });
}

describe('LeaderElector', () => {
  it('acquires a new Lease, renews it, and releases it on abort', async () => {
    const api = fakeLeases();
    const events: string[] = [];
    const registry = new Registry();
    const a = elector(api.client, 'a', events, { registry });
    const controller = new AbortController();
    const running = a.run(controller.signal);
    await expect.poll(() => a.isLeader).toBe(true);
    const first = api.leases.get('ns/lock')!.spec!;
    expect(first).toMatchObject({ holderIdentity: 'a', leaseDurationSeconds: 1, leaseTransitions: 0 });
    expect(first.renewTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    await expect.poll(() => api.leases.get('ns/lock')!.metadata!.resourceVersion).not.toBe('1');
    expect((await registry.getSingleMetric('tsmesh_leader_election_is_leader')!.get()).values[0]!.value).toBe(
      1,
    );
    controller.abort();
    await running;
    expect(api.leases.get('ns/lock')!.spec!.holderIdentity).toBe('');
    expect(events).toEqual(['a:start', 'a:signal-aborted', 'a:stop']);
    expect(a.isLeader).toBe(false);
    expect((await registry.getSingleMetric('tsmesh_leader_election_is_leader')!.get()).values[0]!.value).toBe(
      0,
    );
  });

  it('releases the Lease on abort even when a renewal was applied but its answer was lost to the abort', async () => {
    const api = fakeLeases();
    const controller = new AbortController();
    let loseNext = false;
    const replace = api.client.replace.bind(api.client);
    // The apiserver applies the renewal; the abort cancels the request before its answer arrives.
    const client = {
      ...api.client,
      replace: async (...args: Parameters<KubeApiClient['replace']>) => {
        const stored = await replace(...args);
        if (!loseNext) return stored;
        loseNext = false;
        controller.abort();
        throw new MeshError(MeshErrorCode.Aborted, 'request aborted');
      },
    } as KubeApiClient;
    const a = elector(client, 'a', []);
    const running = a.run(controller.signal);
    await expect.poll(() => a.isLeader).toBe(true);
    loseNext = true;
    await running;
    expect(loseNext).toBe(false);
    expect(api.leases.get('ns/lock')!.spec!.holderIdentity).toBe('');
  });

  it('of two candidates exactly one leads; the other takes over when the first aborts', async () => {
    const api = fakeLeases();
    const events: string[] = [];
    const leaders: string[] = [];
    const a = elector(api.client, 'a', events, { onNewLeader: (id) => leaders.push(id) });
    const b = elector(api.client, 'b', events);
    const ca = new AbortController();
    const cb = new AbortController();
    const ra = a.run(ca.signal);
    await expect.poll(() => a.isLeader).toBe(true);
    const rb = b.run(cb.signal);
    await new Promise((r) => setTimeout(r, 150));
    expect([a.isLeader, b.isLeader]).toEqual([true, false]);
    expect(b.leader).toBe('a');
    ca.abort();
    await ra;
    await expect.poll(() => b.isLeader).toBe(true);
    expect(api.leases.get('ns/lock')!.spec).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
    cb.abort();
    await rb;
    expect(events).toEqual([
      'a:start',
      'a:signal-aborted',
      'a:stop',
      'b:start',
      'b:signal-aborted',
      'b:stop',
    ]);
    expect(leaders).toEqual(['a']);
  });

  it('takes over a Lease whose holder stopped renewing, after a full lease duration', async () => {
    const api = fakeLeases();
    api.leases.set('ns/lock', {
      metadata: { namespace: 'ns', name: 'lock', resourceVersion: '1' },
      spec: {
        holderIdentity: 'dead',
        leaseDurationSeconds: 1,
        renewTime: formatMicroTime(Date.now()),
        leaseTransitions: 4,
      },
    });
    const events: string[] = [];
    const b = elector(api.client, 'b', events);
    const controller = new AbortController();
    const started = Date.now();
    const running = b.run(controller.signal);
    await expect.poll(() => b.isLeader, { timeout: 3000 }).toBe(true);
    // Measured from when b first saw the record, on b's own clock: at least the lease duration.
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(api.leases.get('ns/lock')!.spec!.leaseTransitions).toBe(5);
    controller.abort();
    await running;
  });

  it('steps down when it cannot renew within the renew deadline, and campaigns again', async () => {
    const api = fakeLeases();
    const events: string[] = [];
    const a = elector(api.client, 'a', events);
    const controller = new AbortController();
    const running = a.run(controller.signal);
    await expect.poll(() => a.isLeader).toBe(true);
    api.setFailing(true);
    await expect.poll(() => a.isLeader).toBe(false);
    expect(events).toEqual(['a:start', 'a:signal-aborted', 'a:stop']);
    api.setFailing(false);
    await expect.poll(() => a.isLeader).toBe(true);
    controller.abort();
    await running;
    expect(events.filter((e) => e === 'a:start')).toHaveLength(2);
  });

  it('loses a compare-and-swap race without error', async () => {
    const api = fakeLeases();
    const a = elector(api.client, 'a', []);
    expect(await a.tryAcquireOrRenew()).toBe(true);
    // Someone else writes the Lease between a's read and a's write.
    type Get = (...args: unknown[]) => Promise<Lease>;
    const mutable = api.client as unknown as { get: Get };
    const get = mutable.get.bind(api.client);
    mutable.get = async (...args: unknown[]) => {
      const lease = await get(...args);
      const other = structuredClone(lease) as Lease;
      other.spec!.holderIdentity = 'a';
      await api.client.replace(undefined as never, other);
      return lease;
    };
    expect(await a.tryAcquireOrRenew()).toBe(false);
  });

  it('validates its settings', () => {
    const { client } = fakeLeases();
    expect(() => new LeaderElector({ client, namespace: 'n', name: 'l', identity: '' })).toThrow(MeshError);
    expect(
      () =>
        new LeaderElector({
          client,
          namespace: 'n',
          name: 'l',
          identity: 'x',
          leaseDurationMs: 5,
          renewDeadlineMs: 10,
        }),
    ).toThrow(/renewDeadlineMs 10 must be less than leaseDurationMs 5/);
    expect(
      () => new LeaderElector({ client, namespace: 'n', name: 'l', identity: 'x', retryPeriodMs: 0 }),
    ).toThrow(MeshError);
  });
});
