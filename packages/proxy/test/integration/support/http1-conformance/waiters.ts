// Bounded, event-driven waits for the HTTP/1 engine conformance suite: a condition is re-checked
// whenever its source says something changed (no polling), and a wait that runs out says what it
// waited for and what it saw.

export class Waiters {
  private readonly checks = new Set<() => void>();

  /** Something changed: re-check every pending wait. */
  notify(): void {
    for (const check of [...this.checks]) check();
  }

  /**
   * Resolves with the first value `check` returns (checked now and on every notify); rejects when
   * `check` throws, or after `timeoutMs` with `what` and `seen()` in the message.
   */
  until<T>(what: string, timeoutMs: number, check: () => T | undefined, seen?: () => string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const attempt = () => {
        let value: T | undefined;
        try {
          value = check();
        } catch (err) {
          stop();
          reject(err as Error);
          return;
        }
        if (value === undefined) return;
        stop();
        resolve(value);
      };
      const timer = setTimeout(() => {
        stop();
        reject(new Error(`${what}: not within ${timeoutMs} ms${seen ? ` (${seen()})` : ''}`));
      }, timeoutMs);
      const stop = () => {
        clearTimeout(timer);
        this.checks.delete(attempt);
      };
      this.checks.add(attempt);
      attempt();
    });
  }
}

/** `promise`, or a rejection saying `what` did not happen within `timeoutMs`. */
export async function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: not within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
