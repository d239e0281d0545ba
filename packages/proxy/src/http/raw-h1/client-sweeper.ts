// The timeouts of the raw-socket engine's client connections, checked by one timer per engine
// rather than one per connection: a request head that takes longer than `headersTimeoutMs` from
// its first byte is answered 408, a connection idle between requests longer than
// `keepAliveTimeoutMs` is closed. Both default to node:http's server defaults.
import type { ClientConnection } from './client-connection.js';
import { proxyResponse } from './forwarded-head.js';

const HEADERS_TIMEOUT_MS = 60_000;
const KEEP_ALIVE_TIMEOUT_MS = 60_000;

export interface ClientTimeouts {
  /** A request head must be complete this long after its first byte (default 60 s): else 408. */
  readonly headersTimeoutMs?: number;
  /** A client connection idle between requests is closed after this (default 60 s). */
  readonly keepAliveTimeoutMs?: number;
}

/** Starts checking `clients` (the set the caller keeps); returns what stops it. */
export function sweepClients(
  clients: ReadonlySet<ClientConnection>,
  timeouts: ClientTimeouts,
  onHeadTimeout: ((err: Error) => void) | undefined,
): () => void {
  const headersTimeoutMs = timeouts.headersTimeoutMs ?? HEADERS_TIMEOUT_MS;
  const keepAliveTimeoutMs = timeouts.keepAliveTimeoutMs ?? KEEP_ALIVE_TIMEOUT_MS;
  const timer = setInterval(
    () => {
      const now = performance.now();
      for (const c of clients) {
        if (c.busy || c.closing) continue;
        if (c.headSince > 0) {
          if (now - c.headSince > headersTimeoutMs) {
            onHeadTimeout?.(new Error('request head not received in time'));
            c.write(
              proxyResponse(
                408,
                { 'content-type': 'text/plain' },
                'request head not received in time\n',
                true,
              ),
            );
            c.end();
          }
        } else if (now - c.idleSince > keepAliveTimeoutMs) c.destroy();
      }
    },
    Math.max(50, Math.min(1000, Math.min(headersTimeoutMs, keepAliveTimeoutMs) / 4)),
  );
  timer.unref();
  return () => clearInterval(timer);
}
