// Peak-EWMA load estimate of one endpoint (Finagle's and linkerd2-proxy's): the round-trip time
// decays exponentially towards new observations, but a slower observation replaces it at once
// (the "peak"), so a slow endpoint is avoided immediately and forgiven gradually. The cost of an
// endpoint multiplies the estimate by the requests in flight, so a busy fast endpoint and an idle
// slow one compare fairly.

export interface PeakEwmaOptions {
  /** The estimate before any observation (linkerd's controller sends 30ms). */
  readonly defaultRttMs: number;
  /** Time constant of the decay (linkerd: 10s). */
  readonly decayMs: number;
}

export interface PeakEwma {
  /** Records one completed request's latency, observed at `nowMs`. */
  observe(rttMs: number, nowMs: number): void;
  /** The decayed estimate at `nowMs`. */
  rttAt(nowMs: number): number;
  /** Cost for P2C: estimate × (pending + 1); lower is better. */
  costAt(nowMs: number): number;
  /** Marks a request as started; returns the function to call when it ends. */
  start(): () => void;
  /** start() without a function per request: the caller calls leave() once per enter(). */
  enter(): void;
  leave(): void;
  readonly pending: number;
}

export function createPeakEwma(options: PeakEwmaOptions): PeakEwma {
  const decayMs = Math.max(1, options.decayMs);
  let rtt = Math.max(0, options.defaultRttMs);
  let stampMs: number | undefined;
  let pending = 0;

  const decayed = (nowMs: number): number => {
    if (stampMs === undefined) return rtt;
    const elapsed = Math.max(0, nowMs - stampMs);
    return rtt * Math.exp(-elapsed / decayMs);
  };

  const enter = (): void => {
    pending++;
  };
  const leave = (): void => {
    if (pending > 0) pending--;
  };

  return {
    get pending() {
      return pending;
    },
    observe(rttMs, nowMs) {
      const sample = Math.max(0, rttMs);
      if (stampMs === undefined) {
        rtt = sample;
      } else {
        const current = decayed(nowMs);
        if (sample > current) {
          rtt = sample;
        } else {
          const elapsed = Math.max(0, nowMs - stampMs);
          const w = Math.exp(-elapsed / decayMs);
          rtt = current * w + sample * (1 - w);
          // A zero-elapsed sample would give w = 1 and ignore it: blend at least a little.
          if (elapsed === 0) rtt = current * 0.9 + sample * 0.1;
        }
      }
      stampMs = Math.max(stampMs ?? nowMs, nowMs);
    },
    rttAt(nowMs) {
      return decayed(nowMs);
    },
    costAt(nowMs) {
      return (decayed(nowMs) + 1e-3) * (pending + 1);
    },
    start() {
      enter();
      let done = false;
      return () => {
        if (done) return;
        done = true;
        leave();
      };
    },
    enter,
    leave,
  };
}
