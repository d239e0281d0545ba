// The objects behind `tsmesh multicluster install|allow|link`, named and labelled as Linkerd's
// multicluster extension names them (2.17's `linkerd multicluster link` layout: one
// linkerd-service-mirror-<cluster> Deployment per Link), so the same kubectl/GitOps workflows apply.
// Pure functions of their inputs; `gatherLinkInput` reads what `link` needs from the target cluster.
import {
  ConfigAnnotation,
  INJECT_ANNOTATION,
  Label,
  MulticlusterKey,
  type LabelSelector,
} from '@tsmesh/core';
import { crdManifests, type KubeObject } from '@tsmesh/kube';
import { LinkDefaults } from '../link/index.js';
import { VERSION } from '../version.js';

export type Manifest = KubeObject & { apiVersion: string; kind: string; metadata: { name: string } };

export const MULTICLUSTER_NAMESPACE = 'linkerd-multicluster';
export const GATEWAY_NAME = 'linkerd-gateway';
export const DEFAULT_REMOTE_ACCESS_ACCOUNT = 'linkerd-service-mirror-remote-access-default';
export const DEFAULT_IMAGE_REGISTRY = 'ghcr.io/tsmesh';

const EXTENSION = { [Label.Extension]: 'multicluster' };

export interface InstallOptions {
  readonly namespace?: string;
  /** Install the gateway (Deployment, Service, ServiceAccount, policy). Default true. */
  readonly gateway?: boolean;
  readonly gatewayPort?: number;
  readonly gatewayProbePort?: number;
  readonly gatewayProbePath?: string;
  readonly gatewayProbeSeconds?: number;
  readonly gatewayServiceType?: 'LoadBalancer' | 'NodePort' | 'ClusterIP';
  /** Identities the gateway accepts (MeshTLSAuthentication); default ['*'], any meshed client. */
  readonly gatewayAllowedIdentities?: readonly string[];
  /** Control-plane namespace and trust domain: the gateway's identity. */
  readonly linkerdNamespace?: string;
  readonly identityTrustDomain?: string;
  /** ServiceAccounts target clusters' service mirrors use to read this cluster. */
  readonly remoteMirrorServiceAccounts?: readonly string[];
}

export function gatewayIdentity(namespace: string, linkerdNamespace: string, trustDomain: string): string {
  return `${GATEWAY_NAME}.${namespace}.serviceaccount.identity.${linkerdNamespace}.${trustDomain}`;
}

/** The Link CRD as `tsmesh install --crds` knows it. */
export function linkCrdManifest(): Manifest {
  const crd = crdManifests({ multicluster: true }).find((c) => c.spec.names.kind === 'Link');
  return crd as unknown as Manifest;
}

/** ServiceAccount (with a token Secret) and read-only RBAC for a target cluster's service mirror. */
export function remoteAccessManifests(name: string, namespace = MULTICLUSTER_NAMESPACE): Manifest[] {
  const rule = (apiGroups: string[], resources: string[], verbs: string[], resourceNames?: string[]) => ({
    apiGroups,
    resources,
    verbs,
    ...(resourceNames ? { resourceNames } : {}),
  });
  const read = ['list', 'get', 'watch'];
  return [
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name, labels: { ...EXTENSION } },
      rules: [
        rule(['apps'], ['replicasets'], read),
        rule(['batch'], ['jobs'], read),
        rule([''], ['pods', 'endpoints', 'services'], read),
        rule(['discovery.k8s.io'], ['endpointslices'], read),
        rule(['policy.linkerd.io'], ['servers'], read),
        rule([''], ['configmaps'], ['get'], ['linkerd-config', 'linkerd-identity-trust-roots']),
        rule([''], ['events'], ['create', 'patch']),
      ],
    },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace, labels: { ...EXTENSION } } },
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: `${name}-token`,
        namespace,
        labels: { ...EXTENSION },
        annotations: { 'kubernetes.io/service-account.name': name },
      },
      type: 'kubernetes.io/service-account-token',
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name, labels: { ...EXTENSION } },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
      subjects: [{ kind: 'ServiceAccount', name, namespace }],
    },
  ];
}

