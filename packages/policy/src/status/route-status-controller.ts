// Writes route status in Kubernetes mode, only while holding the Lease `policy-controller-write`
// (Linkerd's name), after every published state. Writes go to the /status subresource as a JSON
// merge patch; a failed write is logged and retried with the next state or after a short delay.
import {
  createLeaderElector,
  resourcePath,
  silentLogger,
  type KubeApiClient,
  type KubeObject,
  type LeaderElector,
  type Logger,
} from '@tsmesh/kube';
import type { Registry } from 'prom-client';
import { counter } from '../metrics/index.js';
import { ROUTE_KINDS, type PolicyIndexer } from '../indexing/index.js';
import { desiredRouteParents, parentsDiffer, type RouteParentStatus } from './route-status.js';

export const STATUS_LEASE_NAME = 'policy-controller-write';

export interface RouteStatusControllerOptions {
  readonly client: KubeApiClient;
  readonly indexer: PolicyIndexer;
  readonly leaseNamespace: string;
  readonly identity: string;
  readonly leaseDurationMs?: number;
  readonly renewDeadlineMs?: number;
  readonly retryPeriodMs?: number;
  readonly logger?: Logger;
  readonly registry?: Registry;
}

export interface RouteStatusController {
  readonly elector: LeaderElector;
  close(): Promise<void>;
}

export function startRouteStatusController(options: RouteStatusControllerOptions): RouteStatusController {
  const logger = options.logger ?? silentLogger;
  const controller = new AbortController();
  const writes = options.registry
    ? counter(options.registry, {
        name: 'policy_route_status_writes_total',
        help: 'Route status patches, by result.',
        labelNames: ['result'],
      })
    : undefined;

  async function reconcile(signal: AbortSignal): Promise<boolean> {
    const state = options.indexer.current;
    if (!state) return true;
    let ok = true;
    for (const kind of ROUTE_KINDS) {
      const snapshot = options.indexer.objects(kind);
      if (!snapshot) continue;
      for (const route of snapshot as Iterable<KubeObject & { status?: { parents?: RouteParentStatus[] } }>) {
        if (signal.aborted) return ok;
        const desired = desiredRouteParents(route, kind.group, state);
        if (!parentsDiffer(route.status?.parents, desired)) continue;
        try {
          await options.client.request({
            method: 'PATCH',
            path: resourcePath(kind, {
              namespace: route.metadata?.namespace,
              name: route.metadata?.name,
              subresource: 'status',
            }),
            contentType: 'application/merge-patch+json',
            body: { status: { parents: desired } },
            signal,
          });
          writes?.inc({ result: 'ok' });
        } catch (err) {
          if (signal.aborted) return ok;
          ok = false;
          writes?.inc({ result: 'error' });
          logger.warn(
            {
              kind: kind.kind,
              namespace: route.metadata?.namespace,
              name: route.metadata?.name,
              error: String(err),
            },
            'route status write failed',
          );
        }
      }
    }
    return ok;
  }

  const elector = createLeaderElector({
    client: options.client,
    namespace: options.leaseNamespace,
    name: STATUS_LEASE_NAME,
    identity: options.identity,
    leaseDurationMs: options.leaseDurationMs,
    renewDeadlineMs: options.renewDeadlineMs,
    retryPeriodMs: options.retryPeriodMs,
    logger,
    registry: options.registry,
    onStartedLeading: async (signal) => {
      logger.info({ identity: options.identity }, 'leading: writing route status');
      // A retry tick makes failed writes (and our own status echoes) converge without a new state.
      const tick = setInterval(() => void reconcile(signal), 5000);
      signal.addEventListener('abort', () => clearInterval(tick), { once: true });
      for await (const _state of options.indexer.subscribe(signal)) {
        await reconcile(signal);
      }
    },
  });
  const running = elector.run(controller.signal).catch((err: unknown) => {
    if (!controller.signal.aborted)
      logger.error({ error: String(err) }, 'route status leader election failed');
  });
  return {
    elector,
    async close() {
      controller.abort();
      await running;
    },
  };
}
