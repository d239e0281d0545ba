import { DefaultInboundPolicy, type InboundServerPoliciesClient } from '@tsmesh/core';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createInboundPolicy } from './index.js';

/** A client whose watchPort streams never answer, counting opens and cancels per port. */
function silentClient() {
  const opened: number[] = [];
  const cancelled: number[] = [];
  const client = {
    watchPort(spec: { port: number }) {
      opened.push(spec.port);
      const handlers = new Map<string, (...a: unknown[]) => void>();
      return {
        on(ev: string, f: (...a: unknown[]) => void) {
          handlers.set(ev, f);
          return this;
        },
        once(ev: string, f: (...a: unknown[]) => void) {
          handlers.set(ev, f);
          return this;
        },
        cancel() {
          cancelled.push(spec.port);
        },
      };
    },
  } as unknown as InboundServerPoliciesClient;
  return { client, opened, cancelled };
}

describe('inbound policy watches', () => {
  afterEach(() => vi.useRealTimers());

  it('stops watching ports nobody used for the idle timeout, keeping the pinned ones', () => {
    vi.useFakeTimers();
    const { client, opened, cancelled } = silentClient();
    const policy = createInboundPolicy({
      defaultPolicy: DefaultInboundPolicy.AllUnauthenticated,
      clusterNetworks: [],
      registry: new Registry(),
      controlPlane: { client, workload: 'ns:pod' },
      ports: [8080],
      idleTimeoutMs: 5000,
    });
    policy.port(9000);
    expect(opened).toEqual([8080, 9000]);
    vi.advanceTimersByTime(4000);
    policy.port(9000); // still in use
    vi.advanceTimersByTime(4000);
    expect(cancelled).toEqual([]);
    vi.advanceTimersByTime(6000);
    expect(cancelled).toEqual([9000]);
    policy.port(9000); // used again: a new watch
    expect(opened).toEqual([8080, 9000, 9000]);
    policy.close();
    expect(cancelled.sort()).toEqual([8080, 9000, 9000]);
  });
});