function gatewayManifests(o: InstallOptions, namespace: string): Manifest[] {
  const port = o.gatewayPort ?? LinkDefaults.gatewayPort;
  const probePort = o.gatewayProbePort ?? LinkDefaults.probePort;
  const selector = { ...EXTENSION, app: GATEWAY_NAME };
  const identity = gatewayIdentity(
    namespace,
    o.linkerdNamespace ?? 'linkerd',
    o.identityTrustDomain ?? 'cluster.local',
  );
  const identities = o.gatewayAllowedIdentities ?? ['*'];
  return [
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
        name: GATEWAY_NAME,
        namespace,
        labels: {
          'app.kubernetes.io/name': 'gateway',
          'app.kubernetes.io/part-of': 'tsmesh',
          'app.kubernetes.io/version': VERSION,
          [Label.ControlPlaneComponent]: 'gateway',
          ...selector,
        },
      },
      spec: {
        replicas: 1,
        selector: { matchLabels: selector },
        template: {
          metadata: {
            annotations: {
              [INJECT_ANNOTATION]: 'enabled',
              [ConfigAnnotation.ProxyRequireIdentityInboundPorts]: String(port),
              [ConfigAnnotation.EnableGateway]: 'true',
            },
            labels: selector,
          },
          spec: {
            containers: [{ name: 'pause', image: `${DEFAULT_IMAGE_REGISTRY}/pause:${VERSION}` }],
            serviceAccountName: GATEWAY_NAME,
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: GATEWAY_NAME,
        namespace,
        labels: { ...EXTENSION },
        annotations: {
          [MulticlusterKey.GatewayIdentity]: identity,
          [MulticlusterKey.ProbePeriod]: String(o.gatewayProbeSeconds ?? 3),
          [MulticlusterKey.ProbePath]: o.gatewayProbePath ?? LinkDefaults.probePath,
          'mirror.linkerd.io/multicluster-gateway': 'true',
          [Label.ControlPlaneComponent]: 'gateway',
        },
      },
      spec: {
        ports: [
          { name: 'mc-gateway', port, protocol: 'TCP' },
          { name: 'mc-probe', port: probePort, protocol: 'TCP' },
        ],
        selector: { app: GATEWAY_NAME },
        type: o.gatewayServiceType ?? 'LoadBalancer',
      },
    },
    {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: GATEWAY_NAME, namespace, labels: { ...EXTENSION } },
    },
    // The gateway's inbound policy: only mesh-TLS clients with an allowed identity reach the
    // gateway port (the probe port stays open to the probes of linked clusters).
    {
      apiVersion: 'policy.linkerd.io/v1beta3',
      kind: 'Server',
      metadata: { name: GATEWAY_NAME, namespace, labels: { ...EXTENSION } },
      spec: { podSelector: { matchLabels: selector }, port, proxyProtocol: 'unknown' },
    },
    {
      apiVersion: 'policy.linkerd.io/v1alpha1',
      kind: 'MeshTLSAuthentication',
      metadata: { name: 'any-meshed', namespace, labels: { ...EXTENSION } },
      spec: { identities: [...identities] },
    },
    {
      apiVersion: 'policy.linkerd.io/v1alpha1',
      kind: 'AuthorizationPolicy',
      metadata: { name: GATEWAY_NAME, namespace, labels: { ...EXTENSION } },
      spec: {
        targetRef: { group: 'policy.linkerd.io', kind: 'Server', name: GATEWAY_NAME },
        requiredAuthenticationRefs: [
          { group: 'policy.linkerd.io', kind: 'MeshTLSAuthentication', name: 'any-meshed' },
        ],
      },
    },
  ];
}

