// Circuit breaking by failure accrual, per endpoint, as linkerd2-proxy's consecutive-failures
// policy: `maxFailures` failures in a row eject the endpoint for a backoff penalty; when the
// penalty ends it is on probation and admits a single probe request; the probe's success closes
// the breaker (backoff reset), its failure ejects it again for the next, longer penalty.
import { createBackoff, type BackoffOptions } from '../identity/index.js';

export type BreakerState = 'closed' | 'open' | 'probation';

export interface FailureAccrualOptions {
  /** Consecutive failures that eject (linkerd default 7). */
  readonly maxFailures: number;
  /** Penalty backoff (linkerd default min 1s, max 1m, jitter 0.5). */
  readonly backoff: BackoffOptions;
  readonly now?: () => number;
  /** Told about every state change (metrics, logs). */
  onStateChange?(state: BreakerState): void;
}

export interface FailureAccrual {
  readonly state: BreakerState;
  /** True when a request may be sent now; in probation only one probe at a time is admitted. */
  admits(): boolean;
  /** Reserves the probe slot in probation (call when dispatching). */
  acquire(): void;
  /** Records a request's outcome. */
  record(success: boolean): void;
  /** Milliseconds until an open breaker goes to probation (0 when not open). */
  remainingMs(): number;
}

export function createFailureAccrual(options: FailureAccrualOptions): FailureAccrual {
  const now = options.now ?? Date.now;
  const backoff = createBackoff(options.backoff);
  let state: BreakerState = 'closed';
  let failures = 0;
  let openUntil = 0;
  let probing = false;

  const set = (next: BreakerState) => {
    if (next === state) return;
    state = next;
    options.onStateChange?.(next);
  };
  const refresh = () => {
    if (state === 'open' && now() >= openUntil) {
      probing = false;
      set('probation');
    }
  };
  const eject = () => {
    openUntil = now() + backoff.next();
    failures = 0;
    probing = false;
    set('open');
  };

  return {
    get state() {
      refresh();
      return state;
    },
    admits() {
      refresh();
      if (state === 'closed') return true;
      if (state === 'probation') return !probing;
      return false;
    },
    acquire() {
      refresh();
      if (state === 'probation') probing = true;
    },
    record(success) {
      refresh();
      if (success) {
        failures = 0;
        if (state !== 'closed') {
          backoff.reset();
          probing = false;
          set('closed');
        }
        return;
      }
      if (state === 'probation') {
        eject();
        return;
      }
      if (state === 'closed' && ++failures >= Math.max(1, options.maxFailures)) eject();
    },
    remainingMs() {
      refresh();
      return state === 'open' ? Math.max(0, openUntil - now()) : 0;
    },
  };
}

/** linkerd2-proxy's defaults (balancer.linkerd.io/failure-accrual-consecutive-*). */
export const DEFAULT_FAILURE_ACCRUAL = Object.freeze({
  maxFailures: 7,
  backoff: Object.freeze({ minMs: 1000, maxMs: 60_000, jitter: 0.5 }),
});
