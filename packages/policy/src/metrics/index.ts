// Metrics of the controller, registered on the registry passed in. Registering is idempotent, so
// that two controllers (or a restart in one process) can share a registry: the second gets the
// metric the first registered.
import { Counter, Gauge, type Registry } from 'prom-client';

type CounterConfig<L extends string> = ConstructorParameters<typeof Counter<L>>[0];
type GaugeConfig<L extends string> = ConstructorParameters<typeof Gauge<L>>[0];

export function counter<L extends string = string>(registry: Registry, config: CounterConfig<L>): Counter<L> {
  return (
    (registry.getSingleMetric(config.name) as Counter<L> | undefined) ??
    new Counter<L>({ ...config, registers: [registry] })
  );
}

export function gauge<L extends string = string>(registry: Registry, config: GaugeConfig<L>): Gauge<L> {
  return (
    (registry.getSingleMetric(config.name) as Gauge<L> | undefined) ??
    new Gauge<L>({ ...config, registers: [registry] })
  );
}
