// One valid and one invalid object per kind, and the field the apiserver must name when it
// rejects the invalid one. The valid objects use each kind's storage version.
import { MeshKinds, type KubeObject, type ResourceKind } from '../../src/index.js';

export interface CrdSample {
  kind: ResourceKind;
  name?: string;
  valid: Record<string, unknown>;
  invalid: Record<string, unknown>;
  /** The field path the 422 must name (in causes[].field). */
  field: string;
}

const server = { group: 'policy.linkerd.io', kind: 'Server', name: 'web' };

export const crdSamples: CrdSample[] = [
  {
    kind: MeshKinds.Server,
    valid: {
      podSelector: { matchLabels: { app: 'web' } },
      port: 'http',
      proxyProtocol: 'HTTP/1',
      accessPolicy: 'all-authenticated',
    },
    invalid: { podSelector: { matchLabels: { app: 'web' } }, port: 8080, proxyProtocol: 'SMTP' },
    field: 'spec.proxyProtocol',
  },
  {
    kind: MeshKinds.ServerAuthorization,
    valid: {
      server: { name: 'web' },
      client: {
        meshTLS: { serviceAccounts: [{ name: 'client', namespace: 'other' }] },
        networks: [{ cidr: '198.18.0.0/16' }],
      },
    },
    invalid: { server: { name: 'Web_Server' }, client: { unauthenticated: true } },
    field: 'spec.server.name',
  },
  {
    kind: MeshKinds.AuthorizationPolicy,
    valid: {
      targetRef: server,
      requiredAuthenticationRefs: [
        { group: 'policy.linkerd.io', kind: 'MeshTLSAuthentication', name: 'clients' },
      ],
    },
    invalid: { targetRef: server },
    field: 'spec.requiredAuthenticationRefs',
  },
  {
    kind: MeshKinds.MeshTLSAuthentication,
    valid: { identities: ['*.emojivoto.serviceaccount.identity.linkerd.cluster.local'] },
    invalid: { identities: ['Not An Identity!'] },
    field: 'spec.identities[0]',
  },
  {
    kind: MeshKinds.NetworkAuthentication,
    valid: { networks: [{ cidr: '198.18.0.0/16', except: ['198.18.1.0/24'] }] },
    invalid: { networks: [{ except: ['198.18.1.0/24'] }] },
    field: 'spec.networks[0].cidr',
  },
  {
    kind: MeshKinds.PolicyHTTPRoute,
    valid: {
      parentRefs: [{ kind: 'Server', name: 'web' }],
      rules: [
        {
          matches: [{ path: { type: 'PathPrefix', value: '/api' }, method: 'GET' }],
          timeouts: { request: '10s' },
        },
      ],
    },
    invalid: { parentRefs: [{ kind: 'Server', name: 'web' }], rules: [{ matches: [{ method: 'FETCH' }] }] },
    field: 'spec.rules[0].matches[0].method',
  },
  {
    kind: MeshKinds.HTTPLocalRateLimitPolicy,
    valid: {
      targetRef: server,
      total: { requestsPerSecond: 100 },
      identity: { requestsPerSecond: 20 },
      overrides: [{ requestsPerSecond: 50, clientRefs: [{ kind: 'ServiceAccount', name: 'vip' }] }],
    },
    invalid: { targetRef: server, total: {} },
    field: 'spec.total.requestsPerSecond',
  },
  {
    kind: MeshKinds.EgressNetwork,
    valid: { trafficPolicy: 'Deny', networks: [{ cidr: '198.51.100.0/24' }] },
    invalid: { trafficPolicy: 'Maybe' },
    field: 'spec.trafficPolicy',
  },
  {
    kind: MeshKinds.ServiceProfile,
    name: 'web.default.svc.cluster.local',
    valid: {
      routes: [
        {
          name: 'GET /api',
          condition: { method: 'GET', pathRegex: '/api' },
          responseClasses: [{ condition: { status: { min: 500, max: 599 } }, isFailure: true }],
          isRetryable: true,
          timeout: '300ms',
        },
      ],
      retryBudget: { retryRatio: 0.2, minRetriesPerSecond: 10, ttl: '10s' },
      dstOverrides: [{ authority: 'web-v2.default.svc.cluster.local:80', weight: '500m' }],
    },
    invalid: { routes: [{ name: 'no condition' }] },
    field: 'spec.routes[0].condition',
  },
  {
    kind: MeshKinds.ExternalWorkload,
    valid: {
      meshTLS: { identity: 'spiffe://root.linkerd.cluster.local/vm-1', serverName: 'vm-1.cluster.local' },
      ports: [{ name: 'http', port: 8080 }],
      workloadIPs: [{ ip: '198.18.5.5' }],
    },
    invalid: {
      meshTLS: { identity: 'spiffe://root.linkerd.cluster.local/vm-1', serverName: 'vm' },
      ports: [{ port: 70000 }],
    },
    field: 'spec.ports[0].port',
  },
  {
    kind: MeshKinds.Link,
    valid: {
      targetClusterName: 'east',
      targetClusterDomain: 'cluster.local',
      gatewayAddress: '198.18.9.9',
      gatewayPort: '4143',
      probeSpec: { path: '/ready', port: '4191', period: '3s' },
      selector: { matchLabels: { 'mirror.linkerd.io/exported': 'true' } },
      excludedLabels: ['team'],
    },
    invalid: {
      targetClusterName: 'east',
      selector: { matchExpressions: [{ key: 'app', operator: 'Like' }] },
    },
    field: 'spec.selector.matchExpressions[0].operator',
  },
  {
    kind: MeshKinds.GatewayHTTPRoute,
    valid: {
      parentRefs: [{ group: '', kind: 'Service', name: 'web', port: 80 }],
      rules: [
        {
          matches: [
            { path: { type: 'PathPrefix', value: '/' }, headers: [{ name: 'x-canary', value: 'true' }] },
          ],
          backendRefs: [{ name: 'web-canary', port: 80, weight: 10 }],
          timeouts: { request: '10s', backendRequest: '2s' },
        },
      ],
    },
    invalid: {
      parentRefs: [{ group: '', kind: 'Service', name: 'web', port: 80 }],
      rules: [{ matches: [{ path: { type: 'Exact', value: 'no-slash' } }] }],
    },
    field: 'spec.rules[0].matches[0].path',
  },
  {
    kind: MeshKinds.GatewayGRPCRoute,
    valid: {
      parentRefs: [{ group: '', kind: 'Service', name: 'emoji', port: 8080 }],
      rules: [
        {
          matches: [{ method: { service: 'emojivoto.v1.EmojiService', method: 'ListAll' } }],
          backendRefs: [{ name: 'emoji', port: 8080 }],
        },
      ],
    },
    invalid: {
      parentRefs: [{ group: '', kind: 'Service', name: 'emoji', port: 8080 }],
      rules: [{ backendRefs: [{ name: 'emoji' }] }],
    },
    field: 'spec.rules[0].backendRefs[0]',
  },
];

/** The sample as an object in `namespace`; `prefix` keeps the valid and invalid names apart. */
export function sampleObject(
  sample: CrdSample,
  namespace: string,
  which: 'valid' | 'invalid',
  version?: string,
): KubeObject {
  const { group, kind } = sample.kind;
  const name = sample.name ? `${which}-${sample.name.replace('default', namespace)}` : `${which}-sample`;
  return {
    apiVersion: `${group}/${version ?? sample.kind.version}`,
    kind,
    metadata: { name, namespace },
    spec: sample[which],
  };
}
