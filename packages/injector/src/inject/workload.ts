// The Kubernetes shapes inject() reads and writes: plain JSON objects, typed only as far as the
// injector looks into them. Everything else in a manifest passes through untouched.
import { ProxyOwnerLabel } from '@tsmesh/core';

export interface ObjectMetaLike {
  name?: string;
  generateName?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: { kind?: string; name?: string; controller?: boolean }[];
  [key: string]: unknown;
}

export interface ContainerPort {
  containerPort?: number;
  name?: string;
  protocol?: string;
  [key: string]: unknown;
}

export interface Container {
  name: string;
  image?: string;
  ports?: ContainerPort[];
  restartPolicy?: string;
  [key: string]: unknown;
}

export interface PodSpec {
  containers?: Container[];
  initContainers?: Container[];
  volumes?: { name: string; [key: string]: unknown }[];
  hostNetwork?: boolean;
  [key: string]: unknown;
}

export interface PodTemplate {
  metadata?: ObjectMetaLike;
  spec?: PodSpec;
  [key: string]: unknown;
}

/** Any Kubernetes object as JSON. */
export interface Workload {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMetaLike;
  [key: string]: unknown;
}

/** A namespace (or just its metadata) whose annotations apply to the pods in it. */
export interface NamespaceLike {
  metadata?: { name?: string; annotations?: Record<string, string>; labels?: Record<string, string> };
}

/** The kinds that carry a pod template, and where the template sits. */
export const WORKLOAD_TEMPLATE_PATHS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  Pod: [],
  Deployment: ['spec', 'template'],
  StatefulSet: ['spec', 'template'],
  DaemonSet: ['spec', 'template'],
  Job: ['spec', 'template'],
  ReplicaSet: ['spec', 'template'],
  ReplicationController: ['spec', 'template'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template'],
});

export const OWNER_LABELS: Readonly<Record<string, string>> = Object.freeze({
  Deployment: ProxyOwnerLabel.Deployment,
  StatefulSet: ProxyOwnerLabel.StatefulSet,
  DaemonSet: ProxyOwnerLabel.DaemonSet,
  Job: ProxyOwnerLabel.Job,
  CronJob: ProxyOwnerLabel.CronJob,
  ReplicaSet: ProxyOwnerLabel.ReplicaSet,
  ReplicationController: ProxyOwnerLabel.ReplicationController,
});

export const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const isStringMap = (v: unknown) =>
  v === undefined || (isRecord(v) && Object.values(v).every((x) => typeof x === 'string'));
const isNamedList = (v: unknown) =>
  v === undefined || (Array.isArray(v) && v.every((x) => isRecord(x) && typeof x.name === 'string'));

/**
 * What is wrong with a pod template's shape for injection, or undefined. (The apiserver only ever
 * sends well-formed pods; manifests given to the CLI may be anything.)
 */
export function podTemplateProblem(template: PodTemplate): string | undefined {
  const meta = template.metadata;
  if (meta !== undefined && !isRecord(meta)) return 'metadata is not a mapping';
  if (meta && !isStringMap(meta.annotations)) return 'metadata.annotations is not a map of strings';
  if (meta && !isStringMap(meta.labels)) return 'metadata.labels is not a map of strings';
  const spec = template.spec;
  if (spec !== undefined && !isRecord(spec)) return 'spec is not a mapping';
  for (const key of ['containers', 'initContainers', 'volumes'] as const) {
    if (spec && !isNamedList(spec[key])) return `spec.${key} is not a list of named items`;
  }
  for (const c of [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])]) {
    if (c.ports !== undefined && !(Array.isArray(c.ports) && c.ports.every(isRecord))) {
      return `spec containers[${c.name}].ports is not a list of ports`;
    }
  }
  return undefined;
}

/** The pod template of a workload (the Pod itself for a Pod), or undefined when there is none. */
export function podTemplateOf(workload: Workload): PodTemplate | undefined {
  const path = workload.kind === undefined ? undefined : WORKLOAD_TEMPLATE_PATHS[workload.kind];
  if (!path) return undefined;
  let node: unknown = workload;
  for (const key of path) {
    if (!isRecord(node)) return undefined;
    node = node[key];
  }
  return isRecord(node) ? (node as PodTemplate) : undefined;
}

/**
 * The owner recorded as `linkerd.io/proxy-<kind>`: the workload itself, or for a bare pod its
 * controller reference (a ReplicaSet made by a Deployment is named `<deployment>-<pod-template-hash>`).
 */
export function ownerOf(workload: Workload): { kind: string; name: string } | undefined {
  const meta: ObjectMetaLike = isRecord(workload.metadata) ? workload.metadata : {};
  if (workload.kind !== 'Pod') {
    return workload.kind && typeof meta.name === 'string' && meta.name
      ? { kind: workload.kind, name: meta.name }
      : undefined;
  }
  const refs = Array.isArray(meta.ownerReferences) ? meta.ownerReferences.filter(isRecord) : [];
  const ref = refs.find((r) => r.controller) ?? refs[0];
  if (typeof ref?.kind !== 'string' || typeof ref.name !== 'string' || !ref.kind || !ref.name)
    return undefined;
  const hash = isRecord(meta.labels) ? meta.labels['pod-template-hash'] : undefined;
  if (ref.kind === 'ReplicaSet' && typeof hash === 'string' && hash && ref.name.endsWith(`-${hash}`)) {
    return { kind: 'Deployment', name: ref.name.slice(0, -hash.length - 1) };
  }
  return { kind: ref.kind, name: ref.name };
}
