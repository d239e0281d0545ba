// `tsmesh viz install`: the linkerd-viz extension's objects, with linkerd-viz's names so RBAC,
// checks and people's habits carry over — namespace `linkerd-viz` (label
// `linkerd.io/extension: viz`), metrics-api, tap (the APIService `v1alpha1.tap.linkerd.io` and its
// serving certificate), tap-injector (the webhook that gives proxies LINKERD2_PROXY_TAP_SVC_NAME),
// web, and Prometheus unless `prometheusUrl` points at an external one. RBAC: the tap service may
// read workloads, delegate authentication and authorization (SubjectAccessReview), read the
// aggregator's client CA and the control plane's trust roots; `linkerd-linkerd-viz-tap-admin`
// grants tapping (bound to web).
import { ConfigAnnotation, DefaultPort } from '@tsmesh/core';
import { VIZ_NAMESPACE } from '@tsmesh/viz';
import { createWebhookCertificate, type WebhookCertificate } from '../../install/index.js';
import { VERSION } from '../../version.js';
import { defaultEnforcedHost } from './in-cluster-servers.js';

export interface VizValues {
  namespace: string;
  controlPlaneNamespace: string;
  clusterDomain: string;
  /** External Prometheus; empty: install one. */
  prometheusUrl: string;
  imageRegistry: string;
  imageTag: string;
  prometheusImage: string;
  logLevel: string;
  /** The host the dashboard accepts (DNS-rebinding protection, linkerd's -enforced-host). */
  enforcedHostRegexp: string;
}

export const DEFAULT_VIZ_VALUES: Readonly<VizValues> = Object.freeze({
  namespace: VIZ_NAMESPACE,
  controlPlaneNamespace: 'linkerd',
  clusterDomain: 'cluster.local',
  prometheusUrl: '',
  imageRegistry: 'ghcr.io/tsmesh',
  imageTag: VERSION,
  prometheusImage: 'prom/prometheus:v2.55.1',
  logLevel: 'info',
  enforcedHostRegexp: '',
});

type Obj = Record<string, unknown>;

const CREATED_BY = `tsmesh/cli ${VERSION}`;

/** Serving certificates of the tap APIService and the tap injector (generated when not given). */
export interface VizCertificates {
  tap: WebhookCertificate;
  tapInjector: WebhookCertificate;
}

