// The minimal shape of a Kubernetes object as it arrives from the API or from a YAML file.

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[];
  [key: string]: unknown;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  [key: string]: unknown;
}

/** `namespace/name` for namespaced objects, `name` for cluster-scoped ones. */
export function objectKey(object: Pick<KubeObject, 'metadata'>): string {
  const name = object.metadata?.name ?? '';
  const namespace = object.metadata?.namespace;
  return namespace ? `${namespace}/${name}` : name;
}

/** The object header; typed objects declared as interfaces (without index signatures) fit it. */
export interface KubeObjectHeader {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string };
}

/** What writes accept: a plain object literal or any typed object with the header. */
export type KubeObjectInput = KubeObject | KubeObjectHeader;
