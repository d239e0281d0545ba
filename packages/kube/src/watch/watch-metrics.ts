// Metrics of the watch caches, registered on the registry the caller passes.
import type { Counter, Gauge, Registry } from 'prom-client';
import { counterOn, gaugeOn } from '../metrics/index.js';

export type WatchRestartReason = 'closed' | 'gone' | 'error';

export interface WatchMetrics {
  restarts: Counter<'kind' | 'reason'>;
  events: Counter<'kind' | 'type'>;
  lists: Counter<'kind'>;
  objects: Gauge<'kind'>;
}

export function createWatchMetrics(registry: Registry): WatchMetrics {
  return {
    restarts: counterOn(
      registry,
      'tsmesh_kube_watch_restarts_total',
      'Watches restarted, by cause: closed (the server ended the stream), gone (410: relist), error (backoff).',
      ['kind', 'reason'],
    ),
    events: counterOn(registry, 'tsmesh_kube_watch_events_total', 'Watch events received, by type.', [
      'kind',
      'type',
    ]),
    lists: counterOn(registry, 'tsmesh_kube_watch_lists_total', 'Complete lists (initial and relists).', [
      'kind',
    ]),
    objects: gaugeOn(registry, 'tsmesh_kube_watch_cache_objects', 'Objects held in the watch cache.', [
      'kind',
    ]),
  };
}
