// Shared, reference-counted views. Every stream that asks for the same thing (the same service and
// port, the same profile) shares one topic: its value is computed once per cluster change, not
// once per stream, and published in a LatestValue so a slow stream skips to the newest value
// instead of queueing. The last release drops the topic.
import { LatestValue, silentLogger, type Logger } from '@tsmesh/kube';

export interface TopicLease<V> {
  readonly value: LatestValue<V>;
  release(): void;
}

interface Topic<V> {
  readonly value: LatestValue<V>;
  readonly compute: (previous: V | undefined) => V;
  readonly equals: (a: V, b: V) => boolean;
  refs: number;
}

export class Topics<V> {
  readonly #topics = new Map<string, Topic<V>>();
  readonly #logger: Logger;
  readonly #name: string;

  constructor(name: string, logger: Logger = silentLogger) {
    this.#name = name;
    this.#logger = logger;
  }

  get size(): number {
    return this.#topics.size;
  }

  /** The topic for `key` (computed now if new); call `release()` when done. */
  acquire(
    key: string,
    compute: (previous: V | undefined) => V,
    equals: (a: V, b: V) => boolean,
  ): TopicLease<V> {
    let topic = this.#topics.get(key);
    if (!topic) {
      topic = { value: new LatestValue<V>(compute(undefined)), compute, equals, refs: 0 };
      this.#topics.set(key, topic);
    }
    topic.refs++;
    let released = false;
    const t = topic;
    return {
      value: t.value,
      release: () => {
        if (released) return;
        released = true;
        if (--t.refs === 0 && this.#topics.get(key) === t) {
          this.#topics.delete(key);
          t.value.close();
        }
      },
    };
  }

  /** Recomputes every topic (or those whose key `only` accepts); publishes those that changed. */
  refresh(only?: (key: string) => boolean): void {
    for (const [key, topic] of this.#topics) {
      if (only && !only(key)) continue;
      const previous = topic.value.get();
      let next: V;
      try {
        next = topic.compute(previous);
      } catch (err) {
        this.#logger.error({ topic: this.#name, key, error: String(err) }, 'recomputing a view failed');
        continue;
      }
      if (previous === undefined || !topic.equals(previous, next)) topic.value.set(next);
    }
  }

  /** Ends every topic's subscriptions (shutdown). */
  closeAll(): void {
    for (const topic of this.#topics.values()) topic.value.close();
    this.#topics.clear();
  }
}
