// The shapes of the Kubernetes objects the service mirror reads and writes (only the fields it
// uses), and the Endpoints kind, which @tsmesh/kube's kind table does not list.
import type { KubeObject, ResourceKind } from '@tsmesh/kube';

export interface ServicePort {
  name?: string;
  protocol?: string;
  port?: number;
  targetPort?: number | string;
  appProtocol?: string;
  nodePort?: number;
}

export interface ServiceObject extends KubeObject {
  spec?: {
    type?: string;
    clusterIP?: string;
    ports?: ServicePort[];
    selector?: Record<string, string>;
  };
}

export interface EndpointAddress {
  ip: string;
  hostname?: string;
  nodeName?: string;
}

export interface EndpointPort {
  name?: string;
  protocol?: string;
  port: number;
}

export interface EndpointSubset {
  addresses?: EndpointAddress[];
  notReadyAddresses?: EndpointAddress[];
  ports?: EndpointPort[];
}

export interface EndpointsObject extends KubeObject {
  subsets?: EndpointSubset[];
}

/** core/v1 Endpoints: what Linkerd's service mirror writes for gateway-mode mirrors. */
export const EndpointsKind: ResourceKind = Object.freeze({
  group: '',
  version: 'v1',
  kind: 'Endpoints',
  plural: 'endpoints',
  namespaced: true,
  servedVersions: Object.freeze(['v1']),
});
