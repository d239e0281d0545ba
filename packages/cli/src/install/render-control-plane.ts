// The control plane's objects, as Linkerd's linkerd-control-plane chart shapes them: the namespace,
// per-component ServiceAccounts and least-privilege RBAC, linkerd-config (key `values`),
// linkerd-identity-trust-roots, the issuer Secret, the webhooks' serving Secrets and
// configurations, Services, Deployments (each meshed by @tsmesh/injector's inject(), the function
// the webhook runs, so the two cannot disagree) and, with enablePodDisruptionBudget, PDBs.
// Pure: values (with certificates filled in) in, plain objects out.
import { createHash } from 'node:crypto';
import { ConfigAnnotation, INJECT_ANNOTATION, Label, ProxyOwnerLabel } from '@tsmesh/core';
import {
  createInjectorConfig,
  inject,
  injectorConfigFromLinkerdValues,
  injectorWebhookConfiguration,
  type InjectorConfig,
} from '@tsmesh/injector';
import { stringify } from 'yaml';
import type { InstallValues, Values } from './values.js';

export type KubeManifest = { apiVersion: string; kind: string; metadata: Values } & Values;

export interface RenderOptions {
  /** The control plane's namespace (Helm: the release namespace). */
  namespace: string;
}

export const CONTROL_PLANE_COMPONENTS = ['identity', 'destination', 'proxy-injector'] as const;
export type ControlPlaneComponent = (typeof CONTROL_PLANE_COMPONENTS)[number];

