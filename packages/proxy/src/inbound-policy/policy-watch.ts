// InboundServerPolicies.WatchPort for one port as a latest-value watch: every message replaces the
// port's policy; when the stream ends or fails it is reopened after a backoff, and meanwhile the
// last policy stays in force (a control plane that is down never takes traffic down with it).
import type { InboundServerPoliciesClient } from '@tsmesh/core/data-plane';
import { createBackoff, type BackoffOptions } from '../identity/index.js';
import { compileServer, type CompiledServer } from './compile-server.js';

export interface PortWatchOptions {
  readonly client: InboundServerPoliciesClient;
  /** LINKERD2_PROXY_POLICY_WORKLOAD, passed through as the PortSpec workload. */
  readonly workload: string;
  readonly port: number;
  readonly signal: AbortSignal;
  readonly backoff?: BackoffOptions;
  onUpdate(server: CompiledServer): void;
  /** A stream failure or a Server that does not compile; the watch goes on. */
  onError(err: unknown): void;
}

const DEFAULT_BACKOFF: BackoffOptions = { minMs: 100, maxMs: 10_000, jitter: 0.1 };

export function watchPortPolicy(options: PortWatchOptions): void {
  const { client, signal } = options;
  const backoff = createBackoff(options.backoff ?? DEFAULT_BACKOFF);
  let timer: NodeJS.Timeout | undefined;
  signal.addEventListener('abort', () => clearTimeout(timer), { once: true });

  const open = () => {
    if (signal.aborted) return;
    const call = client.watchPort({ workload: options.workload, port: options.port });
    const cancel = () => call.cancel();
    signal.addEventListener('abort', cancel, { once: true });
    call.on('data', (message) => {
      let compiled: CompiledServer;
      try {
        compiled = compileServer(message);
      } catch (err) {
        options.onError(err);
        return;
      }
      backoff.reset();
      options.onUpdate(compiled);
    });
    call.on('error', (err) => {
      if (!signal.aborted) options.onError(err);
    });
    call.once('status', () => {
      signal.removeEventListener('abort', cancel);
      if (signal.aborted) return;
      timer = setTimeout(open, backoff.next());
      timer.unref?.();
    });
  };
  open();
}
