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

/** Where the demo's pods listen in a cluster (each pod has its own address). */
export const DEMO_CLUSTER_PORT = 8080;

export interface DemoClusterOptions {
  /** The tsmesh CLI image, which runs each workload as `tsmesh demo-app NAME`. */
  readonly image: string;
  readonly imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
}

/**
 * The demo for a cluster, as one multi-document YAML for `kubectl apply -f -`: the same
 * ServiceAccounts, Services and policy as locally, the namespace annotated for injection, and a
 * Deployment per workload running the CLI image. In a pod the apps dial each other's Service
 * names and the injected proxies mesh them, as Linkerd's emojivoto.
 */
export function demoClusterManifests(options: DemoClusterOptions): string {
  const port = DEMO_CLUSTER_PORT;
  const files = demoManifests({ web: port, emoji: port, voting: port });
  const namespace = {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: DEMO_NAMESPACE, annotations: { 'linkerd.io/inject': 'enabled' } },
  };
  const deployment = (app: string) => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta(app, { app }),
    spec: {
      replicas: 1,
      selector: { matchLabels: { app } },
      template: {
        metadata: { labels: { app } },
        spec: {
          serviceAccountName: app,
          terminationGracePeriodSeconds: 10,
          containers: [
            {
              name: app,
              image: options.image,
              imagePullPolicy: options.imagePullPolicy ?? 'IfNotPresent',
              command: ['tsmesh', 'demo-app', app],
              env: [
                { name: 'PORT', value: String(port) },
                { name: 'TSMESH_NAMESPACE', value: DEMO_NAMESPACE },
                { name: 'TSMESH_POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
              ],
              ...(app === 'vote-bot' ? {} : { ports: [{ name: 'app', containerPort: port }] }),
              securityContext: { allowPrivilegeEscalation: false, runAsNonRoot: true },
            },
          ],
        },
      },
    },
  });
  return [
    stringify(namespace),
    files['10-service-accounts.yaml'],
    files['20-services.yaml'],
    files['30-policy.yaml'],
    ...['web', 'emoji', 'voting', 'vote-bot'].map((app) => stringify(deployment(app))),
  ]
    .map((doc) => doc!.trimEnd())
    .join('\n---\n')
    .concat('\n');
}
