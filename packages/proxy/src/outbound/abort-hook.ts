// How the levels of the outbound stack tell each other that a request is over (the client went
// away, a route timeout expired): a plain callback registration instead of an AbortSignal. A
// signal per request, its EventTarget listener and the abort event were measurable per request in
// the mesh outbound's profiles (bench/README.md, "Proxy outbound mesh"); the exchange, the
// balancer's queue and the endpoint client need one callback each, at most, at a time.

/** Called once, when the hook aborts; the reason is the hook's `reason`. */
export type AbortListener = () => void;

export interface AbortHook {
  readonly aborted: boolean;
  /** Why it aborted (a ProxyError for the proxy's own timeouts); undefined before. */
  readonly reason: unknown;
  /** Calls `listener` once when the hook aborts; never when it already has (check `aborted`). */
  addListener(listener: AbortListener): void;
  removeListener(listener: AbortListener): void;
}

/**
 * An AbortHook that its owner aborts. One listener is kept in a field (the common case: the
 * endpoint client's, or the balancer queue's), more in an array made when needed.
 */
export class AbortHooks implements AbortHook {
  aborted = false;
  reason: unknown = undefined;
  private first: AbortListener | undefined;
  private more: AbortListener[] | undefined;

  addListener(listener: AbortListener): void {
    if (this.aborted) return;
    if (this.first === undefined) this.first = listener;
    else (this.more ??= []).push(listener);
  }

  removeListener(listener: AbortListener): void {
    if (this.first === listener) {
      this.first = undefined;
      return;
    }
    const more = this.more;
    if (!more) return;
    const i = more.indexOf(listener);
    if (i >= 0) more.splice(i, 1);
  }

  /** Aborts with `reason` and calls the listeners once; false when it had aborted already. */
  abort(reason: unknown): boolean {
    if (this.aborted) return false;
    this.aborted = true;
    this.reason = reason;
    const first = this.first;
    const more = this.more;
    this.first = undefined;
    this.more = undefined;
    first?.();
    if (more) for (const l of more) l();
    return true;
  }
}

/**
 * A hook that follows `parent` and can also be aborted on its own (one attempt of a request under
 * the request's hook, with the attempt's response timeout). `detach()` stops following the parent.
 */
export class ChildAbortHooks extends AbortHooks {
  private readonly onParent = () => this.abort(this.parent.reason);

  constructor(private readonly parent: AbortHook) {
    super();
    if (parent.aborted) this.abort(parent.reason);
    else parent.addListener(this.onParent);
  }

  detach(): void {
    this.parent.removeListener(this.onParent);
  }
}

/** An AbortHook over an AbortSignal, for callers that hold one (tunnels, opaque connections). */
export function abortHookOf(signal: AbortSignal): AbortHook {
  return {
    get aborted() {
      return signal.aborted;
    },
    get reason() {
      return signal.reason as unknown;
    },
    // The listener ignores the Event argument it is called with.
    addListener: (listener) => signal.addEventListener('abort', listener, { once: true }),
    removeListener: (listener) => signal.removeEventListener('abort', listener),
  };
}
