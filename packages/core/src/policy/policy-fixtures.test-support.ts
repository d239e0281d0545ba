// Manifest builders shared by the policy tests: plain objects shaped like the YAML users write.
import { parsePolicyResources } from './parse-resource.js';
import { createPolicyIndex, type PolicyIndex, type PolicyIndexOptions } from './policy-index.js';

export const NS = 'emojivoto';

export function identity(sa: string, ns = NS): string {
  return `${sa}.${ns}.serviceaccount.identity.linkerd.cluster.local`;
}

export function pod(
  name: string,
  labels: Record<string, string>,
  extra: { annotations?: Record<string, string>; probes?: { port: number | string; path: string }[] } = {},
) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS, labels, annotations: extra.annotations ?? {} },
    spec: {
      containers: [
        {
          name: 'app',
          ports: [
            { name: 'http', containerPort: 8080 },
            { name: 'admin', containerPort: 9990 },
            { name: 'grpc', containerPort: 8081 },
          ],
          ...(extra.probes?.[0] ? { livenessProbe: { httpGet: extra.probes[0] } } : {}),
          ...(extra.probes?.[1] ? { readinessProbe: { httpGet: extra.probes[1] } } : {}),
        },
      ],
    },
  };
}

export function server(name: string, spec: Record<string, unknown>, created?: string) {
  return {
    apiVersion: 'policy.linkerd.io/v1beta3',
    kind: 'Server',
    metadata: { name, namespace: NS, ...(created ? { creationTimestamp: created } : {}) },
    spec: { podSelector: { matchLabels: { app: 'web' } }, port: 'http', ...spec },
  };
}

export function meshTls(name: string, spec: Record<string, unknown>) {
  return {
    apiVersion: 'policy.linkerd.io/v1alpha1',
    kind: 'MeshTLSAuthentication',
    metadata: { name, namespace: NS },
    spec,
  };
}

export function networkAuthn(name: string, networks: { cidr: string; except?: string[] }[]) {
  return {
    apiVersion: 'policy.linkerd.io/v1alpha1',
    kind: 'NetworkAuthentication',
    metadata: { name, namespace: NS },
    spec: { networks },
  };
}

export function authzPolicy(
  name: string,
  target: { kind: string; name: string; group?: string },
  refs: { kind: string; name: string; group?: string; namespace?: string }[],
) {
  return {
    apiVersion: 'policy.linkerd.io/v1alpha1',
    kind: 'AuthorizationPolicy',
    metadata: { name, namespace: NS },
    spec: {
      targetRef: {
        group: target.group ?? (target.kind === 'Namespace' ? '' : 'policy.linkerd.io'),
        ...target,
      },
      requiredAuthenticationRefs: refs.map((r) => ({
        group: r.group ?? (r.kind === 'ServiceAccount' ? '' : 'policy.linkerd.io'),
        ...r,
      })),
    },
  };
}

export function httpRoute(
  name: string,
  serverName: string,
  rules: unknown[],
  extra: { created?: string; hostnames?: string[]; group?: string } = {},
) {
  const group = extra.group ?? 'policy.linkerd.io';
  return {
    apiVersion: `${group}/${group === 'policy.linkerd.io' ? 'v1beta3' : 'v1'}`,
    kind: 'HTTPRoute',
    metadata: { name, namespace: NS, ...(extra.created ? { creationTimestamp: extra.created } : {}) },
    spec: {
      parentRefs: [{ group: 'policy.linkerd.io', kind: 'Server', name: serverName }],
      ...(extra.hostnames ? { hostnames: extra.hostnames } : {}),
      rules,
    },
  };
}

export function indexOf(objects: unknown[], options: PolicyIndexOptions = {}): PolicyIndex {
  return createPolicyIndex(parsePolicyResources(objects), options);
}
