// PortSpec.workload / TrafficSpec.source_workload: JSON `{"ns":..,"pod":..}` or
// `{"ns":..,"external_workload":..}`, or the legacy `ns:pod`.
import { MeshError, MeshErrorCode } from '@tsmesh/core';

export interface WorkloadRef {
  readonly namespace: string;
  readonly kind: 'Pod' | 'ExternalWorkload';
  readonly name: string;
}

function invalid(text: string, hint: string): MeshError {
  return new MeshError(MeshErrorCode.InvalidArgument, `Invalid workload: ${text}`, {
    where: 'workload',
    hint,
  });
}

export function parseWorkloadRef(text: string): WorkloadRef {
  if (text.startsWith('{')) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw invalid(text, 'write JSON such as {"ns":"emojivoto","pod":"web-0"}');
    }
    const v = value as Record<string, unknown>;
    const ns = v.ns;
    const hasPod = typeof v.pod === 'string';
    const hasExternal = typeof v.external_workload === 'string';
    if (typeof ns !== 'string' || ns === '' || hasPod === hasExternal) {
      throw invalid(text, 'give "ns" and exactly one of "pod" or "external_workload"');
    }
    return hasPod
      ? { namespace: ns, kind: 'Pod', name: v.pod as string }
      : { namespace: ns, kind: 'ExternalWorkload', name: v.external_workload as string };
  }
  const colon = text.indexOf(':');
  const ns = colon < 0 ? '' : text.slice(0, colon);
  const pod = colon < 0 ? '' : text.slice(colon + 1);
  if (ns === '' || pod === '') throw invalid(text, 'write ns:pod or the JSON form');
  return { namespace: ns, kind: 'Pod', name: pod };
}
