// The recent-errors log behind the admin endpoint /errors: every error the proxy produces itself
// (a refused request or connection, a synthesized 4xx/5xx) is recorded with its stable code
// (src/errors), what it concerned and why — "policy deny" with the rule, "endpoint reset", …
// A fixed-size ring buffer: recording is O(1), memory is bounded, and the newest entries win.
import { PROXY_ERRORS, type ProxyErrorCode } from '../errors/index.js';

export interface RecentErrorInput {
  readonly code: ProxyErrorCode;
  readonly direction: 'inbound' | 'outbound';
  /** The sentence the client saw (l5d-proxy-error), naming the cause. */
  readonly message: string;
  /** What was being served: `GET /path`, `tcp`, … */
  readonly request?: string;
  /** `ip:port` the traffic was for. */
  readonly target?: string;
  /** The client's address and identity, when known. */
  readonly client?: string;
  readonly clientId?: string;
  /** The policy rule involved (route, authorization, rate limit), when there is one. */
  readonly rule?: string;
  /** The underlying error's message (e.g. ECONNRESET), when there is one. */
  readonly cause?: string;
}

export interface RecentError extends RecentErrorInput {
  readonly time: string;
  /** The catalogue's one-line description of the code. */
  readonly description: string;
  readonly httpStatus: number;
}

export interface RecentErrors {
  record(error: RecentErrorInput): void;
  /** Newest first. */
  list(): RecentError[];
  /** Total recorded since start, including entries the ring has dropped. */
  readonly total: number;
}

export const DEFAULT_RECENT_ERRORS_CAPACITY = 256;

export function createRecentErrors(capacity = DEFAULT_RECENT_ERRORS_CAPACITY): RecentErrors {
  if (!Number.isInteger(capacity) || capacity < 1)
    throw new RangeError(`capacity must be ≥ 1, got ${capacity}`);
  const ring: (RecentError | undefined)[] = new Array<RecentError | undefined>(capacity);
  let next = 0;
  let total = 0;
  return {
    record(input) {
      const info = PROXY_ERRORS[input.code];
      ring[next] = {
        time: new Date().toISOString(),
        ...input,
        description: info.description,
        httpStatus: info.httpStatus,
      };
      next = (next + 1) % capacity;
      total++;
    },
    list() {
      const out: RecentError[] = [];
      for (let i = 1; i <= capacity; i++) {
        const e = ring[(next - i + capacity) % capacity];
        if (e) out.push(e);
      }
      return out;
    },
    get total() {
      return total;
    },
  };
}