/** `tsmesh multicluster install`: namespace, Link CRD, gateway, remote-access accounts. */
export function renderInstall(o: InstallOptions = {}): Manifest[] {
  const namespace = o.namespace ?? MULTICLUSTER_NAMESPACE;
  const out: Manifest[] = [
    {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: namespace,
        labels: { ...EXTENSION },
        annotations: { [INJECT_ANNOTATION]: 'disabled' },
      },
    },
    linkCrdManifest(),
  ];
  if (o.gateway ?? true) out.push(...gatewayManifests(o, namespace));
  for (const account of o.remoteMirrorServiceAccounts ?? [DEFAULT_REMOTE_ACCESS_ACCOUNT]) {
    out.push(...remoteAccessManifests(account, namespace));
  }
  return out;
}

export interface LinkInput {
  readonly clusterName: string;
  /** Namespace of the Link, the Secret and the service mirror (this cluster). */
  readonly namespace?: string;
  /** This cluster's control-plane namespace (where destination reads remote-discovery credentials). */
  readonly localLinkerdNamespace?: string;
  /** The kubeconfig the service mirror and the destination use to read the target cluster. */
  readonly kubeconfig: string;
  readonly gatewayAddresses: readonly string[];
  readonly gatewayPort: number | undefined;
  readonly gatewayIdentity: string;
  readonly probePort?: number;
  readonly probePath?: string;
  readonly probePeriodSeconds?: number;
  readonly targetClusterDomain: string;
  readonly targetTrustDomain: string;
  readonly targetLinkerdNamespace: string;
  readonly selector?: LabelSelector;
  readonly remoteDiscoverySelector?: LabelSelector;
  readonly federatedServiceSelector?: LabelSelector;
  readonly image?: string;
  readonly logLevel?: string;
}

const asSelector = (s: LabelSelector | { matchLabels: Readonly<Record<string, string>> }) => ({
  ...(Object.keys(s.matchLabels).length ? { matchLabels: { ...s.matchLabels } } : {}),
  ...('matchExpressions' in s && s.matchExpressions.length
    ? {
        matchExpressions: s.matchExpressions.map((e) => ({
          key: e.key,
          operator: e.operator,
          values: [...e.values],
        })),
      }
    : {}),
});

export function credentialsSecretName(cluster: string): string {
  return `cluster-credentials-${cluster}`;
}

export function serviceMirrorName(cluster: string): string {
  return `linkerd-service-mirror-${cluster}`;
}

/** A (Cluster)RoleBinding of the role `name` to a ServiceAccount, named like the role. */
function binding(
  role: 'ClusterRole' | 'Role',
  name: string,
  account: { name: string; namespace: string },
  labels: Record<string, string>,
): Manifest {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: `${role}Binding`,
    metadata: { name, ...(role === 'Role' ? { namespace: account.namespace } : {}), labels },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: role, name },
    subjects: [{ kind: 'ServiceAccount', name: account.name, namespace: account.namespace }],
  };
}

/**
 * `tsmesh multicluster link`: the credentials Secret, the Link, the credentials the destination
 * service uses for remote discovery, and the service mirror (Deployment + RBAC).
 */
