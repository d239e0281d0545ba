// Waiting that ends early when an AbortSignal fires, without leaving listeners or timers behind.

/** Resolves after `ms` (true) or as soon as `signal` aborts (false). Never rejects. */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * An AbortController that also aborts when any of `parents` does. `dispose()` removes the
 * listeners it put on the parents (call it when the child is done, or the parents keep it alive).
 */
export function linkedAbortController(
  ...parents: (AbortSignal | undefined)[]
): AbortController & { dispose(): void } {
  const controller = new AbortController();
  const cleanups: (() => void)[] = [];
  for (const parent of parents) {
    if (!parent) continue;
    if (parent.aborted) {
      controller.abort(parent.reason);
      break;
    }
    const onAbort = () => controller.abort(parent.reason);
    parent.addEventListener('abort', onAbort, { once: true });
    cleanups.push(() => parent.removeEventListener('abort', onAbort));
  }
  const dispose = () => {
    for (const cleanup of cleanups.splice(0)) cleanup();
  };
  controller.signal.addEventListener('abort', dispose, { once: true });
  return Object.assign(controller, { dispose });
}
