// What kube-controller-manager's EndpointSlice controller does, for the local control plane: for
// every Service with a selector, the Running pods of its namespace whose labels match, with the
// Service's ports resolved against each pod's container ports (a named targetPort may resolve
// differently per pod, so pods are grouped by their resolved ports, one slice per group).
import { createHash } from 'node:crypto';
import { CoreKinds, type KubeObject } from '@tsmesh/kube';
import type { LocalObjectSource } from './local-object-source.js';

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
export const LOCAL_MANAGER = 'tsmesh-local-endpoints';

interface ServicePort {
  name?: string;
  port: number;
  targetPort?: number | string;
  protocol?: string;
  appProtocol?: string;
}

interface ContainerPort {
  name?: string;
  containerPort: number;
  protocol?: string;
}

interface PodLike extends KubeObject {
  spec?: { containers?: { name?: string; ports?: ContainerPort[] }[]; nodeName?: string; hostname?: string };
  status?: {
    phase?: string;
    podIP?: string;
    conditions?: { type: string; status: string }[];
  };
}

interface ServiceLike extends KubeObject {
  spec?: { selector?: Record<string, string>; ports?: ServicePort[]; clusterIP?: string };
}

const matches = (selector: Record<string, string>, labels: Record<string, string> | undefined) =>
  Object.entries(selector).every(([k, v]) => labels?.[k] === v);

function resolvePort(port: ServicePort, pod: PodLike): number | undefined {
  const target = port.targetPort ?? port.port;
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(target)) return Number(target);
  for (const container of pod.spec?.containers ?? [])
    for (const cp of container.ports ?? []) if (cp.name === target) return cp.containerPort;
  return undefined; // a named port the pod does not have: not an endpoint for this port
}

const isReady = (pod: PodLike) =>
  pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? true;

/** The EndpointSlices for the given Services and Pods. Pure. */
export function deriveEndpointSlices(
  services: readonly KubeObject[],
  pods: readonly KubeObject[],
): KubeObject[] {
  const slices: KubeObject[] = [];
  for (const service of services as ServiceLike[]) {
    const selector = service.spec?.selector;
    if (!selector || Object.keys(selector).length === 0) continue; // selector-less: slices are the user's
    const namespace = service.metadata?.namespace ?? 'default';
    const name = service.metadata?.name ?? '';
    const ports = service.spec?.ports ?? [];
    const groups = new Map<
      string,
      {
        ports: { name: string; port: number; protocol: string; appProtocol?: string }[];
        endpoints: KubeObject[];
      }
    >();
    for (const pod of pods as PodLike[]) {
      if ((pod.metadata?.namespace ?? 'default') !== namespace) continue;
      if (!matches(selector, pod.metadata?.labels)) continue;
      if (pod.status?.phase !== 'Running' || !pod.status.podIP || pod.metadata?.deletionTimestamp) continue;
      const resolved = ports.flatMap((p) => {
        const port = resolvePort(p, pod);
        return port === undefined
          ? []
          : [
              {
                name: p.name ?? '',
                port,
                protocol: p.protocol ?? 'TCP',
                ...(p.appProtocol ? { appProtocol: p.appProtocol } : {}),
              },
            ];
      });
      const key = JSON.stringify(resolved);
      let group = groups.get(key);
      if (!group) groups.set(key, (group = { ports: resolved, endpoints: [] }));
      const ready = isReady(pod);
      group.endpoints.push({
        addresses: [pod.status.podIP],
        conditions: { ready, serving: ready, terminating: false },
        targetRef: { kind: 'Pod', namespace, name: pod.metadata?.name, uid: pod.metadata?.uid },
        ...(pod.spec?.nodeName ? { nodeName: pod.spec.nodeName } : {}),
      });
    }
    for (const [key, group] of [...groups].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const suffix = createHash('sha256').update(key).digest('hex').slice(0, 5);
      slices.push({
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: {
          name: `${name}-${suffix}`,
          namespace,
          labels: { [SERVICE_NAME_LABEL]: name, [MANAGED_BY_LABEL]: LOCAL_MANAGER },
          ownerReferences: [
            { apiVersion: 'v1', kind: 'Service', name, uid: service.metadata?.uid ?? '', controller: true },
          ],
        },
        addressType: 'IPv4',
        ports: group.ports,
        endpoints: group.endpoints,
      });
    }
  }
  return slices;
}

/** Keeps the source's derived EndpointSlices current until the signal aborts. */
export async function runEndpointsController(source: LocalObjectSource, signal: AbortSignal): Promise<void> {
  let services: readonly KubeObject[] | undefined;
  let pods: readonly KubeObject[] | undefined;
  const update = () => {
    if (services && pods) source.setObjects(CoreKinds.EndpointSlice, deriveEndpointSlices(services, pods));
  };
  const follow = async (kind: typeof CoreKinds.Pod, set: (objects: readonly KubeObject[]) => void) => {
    try {
      for await (const snapshot of source.watch(kind, { signal })) {
        set(snapshot.list());
        update();
      }
    } catch {
      // closed
    }
  };
  await Promise.all([
    follow(CoreKinds.Service, (s) => (services = s)),
    follow(CoreKinds.Pod, (p) => (pods = p)),
  ]);
}