export function vizManifests(v: VizValues, now = new Date(), certs?: VizCertificates): Obj[] {
  const ns = v.namespace;
  const labels = (component: string) => ({ 'linkerd.io/extension': 'viz', component });
  const meta = (name: string, component: string, namespaced = true) => ({
    name,
    ...(namespaced ? { namespace: ns } : {}),
    labels: labels(component),
    annotations: { 'linkerd.io/created-by': CREATED_BY },
  });
  const sa = (name: string): Obj => ({
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: meta(name, name),
  });
  const clusterRole = (name: string, component: string, rules: Obj[]): Obj => ({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: meta(name, component, false),
    rules,
  });
  const binding = (
    name: string,
    component: string,
    role: string,
    account: string,
    kind = 'ClusterRole',
  ): Obj => ({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: meta(name, component, false),
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind, name: role },
    subjects: [{ kind: 'ServiceAccount', name: account, namespace: ns }],
  });
  const read = (apiGroups: string[], resources: string[]) => ({
    apiGroups,
    resources,
    verbs: ['list', 'get', 'watch'],
  });
  const workloads = [
    read([''], ['pods', 'services', 'replicationcontrollers', 'namespaces', 'nodes', 'endpoints']),
    read(['extensions', 'apps'], ['daemonsets', 'deployments', 'replicasets', 'statefulsets']),
    read(['extensions', 'batch'], ['cronjobs', 'jobs']),
  ];
  const service = (name: string, ports: Obj[]): Obj => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(name, name),
    spec: { type: 'ClusterIP', selector: labels(name), ports },
  });
  const image = `${v.imageRegistry}/viz:${v.imageTag}`;
  const deployment = (
    name: string,
    args: string[],
    ports: Obj[],
    extra: {
      volumes?: Obj[];
      mounts?: Obj[];
      image?: string;
      command?: boolean;
      probes?: boolean;
      podAnnotations?: Record<string, string>;
    } = {},
  ): Obj => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta(name, name),
    spec: {
      replicas: 1,
      selector: { matchLabels: labels(name) },
      strategy: { type: 'RollingUpdate' },
      template: {
        metadata: {
          labels: labels(name),
          annotations: {
            'linkerd.io/inject': 'enabled',
            'linkerd.io/created-by': CREATED_BY,
            ...extra.podAnnotations,
          },
        },
        spec: {
          serviceAccountName: name,
          nodeSelector: { 'kubernetes.io/os': 'linux' },
          securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
          containers: [
            {
              name,
              image: extra.image ?? image,
              imagePullPolicy: 'IfNotPresent',
              ...(extra.command ? { command: args } : { args }),
              ports,
              // /live and /ready on the admin port (`tsmesh viz metrics-api|web --admin-addr`).
              ...(extra.probes
                ? {
                    livenessProbe: {
                      httpGet: { path: '/live', port: 'admin-http' },
                      initialDelaySeconds: 10,
                    },
                    readinessProbe: { httpGet: { path: '/ready', port: 'admin-http' }, failureThreshold: 7 },
                  }
                : {}),
              resources: { requests: { cpu: '10m', memory: '50Mi' } },
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                runAsNonRoot: true,
                runAsUser: 2103,
                capabilities: { drop: ['ALL'] },
              },
              ...(extra.mounts ? { volumeMounts: extra.mounts } : {}),
            },
          ],
          ...(extra.volumes ? { volumes: extra.volumes } : {}),
        },
      },
    },
  });
  const tlsSecret = (name: string, component: string, crt: string, key: string): Obj => ({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: meta(name, component),
    type: 'kubernetes.io/tls',
    data: { 'tls.crt': Buffer.from(crt).toString('base64'), 'tls.key': Buffer.from(key).toString('base64') },
  });
  const tlsVolume = (secret: string) => ({
    volumes: [{ name: 'tls', secret: { secretName: secret } }],
    mounts: [{ name: 'tls', mountPath: '/var/run/linkerd/tls', readOnly: true }],
  });
  const prometheusUrl = v.prometheusUrl || `http://prometheus.${ns}.svc.${v.clusterDomain}:9090`;
  const tapCert = certs?.tap ?? createWebhookCertificate('tap', ns, now);
  const injectorCert = certs?.tapInjector ?? createWebhookCertificate('tap-injector', ns, now);
  const cliImage = `${v.imageRegistry}/cli:${v.imageTag}`;

  const objects: Obj[] = [
    {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: ns,
        labels: { 'linkerd.io/extension': 'viz', 'pod-security.kubernetes.io/enforce': 'privileged' },
        annotations: { 'linkerd.io/inject': 'enabled', 'linkerd.io/created-by': CREATED_BY },
      },
    },
    // metrics-api
    sa('metrics-api'),
    clusterRole(`linkerd-${ns}-metrics-api`, 'metrics-api', [
      ...workloads,
      read(['policy.linkerd.io'], ['servers', 'serverauthorizations', 'authorizationpolicies', 'httproutes']),
    ]),
    binding(`linkerd-${ns}-metrics-api`, 'metrics-api', `linkerd-${ns}-metrics-api`, 'metrics-api'),
    service('metrics-api', [{ name: 'http', port: 8085, targetPort: 8085 }]),
    // `tsmesh viz metrics-api` (the CLI image).
    deployment(
      'metrics-api',
      [
        'tsmesh',
        'viz',
        'metrics-api',
        '--addr=0.0.0.0:8085',
        '--admin-addr=0.0.0.0:9995',
        `--prometheus-url=${prometheusUrl}`,
      ],
      [
        { name: 'http', containerPort: 8085 },
        { name: 'admin-http', containerPort: 9995 },
      ],
      { image: cliImage, command: true, probes: true },
    ),
    // tap
    sa('tap'),
    clusterRole(`linkerd-${ns}-tap`, 'tap', workloads),
    clusterRole(`linkerd-${ns}-tap-admin`, 'tap', [
      { apiGroups: ['tap.linkerd.io'], resources: ['*'], verbs: ['watch'] },
    ]),
    binding(`linkerd-${ns}-tap`, 'tap', `linkerd-${ns}-tap`, 'tap'),
    binding(`linkerd-${ns}-tap-auth-delegator`, 'tap', 'system:auth-delegator', 'tap'),
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { ...meta(`linkerd-${ns}-tap-auth-reader`, 'tap', false), namespace: 'kube-system' },
      roleRef: {
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'Role',
        name: 'extension-apiserver-authentication-reader',
      },
      subjects: [{ kind: 'ServiceAccount', name: 'tap', namespace: ns }],
    },
    tlsSecret('tap-k8s-tls', 'tap', tapCert.crtPEM, tapCert.keyPEM),
    {
      apiVersion: 'apiregistration.k8s.io/v1',
      kind: 'APIService',
      metadata: meta('v1alpha1.tap.linkerd.io', 'tap', false),
      spec: {
        group: 'tap.linkerd.io',
        version: 'v1alpha1',
        groupPriorityMinimum: 1000,
        versionPriority: 100,
        service: { name: 'tap', namespace: ns },
        caBundle: Buffer.from(tapCert.caBundle).toString('base64'),
      },
    },
    service('tap', [
      { name: 'grpc', port: 8088, targetPort: 8088 },
      { name: 'apiserver', port: 443, targetPort: 'apiserver' },
    ]),
    // `tsmesh viz tap-server` (the CLI image): the APIService backend; it asks the identity service
    // for the tap identity with its own ServiceAccount token (audience identity.l5d.io). Its volume
    // is not named linkerd-identity-token: the proxy injector adds a volume of that name for the
    // proxy, and a pod with both is refused (spec.volumes: Duplicate value).
    deployment(
      'tap',
      [
        'tsmesh',
        'viz',
        'tap-server',
        '--addr=0.0.0.0:8089',
        '--tls-dir=/var/run/linkerd/tls',
        `--controller-namespace=${v.controlPlaneNamespace}`,
        `--trust-domain=${v.clusterDomain}`,
        `--identity-addr=linkerd-identity-headless.${v.controlPlaneNamespace}.svc.${v.clusterDomain}:8080`,
        '--identity-token-file=/var/run/secrets/tap-tokens/tap-identity-token',
      ],
      [
        { name: 'grpc', containerPort: 8088 },
        { name: 'apiserver', containerPort: 8089 },
        { name: 'admin-http', containerPort: 9998 },
      ],
      {
        image: cliImage,
        command: true,
        // The tap server speaks mutual TLS to the proxies' control port itself, as the tap identity;
        // its own proxy must not take those connections over (it would wrap or misroute them).
        podAnnotations: { [ConfigAnnotation.SkipOutboundPorts]: String(DefaultPort.Control) },
        volumes: [
          ...tlsVolume('tap-k8s-tls').volumes,
          {
            name: 'tap-identity-token',
            projected: {
              sources: [
                {
                  serviceAccountToken: {
                    path: 'tap-identity-token',
                    expirationSeconds: 86400,
                    audience: 'identity.l5d.io',
                  },
                },
              ],
            },
          },
        ],
        mounts: [
          ...tlsVolume('tap-k8s-tls').mounts,
          { name: 'tap-identity-token', mountPath: '/var/run/secrets/tap-tokens', readOnly: true },
        ],
      },
    ),
    // tap-injector
    sa('tap-injector'),
    clusterRole(`linkerd-${ns}-tap-injector`, 'tap-injector', [read([''], ['namespaces'])]),
    binding(`linkerd-${ns}-tap-injector`, 'tap-injector', `linkerd-${ns}-tap-injector`, 'tap-injector'),
    tlsSecret('tap-injector-k8s-tls', 'tap-injector', injectorCert.crtPEM, injectorCert.keyPEM),
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingWebhookConfiguration',
      metadata: meta('linkerd-tap-injector-webhook-config', 'tap-injector', false),
      webhooks: [
        {
          name: 'tap-injector.linkerd.io',
          namespaceSelector: {
            matchExpressions: [
              { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system'] },
            ],
          },
          clientConfig: {
            service: { name: 'tap-injector', namespace: ns, path: '/' },
            caBundle: Buffer.from(injectorCert.caBundle).toString('base64'),
          },
          failurePolicy: 'Ignore',
          admissionReviewVersions: ['v1', 'v1beta1'],
          reinvocationPolicy: 'IfNeeded',
          rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }],
          sideEffects: 'None',
          timeoutSeconds: 10,
        },
      ],
    },
    service('tap-injector', [{ name: 'tap-injector', port: 443, targetPort: 'tap-injector' }]),
    // `tsmesh viz tap-injector` (the CLI image).
    deployment(
      'tap-injector',
      [
        'tsmesh',
        'viz',
        'tap-injector',
        '--addr=0.0.0.0:8443',
        '--tls-dir=/var/run/linkerd/tls',
        `--tap-service-name=tap.${ns}.serviceaccount.identity.${v.controlPlaneNamespace}.${v.clusterDomain}`,
      ],
      [
        { name: 'tap-injector', containerPort: 8443 },
        { name: 'admin-http', containerPort: 9995 },
      ],
      { ...tlsVolume('tap-injector-k8s-tls'), image: cliImage, command: true },
    ),
    // web
    sa('web'),
    clusterRole(`linkerd-${ns}-web-check`, 'web', [
      read(['rbac.authorization.k8s.io'], ['clusterroles', 'clusterrolebindings']),
      read(['apiextensions.k8s.io'], ['customresourcedefinitions']),
      read(
        ['admissionregistration.k8s.io'],
        ['mutatingwebhookconfigurations', 'validatingwebhookconfigurations'],
      ),
      read(['apiregistration.k8s.io'], ['apiservices']),
      read(['policy'], ['podsecuritypolicies']),
      read(['linkerd.io'], ['serviceprofiles']),
      read([''], ['nodes', 'pods', 'namespaces', 'configmaps', 'services']),
      read(['apps'], ['replicasets']),
    ]),
    binding(`linkerd-${ns}-web-check`, 'web', `linkerd-${ns}-web-check`, 'web'),
    binding(`linkerd-${ns}-web-admin`, 'web', `linkerd-${ns}-tap-admin`, 'web'),
    service('web', [
      { name: 'http', port: 8084, targetPort: 8084 },
      { name: 'admin-http', port: 9994, targetPort: 9994 },
    ]),
    // `tsmesh viz web` (the CLI image): the dashboard over the same Prometheus.
    deployment(
      'web',
      [
        'tsmesh',
        'viz',
        'web',
        '--addr=0.0.0.0:8084',
        '--admin-addr=0.0.0.0:9994',
        `--prometheus-url=${prometheusUrl}`,
        `--enforced-host=${v.enforcedHostRegexp || defaultEnforcedHost(ns, v.clusterDomain)}`,
      ],
      [
        { name: 'http', containerPort: 8084 },
        { name: 'admin-http', containerPort: 9994 },
      ],
      { image: cliImage, command: true, probes: true },
    ),
    // The tap server checks its tap identity's certificate against the control plane's trust roots
    // (after web, so the chart's earlier template files keep their names).
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: {
        ...meta(`linkerd-${ns}-tap-trust-roots`, 'tap', false),
        namespace: v.controlPlaneNamespace,
      },
      rules: [
        {
          apiGroups: [''],
          resources: ['configmaps'],
          resourceNames: ['linkerd-identity-trust-roots'],
          verbs: ['get'],
        },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: {
        ...meta(`linkerd-${ns}-tap-trust-roots`, 'tap', false),
        namespace: v.controlPlaneNamespace,
      },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: `linkerd-${ns}-tap-trust-roots` },
      subjects: [{ kind: 'ServiceAccount', name: 'tap', namespace: ns }],
    },
  ];
  if (!v.prometheusUrl)
    objects.push(...prometheusObjects(v, meta, sa, clusterRole, binding, service, deployment));
  return objects;
}

