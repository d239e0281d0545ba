import { describe, expect, it } from 'vitest';
import { createFailureAccrual, type BreakerState } from './index.js';

describe('failure accrual', () => {
  it('ejects after N consecutive failures, probes after the penalty, closes on success', () => {
    let t = 0;
    const states: BreakerState[] = [];
    const b = createFailureAccrual({
      maxFailures: 3,
      backoff: { minMs: 100, maxMs: 1000, jitter: 0 },
      now: () => t,
      onStateChange: (s) => states.push(s),
    });
    b.record(false);
    b.record(true);
    b.record(false);
    b.record(false);
    expect(b.state).toBe('closed');
    b.record(false);
    expect(b.state).toBe('open');
    expect(b.admits()).toBe(false);
    expect(b.remainingMs()).toBe(100);
    t = 100;
    expect(b.admits()).toBe(true);
    b.acquire();
    expect(b.admits()).toBe(false);
    b.record(false);
    expect(b.state).toBe('open');
    expect(b.remainingMs()).toBe(200);
    t = 300;
    b.acquire();
    b.record(true);
    expect(b.state).toBe('closed');
    expect(states).toEqual(['open', 'probation', 'open', 'probation', 'closed']);
  });
});
