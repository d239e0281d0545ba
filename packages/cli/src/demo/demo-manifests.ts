// The demo application's manifests, as a person would write them for `tsmesh up -f DIR`:
// ServiceAccounts (one identity per workload), Services selecting the workloads' pods, and
// policy — voting and emoji accept only web's mesh identity.
import { stringify } from 'yaml';
import { DEMO_NAMESPACE } from './demo-app.js';

export interface DemoPorts {
  readonly web: number;
  readonly emoji: number;
  readonly voting: number;
}

const meta = (name: string, labels?: Record<string, string>) => ({
  name,
  namespace: DEMO_NAMESPACE,
  ...(labels ? { labels } : {}),
});

function service(
  name: string,
  app: string,
  port: number,
  targetPort: number,
  portName: string,
  appProtocol?: string,
) {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(name, { app }),
    spec: {
      selector: { app },
      ports: [{ name: portName, port, targetPort, protocol: 'TCP', ...(appProtocol ? { appProtocol } : {}) }],
    },
  };
}

function grpcServerPolicy(app: string, port: number) {
  return [
    {
      apiVersion: 'policy.linkerd.io/v1beta3',
      kind: 'Server',
      metadata: meta(`${app}-grpc`),
      spec: { podSelector: { matchLabels: { app } }, port, proxyProtocol: 'gRPC' },
    },
    {
      apiVersion: 'policy.linkerd.io/v1alpha1',
      kind: 'AuthorizationPolicy',
      metadata: meta(`${app}-grpc-from-web`),
      spec: {
        targetRef: { group: 'policy.linkerd.io', kind: 'Server', name: `${app}-grpc` },
        requiredAuthenticationRefs: [
          { group: 'policy.linkerd.io', kind: 'MeshTLSAuthentication', name: 'web-identity' },
        ],
      },
    },
  ];
}

/** The demo's manifests, one file each (name → YAML). */
export function demoManifests(ports: DemoPorts): Record<string, string> {
  const docs = (objects: object[]) => objects.map((o) => stringify(o)).join('---\n');
  return {
    '00-namespace.yaml': docs([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: DEMO_NAMESPACE } }]),
    '10-service-accounts.yaml': docs(
      ['web', 'emoji', 'voting', 'vote-bot'].map((name) => ({
        apiVersion: 'v1',
        kind: 'ServiceAccount',
        metadata: meta(name),
      })),
    ),
    '20-services.yaml': docs([
      service('web-svc', 'web', 80, ports.web, 'http'),
      service('emoji-svc', 'emoji', 8080, ports.emoji, 'grpc'),
      service('voting-svc', 'voting', 8080, ports.voting, 'grpc'),
    ]),
    '30-policy.yaml': docs([
      {
        apiVersion: 'policy.linkerd.io/v1alpha1',
        kind: 'MeshTLSAuthentication',
        metadata: meta('web-identity'),
        spec: { identityRefs: [{ kind: 'ServiceAccount', name: 'web' }] },
      },
      ...grpcServerPolicy('emoji', ports.emoji),
      ...grpcServerPolicy('voting', ports.voting),
    ]),
  };
}
