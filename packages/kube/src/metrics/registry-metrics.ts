// Metrics registered on a registry the caller owns. Several components of one process may share a
// registry (two watch caches, say): the first creates a metric, the others reuse it, so there is
// no "already registered" error and no module-level state.
import { MeshError, MeshErrorCode } from '@tsmesh/core';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

function reuse<M>(registry: Registry, name: string, make: () => M, type: new (...args: never[]) => M): M {
  const existing = registry.getSingleMetric(name);
  if (existing) {
    if (!(existing instanceof type)) {
      throw new MeshError(MeshErrorCode.Internal, `metric ${name} is already registered with another type`);
    }
    return existing as M;
  }
  return make();
}

export function counterOn<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[],
): Counter<L> {
  return reuse(
    registry,
    name,
    () => new Counter<L>({ name, help, labelNames, registers: [registry] }),
    Counter,
  ) as Counter<L>;
}

export function gaugeOn<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[],
): Gauge<L> {
  return reuse(
    registry,
    name,
    () => new Gauge<L>({ name, help, labelNames, registers: [registry] }),
    Gauge,
  ) as Gauge<L>;
}

export function histogramOn<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[],
  buckets: number[],
): Histogram<L> {
  return reuse(
    registry,
    name,
    () => new Histogram<L>({ name, help, labelNames, buckets, registers: [registry] }),
    Histogram,
  ) as Histogram<L>;
}
