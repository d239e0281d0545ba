// Services as the outbound side needs them: addresses, ports (with appProtocol) and the
// annotations Linkerd reads for retries, timeouts, failure accrual and opaque ports.
import { MeshError, MeshErrorCode } from '@tsmesh/core';
import type { KubeObject } from '@tsmesh/kube';

export interface ServicePort {
  readonly port: number;
  readonly name: string | undefined;
  readonly appProtocol: string | undefined;
}

export interface ServiceInfo {
  readonly namespace: string;
  readonly name: string;
  readonly clusterIPs: readonly string[];
  readonly ports: readonly ServicePort[];
  readonly annotations: Readonly<Record<string, string>>;
}

interface ServiceObject extends KubeObject {
  spec?: {
    clusterIP?: unknown;
    clusterIPs?: unknown;
    ports?: unknown;
  };
}

function bad(where: string, message: string): MeshError {
  return new MeshError(MeshErrorCode.InvalidArgument, message, { where });
}

/** Parses a Service; throws a MeshError naming the field when it is malformed. */
export function parseService(object: KubeObject): ServiceInfo {
  const svc = object as ServiceObject;
  const namespace = svc.metadata?.namespace ?? 'default';
  const name = svc.metadata?.name ?? '';
  const at = `Service ${namespace}/${name}: spec`;
  const spec = svc.spec ?? {};
  const ips = new Set<string>();
  if (typeof spec.clusterIP === 'string' && spec.clusterIP !== '' && spec.clusterIP !== 'None')
    ips.add(spec.clusterIP);
  if (Array.isArray(spec.clusterIPs)) {
    for (const ip of spec.clusterIPs) if (typeof ip === 'string' && ip !== 'None') ips.add(ip);
  }
  const ports: ServicePort[] = [];
  if (spec.ports !== undefined && !Array.isArray(spec.ports)) throw bad(`${at}.ports`, 'must be a list');
  ((spec.ports as unknown[] | undefined) ?? []).forEach((p, i) => {
    const where = `${at}.ports[${i}]`;
    if (typeof p !== 'object' || p === null) throw bad(where, 'must be an object');
    const entry = p as Record<string, unknown>;
    if (entry.protocol !== undefined && entry.protocol !== 'TCP') return;
    const port = entry.port;
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535)
      throw bad(`${where}.port`, `${JSON.stringify(port)} is not a port number (1-65535)`);
    ports.push({
      port,
      name: typeof entry.name === 'string' ? entry.name : undefined,
      appProtocol: typeof entry.appProtocol === 'string' ? entry.appProtocol : undefined,
    });
  });
  return {
    namespace,
    name,
    clusterIPs: [...ips],
    ports,
    annotations: { ...(svc.metadata?.annotations ?? {}) },
  };
}