function prometheusObjects(
  v: VizValues,
  meta: (name: string, component: string, namespaced?: boolean) => Obj,
  sa: (name: string) => Obj,
  clusterRole: (name: string, component: string, rules: Obj[]) => Obj,
  binding: (name: string, component: string, role: string, account: string) => Obj,
  service: (name: string, ports: Obj[]) => Obj,
  deployment: (
    name: string,
    args: string[],
    ports: Obj[],
    extra?: { volumes?: Obj[]; mounts?: Obj[]; image?: string; command?: boolean; probes?: boolean },
  ) => Obj,
): Obj[] {
  const ns = v.namespace;
  // The `linkerd-proxy` job as linkerd-viz scrapes it: each meshed pod's linkerd-admin port, with
  // namespace, pod, the owner from linkerd.io/proxy-<kind> labels and control_plane_ns.
  const config = [
    'global:',
    '  evaluation_interval: 10s',
    '  scrape_interval: 10s',
    '  scrape_timeout: 10s',
    'scrape_configs:',
    '- job_name: linkerd-proxy',
    '  kubernetes_sd_configs:',
    '  - role: pod',
    '  relabel_configs:',
    '  - source_labels: [__meta_kubernetes_pod_container_name, __meta_kubernetes_pod_container_port_name, __meta_kubernetes_pod_label_linkerd_io_control_plane_ns]',
    '    action: keep',
    `    regex: ^linkerd-proxy;linkerd-admin;${v.controlPlaneNamespace}$`,
    '  - source_labels: [__meta_kubernetes_namespace]',
    '    action: replace',
    '    target_label: namespace',
    '  - source_labels: [__meta_kubernetes_pod_name]',
    '    action: replace',
    '    target_label: pod',
    '  - source_labels: [__meta_kubernetes_pod_label_linkerd_io_proxy_job]',
    '    action: replace',
    '    target_label: k8s_job',
    '  - action: labeldrop',
    '    regex: __meta_kubernetes_pod_label_linkerd_io_proxy_job',
    '  - action: labelmap',
    '    regex: __meta_kubernetes_pod_label_linkerd_io_proxy_(.+)',
    '  - action: labeldrop',
    '    regex: __meta_kubernetes_pod_label_linkerd_io_proxy_(.+)',
    '  - action: labelmap',
    '    regex: __meta_kubernetes_pod_label_linkerd_io_(.+)',
    '  - action: labelmap',
    '    regex: __meta_kubernetes_pod_label_(.+)',
    '    replacement: __tmp_pod_label_$1',
    '  - action: labelmap',
    '    regex: __tmp_pod_label_linkerd_io_(.+)',
    '    replacement:  __tmp_pod_label_$1',
    '  - action: labeldrop',
    '    regex: __tmp_pod_label_linkerd_io_(.+)',
    '  - action: labelmap',
    '    regex: __tmp_pod_label_(.+)',
    '',
  ].join('\n');
  return [
    sa('prometheus'),
    clusterRole(`linkerd-${ns}-prometheus`, 'prometheus', [
      { apiGroups: [''], resources: ['nodes', 'nodes/proxy', 'pods'], verbs: ['get', 'list', 'watch'] },
    ]),
    binding(`linkerd-${ns}-prometheus`, 'prometheus', `linkerd-${ns}-prometheus`, 'prometheus'),
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: meta('prometheus-config', 'prometheus'),
      data: { 'prometheus.yml': config },
    },
    service('prometheus', [{ name: 'admin-http', port: 9090, targetPort: 9090 }]),
    deployment(
      'prometheus',
      [
        '--log.level=info',
        '--config.file=/etc/prometheus/prometheus.yml',
        '--storage.tsdb.path=/data',
        '--storage.tsdb.retention.time=6h',
      ],
      [{ name: 'admin-http', containerPort: 9090 }],
      {
        image: v.prometheusImage,
        volumes: [
          { name: 'prometheus-config', configMap: { name: 'prometheus-config' } },
          { name: 'data', emptyDir: {} },
        ],
        mounts: [
          { name: 'prometheus-config', mountPath: '/etc/prometheus', readOnly: true },
          { name: 'data', mountPath: '/data' },
        ],
      },
    ),
  ];
}

/** `--set key=value` pairs onto the values (known keys only; clear error otherwise). */
export function applyVizSets(base: Readonly<VizValues>, sets: readonly string[]): VizValues {
  const v: VizValues = { ...base };
  for (const s of sets) {
    const eq = s.indexOf('=');
    const key = eq > 0 ? s.slice(0, eq) : '';
    if (!(key in v)) {
      throw new Error(`unknown value ${JSON.stringify(key || s)} (known: ${Object.keys(v).join(', ')})`);
    }
    (v as unknown as Record<string, string>)[key] = s.slice(eq + 1);
  }
  return v;
}
