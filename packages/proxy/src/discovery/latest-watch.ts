// A latest-value watch over a server-streaming gRPC call (Destination.Get/GetProfile,
// OutboundPolicies.Watch). Readers see only the newest value, never a queue. When the stream ends
// or fails the watch reconnects after a backoff and keeps serving its last value meanwhile — the
// proxy must keep routing with what it knew while the control plane is away. A reconnected
// stream's first message replaces the state (the server resends the whole picture).
import type { ClientReadableStream, ServiceError } from '@grpc/grpc-js';
import type { Backoff } from '../identity/index.js';

export interface LatestWatch<T> {
  /** The newest value, or undefined before the first. */
  current(): T | undefined;
  /** The first value, or undefined when none arrives within timeoutMs. */
  first(timeoutMs: number): Promise<T | undefined>;
  /** Called on every new value; returns the unsubscribe function. */
  subscribe(listener: (value: T) => void): () => void;
  /** True while a stream is open and has delivered its first message. */
  readonly connected: boolean;
  /** Streams opened so far (1 + reconnects). */
  readonly streams: number;
  close(): void;
}

export interface StreamWatchOptions<M, T> {
  /** Opens a fresh stream. */
  open(): ClientReadableStream<M>;
  /** Folds a message into the value; `fresh` marks the first message of a new stream. */
  reduce(previous: T | undefined, message: M, fresh: boolean): T;
  /** A value for a failed stream (e.g. NOT_FOUND → "unknown target"), or undefined to keep the last. */
  reduceError?(error: ServiceError, previous: T | undefined): T | undefined;
  readonly backoff: Backoff;
  onError?(error: Error): void;
}

export function createStreamWatch<M, T>(options: StreamWatchOptions<M, T>): LatestWatch<T> {
  let value: T | undefined;
  let closed = false;
  let connected = false;
  let streams = 0;
  let call: ClientReadableStream<M> | undefined;
  let timer: NodeJS.Timeout | undefined;
  const listeners = new Set<(value: T) => void>();

  const publish = (next: T) => {
    value = next;
    for (const l of [...listeners]) l(next);
  };

  const schedule = () => {
    if (closed || timer) return;
    connected = false;
    timer = setTimeout(() => {
      timer = undefined;
      connect();
    }, options.backoff.next());
    timer.unref?.();
  };

  const connect = () => {
    if (closed) return;
    let fresh = true;
    let current: ClientReadableStream<M>;
    try {
      current = options.open();
    } catch (err) {
      options.onError?.(err as Error);
      schedule();
      return;
    }
    call = current;
    streams++;
    current.on('data', (message: M) => {
      if (closed || call !== current) return;
      let next: T;
      try {
        next = options.reduce(fresh ? undefined : value, message, fresh);
      } catch (err) {
        options.onError?.(err as Error);
        return;
      }
      if (fresh) {
        fresh = false;
        connected = true;
        options.backoff.reset();
      }
      publish(next);
    });
    const ended = (err?: ServiceError) => {
      if (call !== current) return;
      call = undefined;
      if (closed) return;
      if (err) {
        options.onError?.(err);
        const replacement = options.reduceError?.(err, value);
        if (replacement !== undefined) publish(replacement);
      }
      schedule();
    };
    current.on('error', (err: ServiceError) => ended(err));
    current.on('end', () => ended());
  };

  connect();

  return {
    current: () => value,
    get connected() {
      return connected;
    },
    get streams() {
      return streams;
    },
    first(timeoutMs) {
      if (value !== undefined) return Promise.resolve(value);
      return new Promise((resolve) => {
        const t = setTimeout(() => {
          off();
          resolve(value);
        }, timeoutMs);
        const off = this.subscribe((v) => {
          clearTimeout(t);
          off();
          resolve(v);
        });
      });
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close() {
      if (closed) return;
      closed = true;
      connected = false;
      if (timer) clearTimeout(timer);
      timer = undefined;
      const c = call;
      call = undefined;
      c?.cancel();
      listeners.clear();
    },
  };
}
