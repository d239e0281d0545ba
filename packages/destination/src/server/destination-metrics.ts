// The destination service's own metrics, on the registry it is given (watch-cache metrics of the
// Kubernetes source — tsmesh_kube_watch_* — land on the same registry when the binary shares it).
import { counterOn, gaugeOn } from '@tsmesh/kube';
import type { Counter, Gauge, Registry } from 'prom-client';

export type StreamMethod = 'Get' | 'GetProfile';

export interface DestinationMetrics {
  readonly subscriptions: Gauge<'method'>;
  readonly updates: Counter<'method'>;
  readonly watchRestarts: Counter<'kind'>;
  readonly malformed: Counter<'kind'>;
}

export function createDestinationMetrics(registry: Registry): DestinationMetrics {
  return {
    subscriptions: gaugeOn(registry, 'tsmesh_destination_subscriptions', 'Open Get and GetProfile streams.', [
      'method',
    ]),
    updates: counterOn(
      registry,
      'tsmesh_destination_updates_total',
      'Messages sent on Get (Update) and GetProfile (DestinationProfile) streams.',
      ['method'],
    ),
    watchRestarts: counterOn(
      registry,
      'tsmesh_destination_watch_restarts_total',
      'Watches of a kind that ended on their own and were started again.',
      ['kind'],
    ),
    malformed: counterOn(
      registry,
      'tsmesh_destination_malformed_objects_total',
      'Malformed objects logged and skipped, by kind (once per object version).',
      ['kind'],
    ),
  };
}
