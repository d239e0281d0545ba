// A route's timeouts for one exchange on one timer: the request timeout (the whole exchange), the
// response timeout (one attempt, until its response headers) and the idle timeout (nothing
// received for that long). A timer per timeout, re-armed per response chunk for the idle one, was
// measurable per request in the mesh outbound's profiles; here the timer is armed for the
// earliest deadline and, when it fires, expires what is due and re-arms for what is left. Response
// data only records the time it arrived.
import { ProxyError, ProxyErrorCode } from '../../errors/index.js';
import type { AbortHooks } from '../abort-hook.js';

export interface RouteTimersOptions {
  readonly requestMs: number | undefined;
  readonly idleMs: number | undefined;
  /** Ends the exchange (request and idle timeouts). */
  expire(reason: ProxyError): void;
  /** Milliseconds on a monotonic clock (tests). */
  readonly now?: () => number;
}

const monotonicNow = (): number => performance.now();

export class RouteTimers {
  private readonly now: () => number;
  private readonly requestAt: number;
  private lastActivity: number;
  private responseAt = Infinity;
  private attempt: AbortHooks | undefined;
  private attemptMs = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private stopped = false;

  constructor(private readonly options: RouteTimersOptions) {
    this.now = options.now ?? monotonicNow;
    const now = this.now();
    this.requestAt = options.requestMs === undefined ? Infinity : now + options.requestMs;
    this.lastActivity = now;
    this.schedule(now);
  }

  /** Something was received: the idle timeout starts again. */
  touch(): void {
    this.lastActivity = this.now();
  }

  /** touch() as a listener (made for routes with an idle timeout only). */
  get toucher(): () => void {
    return (this.#toucher ??= () => this.touch());
  }

  #toucher: (() => void) | undefined;

  /** An attempt with its own response timeout: `hook` is aborted if no headers come within `ms`. */
  startAttempt(hook: AbortHooks, ms: number): void {
    const now = this.now();
    this.attempt = hook;
    this.attemptMs = ms;
    this.responseAt = now + ms;
    this.schedule(now);
  }

  /** The attempt has its response headers (or failed): its timeout no longer applies. */
  endAttempt(): void {
    // The timer may stay armed for it: when it fires, nothing is due and it re-arms for the rest.
    this.attempt = undefined;
    this.responseAt = Infinity;
  }

  stop(): void {
    this.stopped = true;
    this.attempt = undefined;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private idleAt(): number {
    return this.options.idleMs === undefined ? Infinity : this.lastActivity + this.options.idleMs;
  }

  private schedule(now: number): void {
    if (this.stopped) return;
    const at = Math.min(this.requestAt, this.responseAt, this.idleAt());
    if (at === Infinity) return;
    // An armed timer that fires no later looks again then.
    if (this.timer !== undefined && this.timerAt <= at) return;
    clearTimeout(this.timer);
    this.timerAt = at;
    // Node's timers count whole milliseconds from the loop's cached time: one may fire a little
    // before `at` on this clock, and then re-arms for the rest.
    this.timer = setTimeout(this.fire, Math.max(1, Math.ceil(at - now)));
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    this.timerAt = Infinity;
    if (this.stopped) return;
    const now = this.now();
    if (now >= this.requestAt) {
      this.options.expire(
        new ProxyError(
          ProxyErrorCode.RequestTimeout,
          `no complete response within the route's ${this.options.requestMs}ms request timeout`,
        ),
      );
      return;
    }
    if (now >= this.idleAt()) {
      this.options.expire(
        new ProxyError(
          ProxyErrorCode.IdleTimeout,
          `nothing moved for the route's ${this.options.idleMs}ms idle timeout`,
        ),
      );
      return;
    }
    if (this.attempt && now >= this.responseAt) {
      const hook = this.attempt;
      this.endAttempt();
      hook.abort(
        new ProxyError(ProxyErrorCode.ResponseTimeout, `no response headers within ${this.attemptMs}ms`),
      );
    }
    this.schedule(now);
  };
}
