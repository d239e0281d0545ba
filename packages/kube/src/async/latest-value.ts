// A latest-value cell: writers set values; each reader iterates and sees the current value, then
// only the newest value after each change it missed — never a backlog. This is how discovery
// watches behave in linkerd2-proxy (a watch channel, not a queue).

export class LatestValue<T> {
  #value: T | undefined;
  #has = false;
  #version = 0;
  #closed = false;
  #waiters = new Set<() => void>();

  constructor(...initial: [] | [T]) {
    if (initial.length) {
      this.#value = initial[0];
      this.#has = true;
      this.#version = 1;
    }
  }

  get hasValue(): boolean {
    return this.#has;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The current value, or undefined before the first `set`. */
  get(): T | undefined {
    return this.#value;
  }

  set(value: T): void {
    if (this.#closed) return;
    this.#value = value;
    this.#has = true;
    this.#version++;
    this.#wake();
  }

  /** Ends every subscription (after they have seen the last value). */
  close(): void {
    this.#closed = true;
    this.#wake();
  }

  #wake(): void {
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const wake of waiters) wake();
  }

  /** Current value first (if any), then the latest after each change; ends on close or abort. */
  async *subscribe(signal?: AbortSignal): AsyncGenerator<T> {
    let seen = 0;
    while (!signal?.aborted) {
      if (this.#has && this.#version !== seen) {
        seen = this.#version;
        yield this.#value as T;
        continue;
      }
      if (this.#closed) return;
      await new Promise<void>((resolve) => {
        const done = () => {
          signal?.removeEventListener('abort', done);
          this.#waiters.delete(done);
          resolve();
        };
        this.#waiters.add(done);
        signal?.addEventListener('abort', done, { once: true });
      });
    }
  }
}
