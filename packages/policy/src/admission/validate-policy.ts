// Admission checks for policy resources. The resource must parse (core engine: every field with
// its own message), then cross-resource rules Linkerd's webhook enforces: two Servers may not select
// the same pod port; routes attach to Servers or Services, not both; NetworkAuthentication
// exceptions must lie inside their network; HTTPRoute backendRequest timeouts may not exceed the
// request timeout. Every message names the resource, the field and the fix.
import {
  labelSelectorMatches,
  MeshError,
  networkContains,
  parseDurationMs,
  parsePolicyResource,
  POLICY_GROUP,
  type IpNetwork,
  type LabelSelector,
  type PolicyResource,
  type Server,
  type Workload,
} from '@tsmesh/core';
import type { KubeObject } from '@tsmesh/kube';
import { isServiceParent, type ClusterState } from '../indexing/index.js';

export type Validation = { readonly ok: true } | { readonly ok: false; readonly message: string };

const OK: Validation = { ok: true };

function fail(message: string): Validation {
  return { ok: false, message };
}

function sameSelector(a: LabelSelector, b: LabelSelector): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function resolvesPort(server: Server, pod: Workload, port: number): boolean {
  return typeof server.port === 'number'
    ? server.port === port
    : pod.ports.some((p) => p.name === server.port && p.port === port);
}

function portText(port: number | string): string {
  return typeof port === 'number' ? `port ${port}` : `port "${port}"`;
}

function checkServer(server: Server, state: ClusterState | undefined): Validation {
  if (!state) return OK;
  const at = `Server ${server.meta.namespace}/${server.meta.name}`;
  const others = state.resources.filter(
    (r): r is Server =>
      r.kind === 'Server' &&
      r.meta.namespace === server.meta.namespace &&
      r.meta.name !== server.meta.name &&
      r.workloadKind === server.workloadKind,
  );
  const selectorField = server.workloadKind === 'Pod' ? 'spec.podSelector' : 'spec.externalWorkloadSelector';
  for (const other of others) {
    if (sameSelector(other.selector, server.selector) && other.port === server.port) {
      return fail(
        `${at}: ${selectorField}: selects the same workloads and ${portText(server.port)} as Server ${other.meta.name} ` +
          `(two Servers must not select the same pod port; change spec.port or ${selectorField}, or delete one of them)`,
      );
    }
  }
  const workloads = state.resources.filter(
    (r): r is Workload => r.kind === server.workloadKind && r.meta.namespace === server.meta.namespace,
  );
  for (const w of workloads) {
    if (!labelSelectorMatches(server.selector, w.meta.labels)) continue;
    for (const { port } of w.ports.length > 0
      ? w.ports
      : typeof server.port === 'number'
        ? [{ port: server.port }]
        : []) {
      if (!resolvesPort(server, w, port)) continue;
      const clash = others.find(
        (o) => labelSelectorMatches(o.selector, w.meta.labels) && resolvesPort(o, w, port),
      );
      if (clash) {
        return fail(
          `${at}: ${selectorField}: selects port ${port} of ${w.kind} ${w.meta.name}, which Server ${clash.meta.name} already selects ` +
            `(two Servers must not select the same pod port; change spec.port or ${selectorField}, or delete one of them)`,
        );
      }
    }
  }
  return OK;
}

function containedIn(outer: IpNetwork, inner: IpNetwork): boolean {
  return (
    outer.family === inner.family &&
    inner.prefixLength >= outer.prefixLength &&
    networkContains(outer, inner.address)
  );
}

function checkRoute(r: PolicyResource & { kind: 'HTTPRoute' | 'GRPCRoute' }): Validation {
  const at = `${r.kind} ${r.meta.namespace}/${r.meta.name}`;
  const servers = r.parentRefs.filter((p) => p.kind === 'Server' && p.group === POLICY_GROUP);
  const services = r.parentRefs.filter(isServiceParent);
  if (servers.length > 0 && services.length > 0) {
    return fail(
      `${at}: spec.parentRefs: mixes Server and Service parents (a route attaches to Servers (inbound) or to Services (outbound); split it into two routes)`,
    );
  }
  for (const [i, p] of r.parentRefs.entries()) {
    if (p.kind === 'Server' && p.port !== undefined) {
      return fail(
        `${at}: spec.parentRefs[${i}].port: a Server parent has no port (remove port; the Server names it)`,
      );
    }
  }
  if (r.kind === 'HTTPRoute') {
    for (const [i, rule] of r.rules.entries()) {
      const where = `${at}: spec.rules[${i}].timeouts`;
      const request = rule.timeouts.request;
      const backend = rule.timeouts.backendRequest;
      const reqMs = request === undefined ? undefined : parseDurationMs(request);
      const backMs = backend === undefined ? undefined : parseDurationMs(backend);
      if (request !== undefined && reqMs === undefined)
        return fail(`${where}.request: "${request}" is not a duration (write e.g. 10s or 500ms)`);
      if (backend !== undefined && backMs === undefined)
        return fail(`${where}.backendRequest: "${backend}" is not a duration (write e.g. 10s or 500ms)`);
      if (reqMs !== undefined && backMs !== undefined && reqMs !== 0 && backMs > reqMs) {
        return fail(
          `${where}.backendRequest: ${backend} exceeds request ${request} (make backendRequest at most the request timeout)`,
        );
      }
    }
  }
  return OK;
}

/** Validates one object as the admission webhook sees it (`state`: the current index, for cross-resource rules). */
export function validatePolicyObject(object: KubeObject, state: ClusterState | undefined): Validation {
  let resource: PolicyResource | undefined;
  try {
    resource = parsePolicyResource(object);
  } catch (err) {
    return fail(MeshError.is(err) ? err.describe() : String(err));
  }
  if (!resource) return OK;
  switch (resource.kind) {
    case 'Server':
      return checkServer(resource, state);
    case 'NetworkAuthentication': {
      const at = `NetworkAuthentication ${resource.meta.namespace}/${resource.meta.name}`;
      for (const [i, n] of resource.networks.entries()) {
        for (const [j, e] of n.except.entries()) {
          if (!containedIn(n.net, e)) {
            return fail(
              `${at}: spec.networks[${i}].except[${j}]: ${e.cidr} is not inside ${n.net.cidr} (list only sub-networks of cidr in except)`,
            );
          }
        }
      }
      return OK;
    }
    case 'HTTPRoute':
    case 'GRPCRoute':
      return checkRoute(resource);
    default:
      return OK;
  }
}
