// A route's timeouts for one exchange: the request timeout (the whole exchange), the response
// timeout (one attempt, until its response headers) and the idle timeout (nothing received for
// that long). An exchange has one deadline at a time, the earliest of the three; when it is due
// the exchange expires what is due and takes the next one. Response data only records when it
// arrived. The deadlines of all exchanges share one node timer (DeadlineQueue, a binary heap):
// a Timeout, its callback and the exchange's own timer state per request were measurable in the
// mesh outbound's allocation profiles, and most exchanges end long before any deadline.
import { ProxyError, ProxyErrorCode } from '../../errors/index.js';
import type { AbortHooks } from '../abort-hook.js';

const monotonicNow = (): number => performance.now();

/**
 * The pending deadlines of many RouteTimers, earliest first, on one node timer. The timer is
 * armed for the earliest; a deadline removed before it (the usual case: the exchange ended) does
 * not re-arm it, the timer fires then, finds nothing due and re-arms for what is left.
 */
export class DeadlineQueue {
  private readonly heap: RouteTimers[] = [];
  private timer: NodeJS.Timeout | undefined = undefined;
  private timerAt = Infinity;

  constructor(readonly now: () => number = monotonicNow) {}

  get size(): number {
    return this.heap.length;
  }

  /** Puts `t` in the queue at `at` (or moves it there). */
  set(t: RouteTimers, at: number): void {
    const heap = this.heap;
    if (t.queueIndex < 0) {
      t.dueAt = at;
      t.queueIndex = heap.length;
      heap.push(t);
      this.up(t.queueIndex);
    } else {
      const before = t.dueAt;
      t.dueAt = at;
      if (at < before) this.up(t.queueIndex);
      else this.down(t.queueIndex);
    }
    if (at < this.timerAt) this.arm(at);
  }

  remove(t: RouteTimers): void {
    const i = t.queueIndex;
    if (i < 0) return;
    const heap = this.heap;
    const last = heap.pop() as RouteTimers;
    t.queueIndex = -1;
    if (last === t) return;
    heap[i] = last;
    last.queueIndex = i;
    this.up(i);
    this.down(last.queueIndex);
  }

  private arm(at: number): void {
    clearTimeout(this.timer);
    this.timerAt = at;
    // Node's timers count whole milliseconds from the loop's cached time: one may fire a little
    // before `at` on this clock; nothing is due then and it re-arms for the rest.
    this.timer = setTimeout(this.fire, Math.max(1, Math.ceil(at - this.now())));
    // An exchange waiting keeps the process up by its sockets; a deadline whose exchange ended
    // must not (the proxy exits once drained).
    this.timer.unref?.();
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    this.timerAt = Infinity;
    const heap = this.heap;
    const now = this.now();
    // What is due leaves the queue first; expiring it may put it back (its next deadline).
    while (heap.length > 0 && (heap[0] as RouteTimers).dueAt <= now) {
      const t = heap[0] as RouteTimers;
      this.remove(t);
      t.due(now);
    }
    // Expiring may have armed the timer for a later deadline than one already queued.
    const top = heap[0];
    if (top !== undefined && top.dueAt < this.timerAt) this.arm(top.dueAt);
  };

  private up(i: number): void {
    const heap = this.heap;
    const t = heap[i] as RouteTimers;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = heap[p] as RouteTimers;
      if (parent.dueAt <= t.dueAt) break;
      heap[i] = parent;
      parent.queueIndex = i;
      i = p;
    }
    heap[i] = t;
    t.queueIndex = i;
  }

  private down(i: number): void {
    const heap = this.heap;
    const n = heap.length;
    const t = heap[i] as RouteTimers;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && (heap[r] as RouteTimers).dueAt < (heap[l] as RouteTimers).dueAt ? r : l;
      const child = heap[c] as RouteTimers;
      if (child.dueAt >= t.dueAt) break;
      heap[i] = child;
      child.queueIndex = i;
      i = c;
    }
    heap[i] = t;
    t.queueIndex = i;
  }
}

/** The proxy's queue (tests make their own, with their clock). */
const SHARED = new DeadlineQueue();

export interface RouteTimersOptions {
  readonly requestMs: number | undefined;
  readonly idleMs: number | undefined;
  /** Ends the exchange (request and idle timeouts). */
  expire(reason: ProxyError): void;
  /** The queue the deadlines wait in, and its clock (tests); default: the proxy's. */
  readonly queue?: DeadlineQueue;
}

export class RouteTimers {
  /** The queue's bookkeeping: the deadline this exchange waits for, and where in the heap. */
  dueAt = Infinity;
  queueIndex = -1;
  private readonly queue: DeadlineQueue;
  private readonly requestAt: number;
  private lastActivity: number;
  private responseAt = Infinity;
  private attempt: AbortHooks | undefined;
  private attemptMs = 0;
  private stopped = false;

  constructor(private readonly options: RouteTimersOptions) {
    this.queue = options.queue ?? SHARED;
    const now = this.queue.now();
    this.requestAt = options.requestMs === undefined ? Infinity : now + options.requestMs;
    this.lastActivity = now;
    this.schedule();
  }

  /** Something was received: the idle timeout starts again. */
  touch(): void {
    this.lastActivity = this.queue.now();
  }

  /** touch() as a listener (made for routes with an idle timeout only). */
  get toucher(): () => void {
    return (this.#toucher ??= () => this.touch());
  }

  #toucher: (() => void) | undefined;

  /** An attempt with its own response timeout: `hook` is aborted if no headers come within `ms`. */
  startAttempt(hook: AbortHooks, ms: number): void {
    this.attempt = hook;
    this.attemptMs = ms;
    this.responseAt = this.queue.now() + ms;
    this.schedule();
  }

  /** The attempt has its response headers (or failed): its timeout no longer applies. */
  endAttempt(): void {
    // The deadline may stay queued for it: when it is due, nothing is and the next one is taken.
    this.attempt = undefined;
    this.responseAt = Infinity;
  }

  stop(): void {
    this.stopped = true;
    this.attempt = undefined;
    this.queue.remove(this);
  }

  private idleAt(): number {
    return this.options.idleMs === undefined ? Infinity : this.lastActivity + this.options.idleMs;
  }

  /** Queues the earliest deadline, unless one queued already comes no later. */
  private schedule(): void {
    if (this.stopped) return;
    const at = Math.min(this.requestAt, this.responseAt, this.idleAt());
    if (at === Infinity) return;
    if (this.queueIndex >= 0 && this.dueAt <= at) return;
    this.queue.set(this, at);
  }

  /** The queued deadline came (the queue took it out): expire what is due, queue the next. */
  due(now: number): void {
    if (this.stopped) return;
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
    this.schedule();
  }
}
