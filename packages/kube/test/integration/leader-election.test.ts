// Two candidates for one Lease on a real kube-apiserver: exactly one leads; when it aborts (and
// releases the Lease) the other takes over; when a leader vanishes without releasing, the other
// takes over once the lease duration has passed.
import { expect } from 'vitest';
import { kubeTest } from '@tsmesh/testenv/vitest';
import {
  CoreKinds,
  createKubeApiClient,
  LeaderElector,
  type KubeApiClient,
  type Lease,
} from '../../src/index.js';

interface Candidate {
  elector: LeaderElector;
  controller: AbortController;
  running: Promise<void>;
  /** [start, stop] leadership intervals (stop undefined while leading). */
  terms: [number, number | undefined][];
}

function candidate(
  client: KubeApiClient,
  namespace: string,
  identity: string,
  releaseOnAbort = true,
  leaseDurationMs = 2000,
): Candidate {
  const terms: Candidate['terms'] = [];
  const controller = new AbortController();
  const elector = new LeaderElector({
    client,
    namespace,
    name: 'controller-lock',
    identity,
    leaseDurationMs,
    renewDeadlineMs: leaseDurationMs * 0.75,
    retryPeriodMs: 200,
    releaseOnAbort,
    onStartedLeading: () => {
      terms.push([Date.now(), undefined]);
    },
    onStoppedLeading: () => {
      terms.at(-1)![1] = Date.now();
    },
  });
  return { elector, controller, terms, running: elector.run(controller.signal) };
}

function overlaps(a: Candidate['terms'], b: Candidate['terms']): boolean {
  return a.some(([s1, e1]) => b.some(([s2, e2]) => s1 < (e2 ?? Infinity) && s2 < (e1 ?? Infinity)));
}

kubeTest(
  'two electors: exactly one leads, the other takes over after the first aborts',
  async ({ kubeConfig, namespace }) => {
    const client = createKubeApiClient(kubeConfig);
    // A lease far longer than the takeover wait below: a successor that had to wait it out (the
    // Lease not released) could not take over in time, however loaded the machine.
    const leaseDurationMs = 30_000;
    const a = candidate(client, namespace, 'candidate-a', true, leaseDurationMs);
    const b = candidate(client, namespace, 'candidate-b', true, leaseDurationMs);
    try {
      await expect
        .poll(() => [a.elector.isLeader, b.elector.isLeader].filter(Boolean).length, { timeout: 10_000 })
        .toBe(1);
      // Stays that way over several renewals.
      for (let i = 0; i < 5; i++) {
        await new Promise((r) => setTimeout(r, 200));
        expect([a.elector.isLeader, b.elector.isLeader].filter(Boolean)).toHaveLength(1);
      }
      const [leader, follower] = a.elector.isLeader ? [a, b] : [b, a];
      const lease = await client.get<Lease>(CoreKinds.Lease, { namespace, name: 'controller-lock' });
      expect(lease.spec?.holderIdentity).toBe(leader === a ? 'candidate-a' : 'candidate-b');
      expect(follower.elector.leader).toBe(lease.spec?.holderIdentity);

      const abortedAt = Date.now();
      leader.controller.abort();
      await leader.running;
      await expect.poll(() => follower.elector.isLeader, { timeout: 10_000 }).toBe(true);
      // Released, so the successor did not wait out the lease duration.
      expect(Date.now() - abortedAt).toBeLessThan(leaseDurationMs);
      const after = await client.get<Lease>(CoreKinds.Lease, { namespace, name: 'controller-lock' });
      expect(after.spec?.holderIdentity).toBe(follower === a ? 'candidate-a' : 'candidate-b');
      expect(after.spec?.leaseTransitions).toBe(1);
      expect(overlaps(a.terms, b.terms)).toBe(false);
    } finally {
      a.controller.abort();
      b.controller.abort();
      await Promise.all([a.running, b.running]);
      client.close();
    }
  },
);

kubeTest(
  'a leader that vanishes without releasing is replaced after the lease duration',
  async ({ kubeConfig, namespace }) => {
    const client = createKubeApiClient(kubeConfig);
    const a = candidate(client, namespace, 'candidate-a', false);
    await expect.poll(() => a.elector.isLeader, { timeout: 10_000 }).toBe(true);
    const b = candidate(client, namespace, 'candidate-b');
    try {
      await new Promise((r) => setTimeout(r, 500));
      expect(b.elector.isLeader).toBe(false);
      const goneAt = Date.now();
      a.controller.abort(); // stops renewing, keeps the Lease
      await a.running;
      expect(
        (await client.get<Lease>(CoreKinds.Lease, { namespace, name: 'controller-lock' })).spec
          ?.holderIdentity,
      ).toBe('candidate-a');
      await expect.poll(() => b.elector.isLeader, { timeout: 10_000 }).toBe(true);
      expect(Date.now() - goneAt).toBeGreaterThanOrEqual(1000);
      expect(overlaps(a.terms, b.terms)).toBe(false);
    } finally {
      b.controller.abort();
      await b.running;
      client.close();
    }
  },
);
