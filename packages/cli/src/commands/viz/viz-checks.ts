// `tsmesh viz check`: the `linkerd-viz` category of `linkerd viz check` — the namespace, RBAC,
// the tap APIService and its serving certificate, and the extension's pods.
import { MeshError, MeshErrorCode, parseCertificates } from '@tsmesh/core';
import { CoreKinds, isNotFound, type KubeApiClient, type KubeObject } from '@tsmesh/kube';
import { podProxyContainer } from '@tsmesh/viz';
import { MIN_VALIDITY_DAYS, type CheckCategory } from '../../check/index.js';

const problem = (message: string) => new MeshError(MeshErrorCode.FailedPrecondition, message);

export interface VizCheckOptions {
  readonly connect: () => KubeApiClient;
  readonly namespace: string;
  /** Prometheus is external (`--set prometheusUrl=`): do not look for viz's own. */
  readonly externalPrometheus?: boolean;
}

/** The components `viz install` creates (Deployments and ServiceAccounts). */
export const vizComponents = (externalPrometheus: boolean) => [
  'metrics-api',
  'tap',
  'tap-injector',
  'web',
  ...(externalPrometheus ? [] : ['prometheus']),
];

interface PodLike extends KubeObject {
  spec?: { containers?: { name?: string }[]; initContainers?: { name?: string }[] };
  status?: { phase?: string; conditions?: { type?: string; status?: string }[] };
}

export function vizCheckCategories(o: VizCheckOptions): CheckCategory[] {
  let client: KubeApiClient | undefined;
  const api = () => (client ??= o.connect());
  const ns = o.namespace;
  const exists = async (path: string) =>
    api()
      .request({ path })
      .then(() => true)
      .catch((err: unknown) => {
        if (isNotFound(err)) return false;
        throw err;
      });
  const allExist = async (what: string, base: string, names: string[]) => {
    const missing: string[] = [];
    for (const n of names) if (!(await exists(`${base}/${n}`))) missing.push(n);
    if (missing.length)
      throw problem(`missing ${what}: ${missing.join(', ')}; run: tsmesh viz install | kubectl apply -f -`);
  };
  const components = vizComponents(o.externalPrometheus ?? false);
  const rbac = '/apis/rbac.authorization.k8s.io/v1';
  const tapCert = async () => {
    const secret = await api()
      .get<KubeObject & { data?: Record<string, string> }>(CoreKinds.Secret, {
        namespace: ns,
        name: 'tap-k8s-tls',
      })
      .catch((err: unknown) => {
        if (isNotFound(err)) throw problem(`no Secret tap-k8s-tls in namespace ${ns}`);
        throw err;
      });
    const pem = Buffer.from(secret.data?.['tls.crt'] ?? '', 'base64').toString('utf8');
    const [cert] = parseCertificates(pem, { where: `${ns}/tap-k8s-tls tls.crt` });
    if (!cert) throw problem(`${ns}/tap-k8s-tls has no certificate`);
    return cert;
  };
  const vizPods = async () =>
    (await api().list<PodLike>(CoreKinds.Pod, { namespace: ns, labelSelector: 'linkerd.io/extension=viz' }))
      .items;

  return [
    {
      name: 'linkerd-viz',
      checks: [
        {
          description: 'linkerd-viz Namespace exists',
          hintAnchor: 'l5d-viz-ns-exists',
          fatal: true,
          run: async () => {
            if (!(await exists(`/api/v1/namespaces/${ns}`)))
              throw problem(`no namespace ${ns}; run: tsmesh viz install | kubectl apply -f -`);
          },
        },
        {
          description: 'linkerd-viz ClusterRoles exist',
          hintAnchor: 'l5d-viz-cr-exists',
          run: () =>
            allExist(
              'ClusterRoles',
              `${rbac}/clusterroles`,
              [...components.filter((c) => c !== 'web'), 'tap-admin', 'web-check'].map(
                (c) => `linkerd-${ns}-${c}`,
              ),
            ),
        },
        {
          description: 'linkerd-viz ClusterRoleBindings exist',
          hintAnchor: 'l5d-viz-crb-exists',
          run: () =>
            allExist(
              'ClusterRoleBindings',
              `${rbac}/clusterrolebindings`,
              [...components.filter((c) => c !== 'web'), 'tap-auth-delegator', 'web-check', 'web-admin'].map(
                (c) => `linkerd-${ns}-${c}`,
              ),
            ),
        },
        {
          description: 'tap API server has valid cert',
          hintAnchor: 'l5d-tap-cert-valid',
          run: async () => {
            const cert = await tapCert();
            const now = Date.now();
            if (cert.notBefore.getTime() > now || cert.notAfter.getTime() < now)
              throw problem(
                `the tap certificate is valid from ${cert.notBefore.toISOString()} to ${cert.notAfter.toISOString()}`,
              );
            const host = `tap.${ns}.svc`;
            if (!cert.dnsNames.includes(host)) throw problem(`the tap certificate is not for ${host}`);
          },
        },
        {
          description: `tap API server cert is valid for at least ${MIN_VALIDITY_DAYS} days`,
          hintAnchor: 'l5d-tap-cert-not-expiring-soon',
          warning: true,
          run: async () => {
            const days = Math.floor(((await tapCert()).notAfter.getTime() - Date.now()) / 86_400_000);
            if (days < MIN_VALIDITY_DAYS) throw problem(`the tap certificate expires in ${days} days`);
          },
        },
        {
          description: 'tap API service is running',
          hintAnchor: 'l5d-tap-api',
          retry: true,
          run: async () => {
            const svc = await api()
              .request<{ status?: { conditions?: { type?: string; status?: string; message?: string }[] } }>({
                path: '/apis/apiregistration.k8s.io/v1/apiservices/v1alpha1.tap.linkerd.io',
              })
              .catch((err: unknown) => {
                if (isNotFound(err))
                  throw problem(
                    'no APIService v1alpha1.tap.linkerd.io; run: tsmesh viz install | kubectl apply -f -',
                  );
                throw err;
              });
            const available = svc.status?.conditions?.find((c) => c.type === 'Available');
            if (available?.status !== 'True')
              throw problem(
                `the APIService v1alpha1.tap.linkerd.io is not available: ${available?.message ?? 'no status yet'}`,
              );
          },
        },
        {
          description: 'linkerd-viz pods are injected',
          hintAnchor: 'l5d-viz-pods-injection',
          retry: true,
          run: async () => {
            const pods = await vizPods();
            if (pods.length === 0) throw problem(`no linkerd-viz pods in namespace ${ns} yet`);
            const bare = pods.filter((p) => !podProxyContainer(p));
            if (bare.length)
              throw problem(
                `pods without a proxy: ${bare.map((p) => p.metadata?.name).join(', ')} (is the proxy injector running?)`,
              );
          },
        },
        {
          description: 'viz extension pods are running',
          hintAnchor: 'l5d-viz-pods-running',
          retry: true,
          run: async () => {
            const pods = await vizPods();
            const ready = (p: PodLike) =>
              p.status?.phase === 'Running' &&
              p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
            const have = new Set(pods.filter(ready).map((p) => p.metadata?.labels?.component));
            const missing = components.filter((c) => !have.has(c));
            if (missing.length) throw problem(`not running and ready: ${missing.join(', ')}`);
          },
        },
      ],
    },
  ];
}
