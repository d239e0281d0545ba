// Linkerd's webhook also sees Services: one without `config.linkerd.io/opaque-ports` gets its
// namespace's value, or else the default opaque ports it exposes, so that clients proxy those
// ports without protocol detection.
import { ConfigAnnotation } from '@tsmesh/core';
import type { InjectorConfig } from '../config/index.js';
import { diffJson } from '../patch/index.js';
import type { InjectResult } from './inject.js';
import { parsePortList } from './proxy-values.js';
import type { NamespaceLike, Workload } from './workload.js';

export function annotateServiceOpaquePorts<T extends Workload>(
  service: T,
  config: InjectorConfig,
  namespace?: NamespaceLike,
): InjectResult<T> {
  const object = structuredClone(service);
  const meta = object.metadata ?? {};
  const id = {
    kind: object.kind ?? 'Service',
    name: meta.name ?? '',
    namespace: meta.namespace ?? namespace?.metadata?.name,
  };
  let value: string | undefined;
  if (object.kind === 'Service' && !Object.hasOwn(meta.annotations ?? {}, ConfigAnnotation.OpaquePorts)) {
    value = namespace?.metadata?.annotations?.[ConfigAnnotation.OpaquePorts];
    if (value === undefined) {
      const ranges = parsePortList(config.proxy.opaquePorts) ?? [];
      const spec = (object as { spec?: { ports?: { port?: unknown }[] } }).spec;
      const ports = [
        ...new Set((spec?.ports ?? []).map((p) => p.port).filter((p): p is number => typeof p === 'number')),
      ];
      value = ports
        .filter((p) => ranges.some((r) => p >= r.from && p <= r.to))
        .sort((a, b) => a - b)
        .join(',');
    }
  }
  if (value) {
    object.metadata = {
      ...meta,
      annotations: { ...(meta.annotations ?? {}), [ConfigAnnotation.OpaquePorts]: value },
    };
  }
  const patch = diffJson(service, object);
  return {
    object,
    patch,
    report: {
      entries: [
        value
          ? { ...id, status: 'injected', warnings: [] }
          : {
              ...id,
              status: 'skipped',
              reason: 'unsupported_resource',
              message: 'no opaque ports to annotate',
              warnings: [],
            },
      ],
      changed: patch.length > 0,
    },
  };
}