export function renderLink(input: LinkInput): Manifest[] {
  const cluster = input.clusterName;
  const namespace = input.namespace ?? MULTICLUSTER_NAMESPACE;
  const secret = credentialsSecretName(cluster);
  const name = serviceMirrorName(cluster);
  const labels = { ...EXTENSION, component: 'service-mirror', [MulticlusterKey.ClusterName]: cluster };
  const kubeconfig = Buffer.from(input.kubeconfig).toString('base64');
  const account = { name, namespace };
  const probePort = input.probePort ?? LinkDefaults.probePort;
  return [
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: secret, namespace, labels: { ...EXTENSION } },
      type: MulticlusterKey.RemoteKubeconfigSecretType,
      data: { kubeconfig },
    },
    // Read by the destination service (remote discovery): in its namespace, with the target's
    // cluster and trust domains.
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: secret,
        namespace: input.localLinkerdNamespace ?? 'linkerd',
        labels: { [MulticlusterKey.CredentialsClusterName]: cluster },
        annotations: {
          [MulticlusterKey.CredentialsTrustDomain]: input.targetTrustDomain,
          [MulticlusterKey.CredentialsClusterDomain]: input.targetClusterDomain,
        },
      },
      type: MulticlusterKey.RemoteKubeconfigSecretType,
      data: { kubeconfig },
    },
    {
      apiVersion: 'multicluster.linkerd.io/v1alpha3',
      kind: 'Link',
      metadata: { name: cluster, namespace, labels: { ...EXTENSION } },
      spec: {
        targetClusterName: cluster,
        targetClusterDomain: input.targetClusterDomain,
        targetClusterLinkerdNamespace: input.targetLinkerdNamespace,
        clusterCredentialsSecret: secret,
        gatewayAddress: input.gatewayAddresses.join(','),
        gatewayPort: input.gatewayPort === undefined ? '' : String(input.gatewayPort),
        gatewayIdentity: input.gatewayIdentity,
        probeSpec: {
          path: input.probePath ?? LinkDefaults.probePath,
          port: String(probePort),
          period: `${input.probePeriodSeconds ?? 3}s`,
          timeout: LinkDefaults.probeTimeout,
          failureThreshold: String(LinkDefaults.probeFailureThreshold),
        },
        selector: asSelector(input.selector ?? LinkDefaults.selector),
        remoteDiscoverySelector: asSelector(
          input.remoteDiscoverySelector ?? LinkDefaults.remoteDiscoverySelector,
        ),
        federatedServiceSelector: asSelector(
          input.federatedServiceSelector ?? LinkDefaults.federatedServiceSelector,
        ),
      },
    },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace, labels } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: `linkerd-service-mirror-access-local-resources-${cluster}`, labels },
      rules: [
        {
          apiGroups: [''],
          resources: ['endpoints', 'services'],
          verbs: ['list', 'get', 'watch', 'create', 'delete', 'update'],
        },
        { apiGroups: [''], resources: ['namespaces'], verbs: ['list', 'get', 'watch'] },
      ],
    },
    binding('ClusterRole', `linkerd-service-mirror-access-local-resources-${cluster}`, account, labels),
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: `linkerd-service-mirror-read-remote-creds-${cluster}`, namespace, labels },
      rules: [
        { apiGroups: [''], resources: ['secrets'], resourceNames: [secret], verbs: ['list', 'get', 'watch'] },
        { apiGroups: ['multicluster.linkerd.io'], resources: ['links'], verbs: ['list', 'get', 'watch'] },
        { apiGroups: ['multicluster.linkerd.io'], resources: ['links/status'], verbs: ['update', 'patch'] },
        {
          apiGroups: ['coordination.k8s.io'],
          resources: ['leases'],
          verbs: ['create', 'get', 'update', 'patch'],
        },
      ],
    },
    binding('Role', `linkerd-service-mirror-read-remote-creds-${cluster}`, account, labels),
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, namespace, labels },
      spec: {
        replicas: 1,
        selector: { matchLabels: { component: 'service-mirror', [MulticlusterKey.ClusterName]: cluster } },
        template: {
          metadata: {
            annotations: { [INJECT_ANNOTATION]: 'enabled' },
            labels,
          },
          spec: {
            serviceAccountName: name,
            containers: [
              {
                name: 'service-mirror',
                image: input.image ?? `${DEFAULT_IMAGE_REGISTRY}/multicluster:${VERSION}`,
                command: ['tsmesh-service-mirror'],
                args: [`-log-level=${input.logLevel ?? 'info'}`, `-namespace=${namespace}`, cluster],
                ports: [{ containerPort: 9999, name: 'admin-http' }],
                readinessProbe: { httpGet: { path: '/ready', port: 'admin-http' } },
                livenessProbe: { httpGet: { path: '/live', port: 'admin-http' } },
                securityContext: {
                  allowPrivilegeEscalation: false,
                  capabilities: { drop: ['ALL'] },
                  readOnlyRootFilesystem: true,
                  runAsNonRoot: true,
                  runAsUser: 2103,
                  seccompProfile: { type: 'RuntimeDefault' },
                },
              },
            ],
          },
        },
      },
    },
  ];
}
