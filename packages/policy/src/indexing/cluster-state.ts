// One immutable view of everything the controller indexed: the core policy index (inbound), the
// Services and routes (outbound), and the resources that could not be used. Watches compute their
// answers from the newest state; a state is never mutated after it is published.
import {
  createPolicyIndex,
  type GrpcRoute,
  type HttpRoute,
  type PolicyIndex,
  type PolicyIndexOptions,
  type PolicyResource,
  type Workload,
} from '@tsmesh/core';
import type { EgressNetworkInfo } from './egress-network.js';
import type { ServiceInfo } from './service-info.js';

/** A resource that was skipped, and why (the message names the resource and the field). */
export interface ResourceProblem {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly message: string;
}

export interface ClusterStateInput {
  readonly version: number;
  readonly resources: readonly PolicyResource[];
  readonly services: readonly ServiceInfo[];
  readonly egressNetworks?: readonly EgressNetworkInfo[];
  readonly problems: readonly ResourceProblem[];
  readonly options: PolicyIndexOptions;
}

export class ClusterState {
  readonly version: number;
  readonly policy: PolicyIndex;
  readonly problems: readonly ResourceProblem[];
  readonly resources: readonly PolicyResource[];
  readonly httpRoutes: readonly HttpRoute[];
  readonly grpcRoutes: readonly GrpcRoute[];
  readonly egressNetworks: readonly EgressNetworkInfo[];
  readonly #services = new Map<string, ServiceInfo>();
  readonly #servicesByIp = new Map<string, ServiceInfo>();
  readonly #workloads = new Map<string, Workload>();
  /** Per-state memo of computed answers (shared by every watch of the same target). */
  readonly memo = new Map<string, unknown>();

  constructor(input: ClusterStateInput) {
    this.version = input.version;
    this.problems = input.problems;
    this.resources = input.resources;
    this.policy = createPolicyIndex(input.resources, input.options);
    const http: HttpRoute[] = [];
    const grpc: GrpcRoute[] = [];
    for (const r of input.resources) {
      if (r.kind === 'HTTPRoute') http.push(r);
      else if (r.kind === 'GRPCRoute') grpc.push(r);
      else if (r.kind === 'Pod' || r.kind === 'ExternalWorkload')
        this.#workloads.set(`${r.kind}/${r.meta.namespace}/${r.meta.name}`, r);
    }
    this.egressNetworks = input.egressNetworks ?? [];
    this.httpRoutes = http;
    this.grpcRoutes = grpc;
    for (const svc of input.services) {
      this.#services.set(`${svc.namespace}/${svc.name}`, svc);
      for (const ip of svc.clusterIPs) this.#servicesByIp.set(ip, svc);
    }
  }

  service(namespace: string, name: string): ServiceInfo | undefined {
    return this.#services.get(`${namespace}/${name}`);
  }

  serviceByIp(ip: string): ServiceInfo | undefined {
    return this.#servicesByIp.get(ip);
  }

  hasWorkload(kind: 'Pod' | 'ExternalWorkload', namespace: string, name: string): boolean {
    return this.#workloads.has(`${kind}/${namespace}/${name}`);
  }

  workload(kind: 'Pod' | 'ExternalWorkload', namespace: string, name: string): Workload | undefined {
    return this.#workloads.get(`${kind}/${namespace}/${name}`);
  }

  /** `compute()` once per state and key. */
  memoize<T>(key: string, compute: () => T): T {
    if (this.memo.has(key)) return this.memo.get(key) as T;
    const value = compute();
    this.memo.set(key, value);
    return value;
  }
}