/** The values stored in linkerd-config: everything but private keys and webhook certificates. */
export function publicValues(values: InstallValues): Values {
  const v = structuredClone(values) as InstallValues;
  v.identity.issuer.tls = { crtPEM: v.identity.issuer.tls.crtPEM, keyPEM: '' };
  for (const key of ['proxyInjector', 'profileValidator', 'policyValidator'] as const) {
    v[key].crtPEM = '';
    v[key].keyPEM = '';
    v[key].caBundle = '';
  }
  return v as unknown as Values;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const b64 = (text: string) => Buffer.from(text).toString('base64');

function controlPlaneInjectorConfig(values: InstallValues, namespace: string): InjectorConfig {
  const input = injectorConfigFromLinkerdValues(values, { controlPlaneNamespace: namespace });
  return createInjectorConfig({
    ...input,
    createdBy: `tsmesh/cli ${values.linkerdVersion}`,
    // Our own proxies live beside the trust-roots ConfigMap (Linkerd does the same).
    proxy: { ...input.proxy, loadTrustBundleFromConfigMap: true },
  });
}

/**
 * The control-plane pods' own proxy settings, as annotations so that re-injecting a pod keeps them:
 * - identity, no await: its proxy gets its certificate from the identity container beside it, so
 *   nothing may wait for that proxy (as a native sidecar with await — a startupProbe on /ready —
 *   the kubelet never starts the identity container, a deadlock seen on a real kubelet; Linkerd's
 *   chart turns await off there too);
 * - identity and destination reach the Kubernetes API around their proxy (Linkerd's chart skips
 *   the API's ports on both; they make no other outbound connection that needs the proxy). Through
 *   it, the API's address needs the destination controller for discovery: identity's TokenReviews
 *   then wait for a destination pod that waits for a certificate from identity — a destination
 *   scaled to 0 and back never became ready on the cluster — and a new destination pod's
 *   controllers would wait for themselves.
 */
function controlPlaneProxyAnnotations(
  component: ControlPlaneComponent,
  values: InstallValues,
): Record<string, string> {
  const kubeApiAround = { [ConfigAnnotation.SkipOutboundPorts]: String(values.proxyInit.kubeAPIServerPorts) };
  if (component === 'identity') return { [ConfigAnnotation.ProxyAwait]: 'disabled', ...kubeApiAround };
  if (component === 'destination') return kubeApiAround;
  return {};
}

export function renderControlPlane(values: InstallValues, options: RenderOptions): KubeManifest[] {
  const ns = options.namespace;
  const version = values.linkerdVersion;
  const trustDomain = values.identityTrustDomain || values.clusterDomain;
  const labels = (component: string) => ({
    [Label.ControlPlaneComponent]: component,
    [Label.ControlPlaneNamespace]: ns,
    'app.kubernetes.io/name': component,
    'app.kubernetes.io/part-of': 'tsmesh',
    'app.kubernetes.io/version': version,
  });
  const meta = (name: string, component: string, namespaced = true, extra: Values = {}) => ({
    name,
    ...(namespaced ? { namespace: ns } : {}),
    labels: labels(component),
    ...extra,
  });
  const imageOf = (i: { name: string; version: string }, component: string) =>
    `${i.name || `${values.imageRegistry}/${component}`}:${i.version || version}`;
  const securityContext = {
    allowPrivilegeEscalation: false,
    capabilities: { drop: ['ALL'] },
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    runAsUser: values.controllerUID,
    runAsGroup: values.controllerGID,
    seccompProfile: { type: 'RuntimeDefault' },
  };
  const httpProbe = (path: string, port: string, initialDelaySeconds: number) => ({
    httpGet: { path, port },
    initialDelaySeconds,
    periodSeconds: 10,
    timeoutSeconds: 1,
    failureThreshold: 3,
  });
  const resources = (r: Values) => ({ resources: r });
  const logLevel = (l: string) => l || values.controllerLogLevel;

  const out: KubeManifest[] = [];

  // --- Namespace
  out.push({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: ns,
      labels: {
        [Label.IsControlPlane]: 'true',
        [ConfigAnnotation.AdmissionWebhooks]: 'disabled',
        [Label.ControlPlaneNamespace]: ns,
        'pod-security.kubernetes.io/enforce': values.podSecurityEnforce,
      },
      annotations: { [INJECT_ANNOTATION]: 'disabled' },
    },
  });

  // --- RBAC, least privilege per component
  const rule = (apiGroups: string[], resources: string[], verbs: string[], resourceNames?: string[]) => ({
    apiGroups,
    resources,
    verbs,
    ...(resourceNames ? { resourceNames } : {}),
  });
  const watch = ['get', 'list', 'watch'];
  const clusterRules: Record<ControlPlaneComponent, Values[]> = {
    identity: [
      rule(['authentication.k8s.io'], ['tokenreviews'], ['create']),
      rule(['apps'], ['deployments'], ['get']),
      rule([''], ['events'], ['create', 'patch']),
    ],
    destination: [
      rule(['apps'], ['replicasets'], watch),
      rule(['batch'], ['jobs'], watch),
      rule([''], ['pods', 'endpoints', 'services', 'nodes', 'namespaces'], watch),
      rule(['discovery.k8s.io'], ['endpointslices'], watch),
      rule(['linkerd.io'], ['serviceprofiles'], watch),
      rule(['workload.linkerd.io'], ['externalworkloads'], watch),
      rule(['policy.linkerd.io'], ['*'], watch),
      rule(['policy.linkerd.io'], ['httproutes/status'], ['patch']),
      rule(['gateway.networking.k8s.io'], ['httproutes', 'grpcroutes'], watch),
      rule(['gateway.networking.k8s.io'], ['httproutes/status', 'grpcroutes/status'], ['patch']),
    ],
    'proxy-injector': [
      rule([''], ['events'], ['create', 'patch']),
      rule([''], ['namespaces', 'replicationcontrollers'], watch),
      rule([''], ['pods'], ['list', 'watch']),
      rule(['extensions', 'apps'], ['deployments', 'replicasets', 'daemonsets', 'statefulsets'], watch),
      rule(['extensions', 'batch'], ['cronjobs', 'jobs'], watch),
    ],
  };
  const roleRules: Record<ControlPlaneComponent, Values[]> = {
    // The issuer Secret, and the trust-roots ConfigMap tsmesh-identity watches for anchor rotation.
    identity: [rule([''], ['secrets'], watch), rule([''], ['configmaps'], watch)],
    destination: [
      rule(['coordination.k8s.io'], ['leases'], ['create', 'get', 'patch', 'update']),
      rule([''], ['secrets'], watch),
    ],
    'proxy-injector': [],
  };
  for (const c of CONTROL_PLANE_COMPONENTS) {
    const name = `linkerd-${c}`;
    out.push({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(name, c) });
    out.push({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: meta(`linkerd-${ns}-${c}`, c, false),
      rules: clusterRules[c],
    });
    out.push({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: meta(`linkerd-${ns}-${c}`, c, false),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: `linkerd-${ns}-${c}` },
      subjects: [{ kind: 'ServiceAccount', name, namespace: ns }],
    });
    if (roleRules[c].length) {
      out.push({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        metadata: meta(name, c),
        rules: roleRules[c],
      });
      out.push({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: meta(name, c),
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
        subjects: [{ kind: 'ServiceAccount', name, namespace: ns }],
      });
    }
  }

  // --- Configuration
  out.push({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: meta('linkerd-config', 'controller'),
    data: { values: stringify(publicValues(values), { lineWidth: 0 }) },
  });
  out.push({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: meta('linkerd-identity-trust-roots', 'identity'),
    data: { 'ca-bundle.crt': values.identityTrustAnchorsPEM },
  });
  out.push({
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: meta('linkerd-identity-issuer', 'identity'),
    data: {
      'crt.pem': b64(values.identity.issuer.tls.crtPEM),
      'key.pem': b64(values.identity.issuer.tls.keyPEM),
    },
  });
  const webhookSecrets = [
    ['linkerd-proxy-injector-k8s-tls', 'proxy-injector', values.proxyInjector],
    ['linkerd-sp-validator-k8s-tls', 'destination', values.profileValidator],
    ['linkerd-policy-validator-k8s-tls', 'destination', values.policyValidator],
  ] as const;
  for (const [name, component, w] of webhookSecrets) {
    out.push({
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'kubernetes.io/tls',
      metadata: meta(name, component),
      data: { 'tls.crt': b64(w.crtPEM), 'tls.key': b64(w.keyPEM), 'ca.crt': b64(w.caBundle) },
    });
  }

  // --- Services
  const service = (
    name: string,
    component: string,
    ports: { name: string; port: number; targetPort: number }[],
    headless = false,
  ): KubeManifest => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(name, component),
    spec: {
      type: 'ClusterIP',
      ...(headless ? { clusterIP: 'None' } : {}),
      selector: { [Label.ControlPlaneComponent]: component, [Label.ControlPlaneNamespace]: ns },
      ports: ports.map((p) => ({ ...p, protocol: 'TCP' })),
    },
  });
  out.push(
    service('linkerd-identity', 'identity', [{ name: 'grpc', port: 8080, targetPort: 8080 }]),
    service('linkerd-identity-headless', 'identity', [{ name: 'grpc', port: 8080, targetPort: 8080 }], true),
    service('linkerd-dst', 'destination', [{ name: 'grpc', port: 8086, targetPort: 8086 }]),
    service('linkerd-dst-headless', 'destination', [{ name: 'grpc', port: 8086, targetPort: 8086 }], true),
    service('linkerd-sp-validator', 'destination', [{ name: 'sp-validator', port: 443, targetPort: 8443 }]),
    service('linkerd-policy', 'destination', [{ name: 'grpc', port: 8090, targetPort: 8090 }], true),
    service('linkerd-policy-validator', 'destination', [
      { name: 'policy-https', port: 443, targetPort: 9443 },
    ]),
    service('linkerd-proxy-injector', 'proxy-injector', [
      { name: 'proxy-injector', port: 443, targetPort: 8443 },
    ]),
  );

  // --- Deployments
  const injectorConfig = controlPlaneInjectorConfig(values, ns);
  const volumeMount = (name: string, mountPath: string) => ({ name, mountPath, readOnly: true });
  const trustRootsVolume = { name: 'trust-roots', configMap: { name: 'linkerd-identity-trust-roots' } };
  const tlsVolume = (name: string, secretName: string) => ({ name, secret: { secretName } });
  const deployment = (
    component: ControlPlaneComponent,
    containers: Values[],
    volumes: Values[],
  ): KubeManifest => {
    const name = `linkerd-${component}`;
    const selector = {
      [Label.ControlPlaneComponent]: component,
      [Label.ControlPlaneNamespace]: ns,
      [ProxyOwnerLabel.Deployment]: name,
    };
    const affinity = values.enablePodAntiAffinity
      ? {
          affinity: {
            podAntiAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: [
                {
                  labelSelector: { matchLabels: { [Label.ControlPlaneComponent]: component } },
                  topologyKey: 'kubernetes.io/hostname',
                },
              ],
              preferredDuringSchedulingIgnoredDuringExecution: [
                {
                  weight: 100,
                  podAffinityTerm: {
                    labelSelector: { matchLabels: { [Label.ControlPlaneComponent]: component } },
                    topologyKey: 'topology.kubernetes.io/zone',
                  },
                },
              ],
            },
          },
        }
      : {};
    const object: KubeManifest = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta(name, component),
      spec: {
        replicas: values.controllerReplicas,
        revisionHistoryLimit: 10,
        selector: { matchLabels: selector },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
        template: {
          metadata: {
            annotations: {
              'cluster-autoscaler.kubernetes.io/safe-to-evict': 'true',
              [ConfigAnnotation.DefaultInboundPolicy]: 'all-unauthenticated',
              ...controlPlaneProxyAnnotations(component, values),
            },
            labels: { ...labels(component), ...selector },
          },
          spec: {
            serviceAccountName: name,
            automountServiceAccountToken: true,
            enableServiceLinks: false,
            nodeSelector: { 'kubernetes.io/os': 'linux' },
            securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
            ...affinity,
            containers,
            volumes,
          },
        },
      },
    };
    return inject(object, injectorConfig, undefined, { requireAnnotation: false }).object;
  };
  const controller = (
    name: string,
    image: string,
    args: string[],
    ports: Values[],
    adminPort: string,
    mounts: Values[],
    res: Values,
  ) => ({
    name,
    image,
    imagePullPolicy: values.imagePullPolicy,
    args,
    ports,
    livenessProbe: httpProbe('/live', adminPort, 10),
    readinessProbe: httpProbe('/ready', adminPort, 0),
    securityContext,
    ...resources(res),
    ...(mounts.length ? { volumeMounts: mounts } : {}),
  });
  const port = (name: string, containerPort: number) => ({ name, containerPort, protocol: 'TCP' });

  const idv = values.identity;
  out.push(
    deployment(
      'identity',
      [
        controller(
          'identity',
          imageOf(idv.image, 'identity'),
          [
            'tsmesh-identity',
            '--addr=0.0.0.0:8080',
            '--admin-addr=0.0.0.0:9990',
            `--trust-domain=${trustDomain}`,
            `--controller-namespace=${ns}`,
            '--trust-anchors=/var/run/linkerd/identity/trust-roots/ca-bundle.crt',
            `--issuance-lifetime=${idv.issuer.issuanceLifetime}`,
            `--clock-skew-allowance=${idv.issuer.clockSkewAllowance}`,
            `--log-level=${logLevel(idv.logLevel)}`,
          ],
          [port('grpc', 8080), port('admin-http', 9990)],
          'admin-http',
          [volumeMount('trust-roots', '/var/run/linkerd/identity/trust-roots')],
          idv.resources,
        ),
      ],
      [trustRootsVolume],
    ),
  );
  const dst = values.destination;
  const pol = values.policyController;
  out.push(
    deployment(
      'destination',
      [
        controller(
          'destination',
          imageOf(dst.image, 'destination'),
          [
            'tsmesh-destination',
            '-addr=:8086',
            '-admin-addr=:9996',
            `-controller-namespace=${ns}`,
            `-cluster-domain=${values.clusterDomain}`,
            `-identity-trust-domain=${trustDomain}`,
            `-default-opaque-ports=${dst.defaultOpaquePorts}`,
            `-log-level=${logLevel(dst.logLevel)}`,
          ],
          [port('grpc', 8086), port('admin-http', 9996)],
          'admin-http',
          [],
          dst.resources,
        ),
        controller(
          'sp-validator',
          imageOf(dst.image, 'destination'),
          [
            'tsmesh-destination',
            'sp-validator',
            '-addr=:8443',
            '-admin-addr=:9997',
            '-tls-cert-file=/var/run/linkerd/tls/tls.crt',
            '-tls-key-file=/var/run/linkerd/tls/tls.key',
            `-log-level=${logLevel(dst.logLevel)}`,
          ],
          [port('sp-validator', 8443), port('admin-http', 9997)],
          'admin-http',
          [volumeMount('sp-tls', '/var/run/linkerd/tls')],
          dst.resources,
        ),
        controller(
          'policy',
          imageOf(pol.image, 'policy'),
          [
            'tsmesh-policy',
            '--grpc-addr=0.0.0.0:8090',
            '--admin-addr=0.0.0.0:9990',
            '--admission-addr=0.0.0.0:9443',
            '--admission-cert-dir=/var/run/linkerd/tls',
            `--cluster-networks=${values.clusterNetworks}`,
            `--identity-domain=${trustDomain}`,
            `--cluster-domain=${values.clusterDomain}`,
            `--default-policy=${pol.defaultPolicy}`,
            `--default-opaque-ports=${dst.defaultOpaquePorts}`,
            `--probe-networks=${pol.probeNetworks}`,
            `--control-plane-namespace=${ns}`,
            `--log-level=${logLevel(pol.logLevel)}`,
            // Only what the values ask for (e.g. --allow-l5d-request-headers), as Linkerd's chart.
            ...pol.additionalArgs,
          ],
          [port('grpc', 8090), port('admin-http', 9990), port('policy-https', 9443)],
          'admin-http',
          [volumeMount('policy-tls', '/var/run/linkerd/tls')],
          pol.resources,
        ),
      ],
      [
        tlsVolume('sp-tls', 'linkerd-sp-validator-k8s-tls'),
        tlsVolume('policy-tls', 'linkerd-policy-validator-k8s-tls'),
      ],
    ),
  );
  const inj = values.proxyInjector;
  out.push(
    deployment(
      'proxy-injector',
      [
        controller(
          'proxy-injector',
          imageOf(inj.image, 'injector'),
          [
            'tsmesh-injector',
            '--addr=:8443',
            '--admin-addr=:9995',
            '--tls-cert=/var/run/linkerd/tls/tls.crt',
            '--tls-key=/var/run/linkerd/tls/tls.key',
            '--linkerd-values=/var/run/linkerd/config/values',
            '--trust-anchors=/var/run/linkerd/identity/trust-roots/ca-bundle.crt',
            `--controller-namespace=${ns}`,
            `--cluster-domain=${values.clusterDomain}`,
            `--identity-trust-domain=${trustDomain}`,
            `--log-level=${logLevel(inj.logLevel)}`,
          ],
          [port('proxy-injector', 8443), port('admin-http', 9995)],
          'admin-http',
          [
            volumeMount('config', '/var/run/linkerd/config'),
            volumeMount('trust-roots', '/var/run/linkerd/identity/trust-roots'),
            volumeMount('tls', '/var/run/linkerd/tls'),
          ],
          inj.resources,
        ),
      ],
      [
        { name: 'config', configMap: { name: 'linkerd-config' } },
        trustRootsVolume,
        tlsVolume('tls', 'linkerd-proxy-injector-k8s-tls'),
      ],
    ),
  );

  // --- PodDisruptionBudgets (--ha)
  if (values.enablePodDisruptionBudget) {
    for (const c of CONTROL_PLANE_COMPONENTS) {
      out.push({
        apiVersion: 'policy/v1',
        kind: 'PodDisruptionBudget',
        metadata: meta(`linkerd-${c}`, c),
        spec: {
          maxUnavailable: 1,
          selector: {
            matchLabels: {
              [Label.ControlPlaneComponent]: c,
              [Label.ControlPlaneNamespace]: ns,
              [ProxyOwnerLabel.Deployment]: `linkerd-${c}`,
            },
          },
        },
      });
    }
  }

  // --- Admission webhooks
  const excludeDisabled = {
    matchExpressions: [{ key: ConfigAnnotation.AdmissionWebhooks, operator: 'NotIn', values: ['disabled'] }],
  };
  out.push({
    ...injectorWebhookConfiguration({
      caBundlePem: values.proxyInjector.caBundle,
      controlPlaneNamespace: ns,
      failurePolicy: values.proxyInjector.failurePolicy,
    }),
    metadata: meta('linkerd-proxy-injector-webhook-config', 'proxy-injector', false),
  } as KubeManifest);
  const validating = (
    name: string,
    component: string,
    webhookName: string,
    serviceName: string,
    ca: string,
    failurePolicy: string,
    rules: Values[],
  ): KubeManifest => ({
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: meta(name, component, false),
    webhooks: [
      {
        name: webhookName,
        namespaceSelector: excludeDisabled,
        clientConfig: {
          service: { name: serviceName, namespace: ns, path: '/', port: 443 },
          caBundle: b64(ca),
        },
        failurePolicy,
        admissionReviewVersions: ['v1', 'v1beta1'],
        sideEffects: 'None',
        timeoutSeconds: 10,
        rules,
      },
    ],
  });
  out.push(
    validating(
      'linkerd-sp-validator-webhook-config',
      'destination',
      'linkerd-sp-validator.linkerd.io',
      'linkerd-sp-validator',
      values.profileValidator.caBundle,
      values.profileValidator.failurePolicy,
      [
        {
          operations: ['CREATE', 'UPDATE'],
          apiGroups: ['linkerd.io'],
          apiVersions: ['v1alpha1', 'v1alpha2'],
          resources: ['serviceprofiles'],
        },
      ],
    ),
    validating(
      'linkerd-policy-validator-webhook-config',
      'destination',
      'linkerd-policy-validator.linkerd.io',
      'linkerd-policy-validator',
      values.policyValidator.caBundle,
      values.policyValidator.failurePolicy,
      [
        {
          operations: ['CREATE', 'UPDATE'],
          apiGroups: ['policy.linkerd.io'],
          apiVersions: ['*'],
          resources: [
            'authorizationpolicies',
            'httplocalratelimitpolicies',
            'httproutes',
            'networkauthentications',
            'meshtlsauthentications',
            'serverauthorizations',
            'servers',
            'egressnetworks',
          ],
        },
        {
          operations: ['CREATE', 'UPDATE'],
          apiGroups: ['gateway.networking.k8s.io'],
          apiVersions: ['*'],
          resources: ['httproutes', 'grpcroutes'],
        },
      ],
    ),
  );
  // A checksum of the identity material on the identity pods, so an issuer change rolls them.
  const identityDeployment = out.find(
    (o) => o.kind === 'Deployment' && o.metadata.name === 'linkerd-identity',
  );
  const template = (identityDeployment?.spec as Values | undefined)?.template as {
    metadata: { annotations: Values };
  };
  if (template) {
    template.metadata.annotations['checksum/config'] = sha256(
      values.identityTrustAnchorsPEM + values.identity.issuer.tls.crtPEM,
    );
  }
  return out;
}

/** Multi-document YAML, one object per document, in order. */
export function formatManifests(objects: readonly unknown[]): string {
  return objects.map((o) => `---\n${stringify(o, { lineWidth: 0, aliasDuplicateObjects: false })}`).join('');
}
