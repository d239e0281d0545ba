// Labels Linkerd writes and selects on.

export const Label = {
  /** On meshed pods: the control plane's namespace. Its presence means "meshed". */
  ControlPlaneNamespace: 'linkerd.io/control-plane-ns',
  /** On meshed pods: the pod's own namespace. */
  WorkloadNamespace: 'linkerd.io/workload-ns',
  /** On control-plane objects: which component (destination, identity, proxy-injector, …). */
  ControlPlaneComponent: 'linkerd.io/control-plane-component',
  /** On an extension's namespace: which extension (viz, multicluster). */
  Extension: 'linkerd.io/extension',
  IsControlPlane: 'linkerd.io/is-control-plane',
  CniResource: 'linkerd.io/cni-resource',
  DisableTap: 'viz.linkerd.io/disable-tap',
  ExternalPrometheus: 'viz.linkerd.io/external-prometheus',
} as const;
export type Label = (typeof Label)[keyof typeof Label];

/** The owner kinds the injector records as `linkerd.io/proxy-<kind>` labels. */
export const ProxyOwnerLabel = {
  Deployment: 'linkerd.io/proxy-deployment',
  ReplicaSet: 'linkerd.io/proxy-replicaset',
  StatefulSet: 'linkerd.io/proxy-statefulset',
  DaemonSet: 'linkerd.io/proxy-daemonset',
  Job: 'linkerd.io/proxy-job',
  CronJob: 'linkerd.io/proxy-cronjob',
  ReplicationController: 'linkerd.io/proxy-replicationcontroller',
} as const;
export type ProxyOwnerLabel = (typeof ProxyOwnerLabel)[keyof typeof ProxyOwnerLabel];

/** Multicluster labels and annotations (service mirroring). */
export const MulticlusterKey = {
  Exported: 'mirror.linkerd.io/exported',
  Federated: 'mirror.linkerd.io/federated',
  MirroredService: 'mirror.linkerd.io/mirrored-service',
  ClusterName: 'mirror.linkerd.io/cluster-name',
  MirroredGateway: 'mirror.linkerd.io/mirrored-gateway',
  HeadlessMirrorServiceName: 'mirror.linkerd.io/headless-mirror-svc-name',
  RemoteServiceFqName: 'mirror.linkerd.io/remote-svc-fq-name',
  RemoteResourceVersion: 'mirror.linkerd.io/remote-resource-version',
  RemoteGatewayIdentity: 'mirror.linkerd.io/remote-gateway-identity',
  GatewayIdentity: 'mirror.linkerd.io/gateway-identity',
  ProbePeriod: 'mirror.linkerd.io/probe-period',
  ProbePath: 'mirror.linkerd.io/probe-path',
  ProbeFailureThreshold: 'mirror.linkerd.io/probe-failure-threshold',
  ProbeTimeout: 'mirror.linkerd.io/probe-timeout',
  RemoteKubeconfigSecretType: 'mirror.linkerd.io/remote-kubeconfig',
  /** On a credentials Secret (RemoteKubeconfigSecretType): the linked cluster's name, trust and cluster domains. */
  CredentialsClusterName: 'multicluster.linkerd.io/cluster-name',
  CredentialsTrustDomain: 'multicluster.linkerd.io/trust-domain',
  CredentialsClusterDomain: 'multicluster.linkerd.io/cluster-domain',
  RemoteDiscovery: 'multicluster.linkerd.io/remote-discovery',
  LocalDiscovery: 'multicluster.linkerd.io/local-discovery',
  RemoteService: 'multicluster.linkerd.io/remote-service',
} as const;
