// The parts of Kubernetes objects the destination service reads. Objects arrive untyped (from the
// API or from YAML files), so every reader treats each field as possibly missing or malformed.
import type { KubeObject } from '@tsmesh/kube';

export interface ServicePort {
  name?: string;
  port?: number;
  targetPort?: number | string;
  protocol?: string;
}

export interface ServiceObject extends KubeObject {
  spec?: {
    type?: string;
    clusterIP?: string;
    clusterIPs?: string[];
    ports?: ServicePort[];
    externalName?: string;
  };
}

export interface EndpointSliceEndpoint {
  addresses?: string[];
  conditions?: { ready?: boolean | null; serving?: boolean | null; terminating?: boolean | null };
  hostname?: string;
  nodeName?: string;
  zone?: string;
  targetRef?: { kind?: string; name?: string; namespace?: string };
}

export interface EndpointSliceObject extends KubeObject {
  addressType?: string;
  endpoints?: EndpointSliceEndpoint[] | null;
  ports?: { name?: string; port?: number; protocol?: string }[] | null;
}

export interface ContainerSpec {
  name?: string;
  ports?: { name?: string; containerPort?: number; hostPort?: number; protocol?: string }[];
  env?: { name?: string; value?: string }[];
}

export interface PodObject extends KubeObject {
  spec?: {
    containers?: ContainerSpec[];
    initContainers?: ContainerSpec[];
    serviceAccountName?: string;
    hostNetwork?: boolean;
    nodeName?: string;
  };
  status?: {
    phase?: string;
    podIP?: string;
    podIPs?: { ip?: string }[];
    hostIP?: string;
    hostIPs?: { ip?: string }[];
  };
}

export interface ServerObject extends KubeObject {
  spec?: {
    podSelector?: unknown;
    port?: number | string;
    proxyProtocol?: string;
  };
}

export type NamespaceObject = KubeObject;
export type NodeObject = KubeObject;

/** The ServiceProfile spec (linkerd.io/v1alpha2) as written. */
export interface ServiceProfileObject extends KubeObject {
  spec?: unknown;
}

/** Label on EndpointSlices naming their Service. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
/** Node label with the node's zone. */
export const TOPOLOGY_ZONE_LABEL = 'topology.kubernetes.io/zone';
/** Pod label the Deployment controller sets (owner ReplicaSet name = deployment-hash). */
export const POD_TEMPLATE_HASH_LABEL = 'pod-template-hash';
