// `TYPE/NAME` arguments as linkerd and kubectl take them (po/web-0, deploy/web, sts/db, …) and the
// pods they stand for: the pod itself, or the pods the workload's selector matches.
import { MeshError, MeshErrorCode } from '@tsmesh/core';
import { CoreKinds, type KubeApiClient, type KubeObject, type ResourceKind } from '@tsmesh/kube';

const apps = (kind: string, plural: string): ResourceKind => ({
  group: 'apps',
  version: 'v1',
  kind,
  plural,
  namespaced: true,
  servedVersions: ['v1'],
});

const batch = (kind: string, plural: string): ResourceKind => ({
  group: 'batch',
  version: 'v1',
  kind,
  plural,
  namespaced: true,
  servedVersions: ['v1'],
});

const ReplicationController: ResourceKind = {
  group: '',
  version: 'v1',
  kind: 'ReplicationController',
  plural: 'replicationcontrollers',
  namespaced: true,
  servedVersions: ['v1'],
};

/** Workload kinds by every name kubectl accepts for them. */
const WORKLOAD_KINDS: ReadonlyMap<string, ResourceKind> = new Map(
  (
    [
      [['po', 'pod', 'pods'], CoreKinds.Pod],
      [['deploy', 'deployment', 'deployments'], CoreKinds.Deployment],
      [['sts', 'statefulset', 'statefulsets'], apps('StatefulSet', 'statefulsets')],
      [['ds', 'daemonset', 'daemonsets'], apps('DaemonSet', 'daemonsets')],
      [['rs', 'replicaset', 'replicasets'], apps('ReplicaSet', 'replicasets')],
      [['job', 'jobs'], batch('Job', 'jobs')],
      [['rc', 'replicationcontroller', 'replicationcontrollers'], ReplicationController],
    ] as const
  ).flatMap(([names, kind]) => names.map((n) => [n, kind] as const)),
);

export const WORKLOAD_TYPE_NAMES = [...WORKLOAD_KINDS.keys()];

export interface WorkloadRef {
  readonly kind: ResourceKind;
  readonly name: string;
}

/** `TYPE/NAME`, `TYPE NAME` (two arguments) or a bare pod name. */
export function parseWorkloadRef(args: readonly string[], where = 'RESOURCE'): WorkloadRef {
  const joined = args.length === 2 ? `${args[0]}/${args[1]}` : (args[0] ?? '');
  const slash = joined.indexOf('/');
  const type = slash < 0 ? 'pod' : joined.slice(0, slash).toLowerCase();
  const name = slash < 0 ? joined : joined.slice(slash + 1);
  const kind = WORKLOAD_KINDS.get(type);
  if (!kind) {
    throw new MeshError(MeshErrorCode.InvalidArgument, `unknown resource type "${type}"`, {
      where,
      hint: 'use TYPE/NAME with TYPE one of po, deploy, sts, ds, rs, job, rc (e.g. deploy/web)',
    });
  }
  if (!name || name.includes('/')) {
    throw new MeshError(MeshErrorCode.InvalidArgument, `"${joined}" names no single resource`, {
      where,
      hint: 'use TYPE/NAME, e.g. deploy/web or po/web-5d8f7c-abcde',
    });
  }
  return { kind, name };
}

/** `key=value,…` from a workload's spec.selector (matchLabels and matchExpressions, or a map). */
export function selectorString(selector: unknown): string {
  if (!selector || typeof selector !== 'object') return '';
  const s = selector as {
    matchLabels?: Record<string, string>;
    matchExpressions?: { key: string; operator: string; values?: string[] }[];
  };
  const isLabelSelector = 'matchLabels' in s || 'matchExpressions' in s;
  const labels = isLabelSelector ? (s.matchLabels ?? {}) : (selector as Record<string, string>);
  const parts = Object.entries(labels).map(([k, v]) => `${k}=${v}`);
  for (const e of isLabelSelector ? (s.matchExpressions ?? []) : []) {
    const values = (e.values ?? []).join(',');
    if (e.operator === 'In') parts.push(`${e.key} in (${values})`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${values})`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
  }
  return parts.join(',');
}

/** The pods of a workload, sorted by name; an error naming the workload when it does not exist. */
export async function podsOf(
  client: KubeApiClient,
  namespace: string,
  ref: WorkloadRef,
): Promise<KubeObject[]> {
  const what = `${ref.kind.kind} ${namespace}/${ref.name}`;
  let workload: KubeObject;
  try {
    workload = await client.get(ref.kind, { namespace, name: ref.name });
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) {
      throw new MeshError(MeshErrorCode.NotFound, `no ${what}`, {
        where: namespace,
        hint: 'check the name and pass -n NAMESPACE (kubectl get pods,deploy -n NAMESPACE)',
      });
    }
    throw err;
  }
  if (ref.kind === CoreKinds.Pod) return [workload];
  const selector = selectorString((workload as { spec?: { selector?: unknown } }).spec?.selector);
  if (!selector) {
    throw new MeshError(MeshErrorCode.InvalidArgument, `${what} has no pod selector`, {
      where: 'spec.selector',
    });
  }
  const pods = await client.list(CoreKinds.Pod, { namespace, labelSelector: selector });
  return [...pods.items].sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
}
