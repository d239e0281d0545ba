// HTTPLocalRateLimitPolicy enforcement: a GCRA limiter per scope (the server total, each client
// identity, each override), a burst of one second's worth of requests as linkerd2-proxy's governor
// quota allows. Per-identity state is bounded: idle entries are dropped when the map grows.
import type { CompiledRateLimit } from './compile-server.js';

export type RateLimitScope = 'total' | 'identity' | 'override';

const MAX_KEYS = 4096;

class Gcra {
  /** Theoretical arrival time of the next request, in ms. */
  private tat = 0;
  constructor(private readonly intervalMs: number) {}

  /** Whether a request at `now` conforms; if so it is counted. */
  take(now: number): boolean {
    const tat = Math.max(this.tat, now);
    // Burst: up to one second's worth of requests ahead of the steady rate.
    if (tat - now > 1000 - this.intervalMs) return false;
    this.tat = tat + this.intervalMs;
    return true;
  }

  idleAt(now: number): boolean {
    return this.tat <= now;
  }
}

class KeyedGcra {
  private readonly map = new Map<string, Gcra>();
  constructor(private readonly intervalMs: number) {}
  take(key: string, now: number): boolean {
    let g = this.map.get(key);
    if (!g) {
      if (this.map.size >= MAX_KEYS) for (const [k, v] of this.map) if (v.idleAt(now)) this.map.delete(k);
      g = new Gcra(this.intervalMs);
      this.map.set(key, g);
    }
    return g.take(now);
  }
}

export interface RateLimiter {
  /** undefined when the request may go on; otherwise the scope whose limit refused it. */
  check(clientId: string | undefined, now?: number): RateLimitScope | undefined;
}

export function createRateLimiter(limit: CompiledRateLimit): RateLimiter {
  const total = limit.totalRps === undefined ? undefined : new Gcra(1000 / limit.totalRps);
  const perIdentity = limit.identityRps === undefined ? undefined : new KeyedGcra(1000 / limit.identityRps);
  const overrides = limit.overrides.map((o) => ({ ids: o.identities, limiter: new KeyedGcra(1000 / o.rps) }));
  return {
    check(clientId, now = performance.now()) {
      if (clientId !== undefined) {
        const o = overrides.find((x) => x.ids.has(clientId));
        if (o) {
          if (!o.limiter.take(clientId, now)) return 'override';
        } else if (perIdentity && !perIdentity.take(clientId, now)) {
          return 'identity';
        }
      }
      if (total && !total.take(now)) return 'total';
      return undefined;
    },
  };
}
