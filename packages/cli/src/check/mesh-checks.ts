// The checks of `tsmesh check`, grouped and named as `linkerd check`'s, against the cluster through
// @tsmesh/kube's client: API access and version, (--pre) permission to install, CRDs, the control
// plane's objects and pods, identity trust anchors and issuer (validity, ≥ 60 days, chaining),
// webhook serving certificates, control-plane proxies, and (--proxy) data-plane proxies.
import { X509Certificate } from 'node:crypto';
import {
  MeshError,
  MeshErrorCode,
  parseCertificates,
  verifyCertificateChain,
  type Certificate,
} from '@tsmesh/core';
import { CoreKinds, crdManifests, isNotFound, type KubeApiClient, type KubeObject } from '@tsmesh/kube';
import { parse as parseYaml } from 'yaml';
import {
  crdsWithoutV1,
  GATEWAY_API_INSTALL_HINT,
  HTTP_ROUTE_CRD,
  inspectGatewayApi,
  type GatewayApiState,
} from '../install/index.js';
import { VERSION } from '../version.js';
import type { Check, CheckCategory } from './run-checks.js';

export interface MeshCheckOptions {
  /** Creates the client (so "can initialize the client" is a check of its own). */
  connect: () => KubeApiClient;
  controlPlaneNamespace: string;
  pre: boolean;
  proxy: boolean;
  /** With --proxy: the data-plane namespace (default all). */
  dataPlaneNamespace?: string;
  now?: () => Date;
}

/** Linkerd's minimum Kubernetes version. */
export const MIN_KUBERNETES_VERSION = [1, 23] as const;
const DAY_MS = 86_400_000;
export const MIN_VALIDITY_DAYS = 60;

const CONTROL_PLANE_DEPLOYMENTS = ['linkerd-identity', 'linkerd-destination', 'linkerd-proxy-injector'];

function problem(message: string): MeshError {
  return new MeshError(MeshErrorCode.FailedPrecondition, message);
}

/** Fails when Gateway API CRDs on the cluster do not serve v1, the version the mesh reads. */
function requireGatewayApiV1(state: GatewayApiState): void {
  const old = crdsWithoutV1(state);
  if (old.length)
    throw problem(`${old.join(', ')} does not serve v1: upgrade to Gateway API v1.0.0 or later`);
}

interface PodLike extends KubeObject {
  metadata: NonNullable<KubeObject['metadata']>;
  spec?: { containers?: { name: string }[]; initContainers?: { name: string; restartPolicy?: string }[] };
  status?: {
    phase?: string;
    containerStatuses?: { name: string; ready?: boolean }[];
    initContainerStatuses?: { name: string; ready?: boolean }[];
  };
}

const proxyStatus = (pod: PodLike) =>
  [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])].find(
    (s) => s.name === 'linkerd-proxy',
  );
const hasProxy = (pod: PodLike) =>
  [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].some(
    (c) => c.name === 'linkerd-proxy',
  );

export function meshCheckCategories(options: MeshCheckOptions): CheckCategory[] {
  const ns = options.controlPlaneNamespace;
  const now = options.now ?? (() => new Date());
  let client: KubeApiClient | undefined;
  const api = (): KubeApiClient => {
    if (!client) throw problem('no Kubernetes client');
    return client;
  };
  const state: {
    values?: Record<string, unknown>;
    anchors?: Certificate[];
    issuer?: Certificate[];
  } = {};

  const canI = async (verb: string, group: string, resource: string, namespace?: string) => {
    const review = await api().request<{ status?: { allowed?: boolean; reason?: string } }>({
      method: 'POST',
      path: '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectAccessReview',
        spec: { resourceAttributes: { verb, group, resource, ...(namespace ? { namespace } : {}) } },
      },
    });
    if (!review.status?.allowed) {
      const what = `${verb} ${resource}${group ? `.${group}` : ''}${namespace ? ` in namespace ${namespace}` : ''}`;
      throw problem(`not allowed to ${what}${review.status?.reason ? `: ${review.status.reason}` : ''}`);
    }
  };
  const exists = async (path: string, what: string) => {
    try {
      await api().request({ path });
    } catch (err) {
      if (isNotFound(err)) throw problem(`missing ${what}`);
      throw err;
    }
  };

  const kubernetesApi: CheckCategory = {
    name: 'kubernetes-api',
    checks: [
      {
        description: 'can initialize the client',
        hintAnchor: 'k8s-api',
        fatal: true,
        run: async () => {
          client = options.connect();
        },
      },
      {
        description: 'can query the Kubernetes API',
        hintAnchor: 'k8s-api',
        fatal: true,
        run: async () => {
          await api().request({ path: '/version', timeoutMs: 10_000 });
        },
      },
    ],
  };
  const kubernetesVersion: CheckCategory = {
    name: 'kubernetes-version',
    checks: [
      {
        description: 'is running the minimum Kubernetes API version',
        hintAnchor: 'k8s-version',
        run: async () => {
          const v = await api().request<{ major?: string; minor?: string; gitVersion?: string }>({
            path: '/version',
          });
          const major = Number.parseInt(v.major ?? '0', 10);
          const minor = Number.parseInt(v.minor ?? '0', 10);
          const [minMajor, minMinor] = MIN_KUBERNETES_VERSION;
          if (major < minMajor || (major === minMajor && minor < minMinor)) {
            throw problem(
              `Kubernetes is on version ${v.gitVersion ?? `${major}.${minor}`}, but version v${minMajor}.${minMinor}.0 or later is required`,
            );
          }
        },
      },
    ],
  };

  if (options.pre) {
    let gatewayApiState: Promise<GatewayApiState> | undefined;
    const gatewayApi = () => (gatewayApiState ??= inspectGatewayApi(api()));
    const create = (description: string, group: string, resource: string, namespaced: boolean): Check => ({
      description,
      hintAnchor: 'pre-k8s',
      run: () => canI('create', group, resource, namespaced ? ns : undefined),
    });
    return [
      kubernetesApi,
      kubernetesVersion,
      {
        name: 'pre-kubernetes-setup',
        checks: [
          {
            description: 'control plane namespace does not already exist',
            hintAnchor: 'pre-ns',
            run: async () => {
              try {
                await api().get(CoreKinds.Namespace, { name: ns });
              } catch (err) {
                if (isNotFound(err)) return;
                throw err;
              }
              throw problem(`The "${ns}" namespace already exists`);
            },
          },
          // What Linkerd users asked for (linkerd2#15041): the Gateway API looked at before install,
          // not only by install --crds. A warning when absent (install --crds --gateway-api can
          // install it); an error when present without v1, which install --crds refuses.
          {
            description: 'Gateway API is installed',
            hintAnchor: 'gwapi',
            warning: true,
            run: async () => {
              if ((await gatewayApi()).owner === 'absent')
                throw problem(
                  `no CustomResourceDefinition ${HTTP_ROUTE_CRD}, which the mesh needs; ${GATEWAY_API_INSTALL_HINT}`,
                );
            },
          },
          {
            description: 'Gateway API CRDs serve v1',
            hintAnchor: 'gwapi',
            run: async () => {
              requireGatewayApiV1(await gatewayApi());
            },
          },
          create('can create non-namespaced resources', '', 'namespaces', false),
          create('can create ServiceAccounts', '', 'serviceaccounts', true),
          create('can create Services', '', 'services', true),
          create('can create Deployments', 'apps', 'deployments', true),
          create('can create ConfigMaps', '', 'configmaps', true),
          create('can create Secrets', '', 'secrets', true),
          {
            description: 'can read Secrets',
            hintAnchor: 'pre-k8s',
            run: () => canI('get', '', 'secrets', ns),
          },
          create('can create ClusterRoles', 'rbac.authorization.k8s.io', 'clusterroles', false),
          create('can create ClusterRoleBindings', 'rbac.authorization.k8s.io', 'clusterrolebindings', false),
          create(
            'can create CustomResourceDefinitions',
            'apiextensions.k8s.io',
            'customresourcedefinitions',
            false,
          ),
          create(
            'can create MutatingWebhookConfigurations',
            'admissionregistration.k8s.io',
            'mutatingwebhookconfigurations',
            false,
          ),
          create(
            'can create ValidatingWebhookConfigurations',
            'admissionregistration.k8s.io',
            'validatingwebhookconfigurations',
            false,
          ),
          create('can create PodDisruptionBudgets', 'policy', 'poddisruptionbudgets', true),
        ],
      },
    ];
  }

  const pods = async (labelSelector: string, namespace?: string) =>
    (await api().list<PodLike>(CoreKinds.Pod, { namespace, labelSelector })).items;

  const certCheck = (name: string, what: () => Certificate[] | undefined, anchor: string): Check[] => [
    {
      description: `${name} are within their validity period`.replace('cert are', 'cert is'),
      hintAnchor: anchor,
      run: async () => {
        for (const c of what() ?? []) {
          if (c.notBefore > now() || c.notAfter < now())
            throw problem(
              `${c.subject} is not valid now: valid from ${c.notBefore.toISOString()} to ${c.notAfter.toISOString()}`,
            );
        }
      },
    },
    {
      description: `${name} are valid for at least ${MIN_VALIDITY_DAYS} days`.replace('cert are', 'cert is'),
      hintAnchor: anchor,
      warning: true,
      run: async () => {
        for (const c of what() ?? []) {
          const days = Math.floor((c.notAfter.getTime() - now().getTime()) / DAY_MS);
          if (days < MIN_VALIDITY_DAYS)
            throw problem(`${c.subject} expires in ${days} days (${c.notAfter.toISOString()})`);
        }
      },
    },
  ];

  const webhook = (
    label: string,
    secret: string,
    config: { kind: 'mutating' | 'validating'; name: string },
  ): Check[] => {
    let cert: Certificate | undefined;
    return [
      {
        description: `${label} webhook has valid cert`,
        hintAnchor: `l5d-${label}-webhook-cert-valid`,
        run: async () => {
          const s = await api().get<KubeObject & { data?: Record<string, string> }>(CoreKinds.Secret, {
            namespace: ns,
            name: secret,
          });
          const pem = Buffer.from(s.data?.['tls.crt'] ?? '', 'base64').toString();
          [cert] = parseCertificates(pem, { where: `Secret ${ns}/${secret} tls.crt` });
          const kind =
            config.kind === 'mutating'
              ? CoreKinds.MutatingWebhookConfiguration
              : CoreKinds.ValidatingWebhookConfiguration;
          const wh = await api().get<KubeObject & { webhooks?: { clientConfig?: { caBundle?: string } }[] }>(
            kind,
            { name: config.name },
          );
          const ca = Buffer.from(wh.webhooks?.[0]?.clientConfig?.caBundle ?? '', 'base64').toString();
          if (!ca.includes('BEGIN CERTIFICATE')) throw problem(`${config.name} has no caBundle`);
          const roots = parseCertificates(ca, { where: `${config.name} caBundle` });
          const leaf = new X509Certificate(cert!.pem);
          const signer = roots
            .map((r) => new X509Certificate(r.pem))
            .find((r) => leaf.checkIssued(r) && leaf.verify(r.publicKey));
          if (!signer)
            throw problem(`the certificate in ${secret} is not signed by the caBundle of ${config.name}`);
          const host = `linkerd-${label}.${ns}.svc`;
          if (!leaf.checkHost(host)) throw problem(`the certificate in ${secret} is not for ${host}`);
          if (cert!.notBefore > now() || cert!.notAfter < now())
            throw problem(`the certificate in ${secret} is not valid now`);
        },
      },
      {
        description: `${label} cert is valid for at least ${MIN_VALIDITY_DAYS} days`,
        hintAnchor: `l5d-${label}-webhook-cert-not-expiring-soon`,
        warning: true,
        run: async () => {
          if (!cert) throw problem('no certificate');
          const days = Math.floor((cert.notAfter.getTime() - now().getTime()) / DAY_MS);
          if (days < MIN_VALIDITY_DAYS) throw problem(`the certificate expires in ${days} days`);
        },
      },
    ];
  };

  // Linkerd's `gateway-api-crd` (linkerd2#15409): the HTTPRoute CRD alone is required (the rest of
  // the Gateway API is optional), and the mesh reads its v1 version.
  const gatewayApiCrd: CheckCategory = {
    name: 'gateway-api-crd',
    checks: [
      {
        description: 'Gateway API CRDs are installed',
        hintAnchor: 'gwapi',
        run: async () => {
          const state = await inspectGatewayApi(api());
          if (!state.crds.some((c) => c.metadata.name === HTTP_ROUTE_CRD))
            throw problem(
              `the Gateway API is not installed: no CustomResourceDefinition ${HTTP_ROUTE_CRD}; ${GATEWAY_API_INSTALL_HINT}`,
            );
          requireGatewayApiV1(state);
        },
      },
    ],
  };

  const categories: CheckCategory[] = [
    kubernetesApi,
    kubernetesVersion,
    gatewayApiCrd,
    {
      name: 'linkerd-existence',
      checks: [
        {
          description: 'control plane CustomResourceDefinitions exist',
          hintAnchor: 'l5d-existence-crd',
          run: async () => {
            const installed = new Set(
              (await api().list(CoreKinds.CustomResourceDefinition)).items.map((c) => c.metadata?.name),
            );
            const missing = crdManifests({ gatewayApi: false, multicluster: false })
              .map((c) => c.metadata.name)
              .filter((n) => !installed.has(n));
            if (missing.length)
              throw problem(
                `missing ${missing.join(', ')}; run: tsmesh install --crds | kubectl apply --server-side -f -`,
              );
          },
        },
        {
          description: "'linkerd-config' config map exists",
          hintAnchor: 'l5d-existence-linkerd-config',
          fatal: true,
          run: async () => {
            const cm = await api()
              .get<KubeObject & { data?: Record<string, string> }>(CoreKinds.ConfigMap, {
                namespace: ns,
                name: 'linkerd-config',
              })
              .catch((err: unknown) => {
                if (isNotFound(err))
                  throw problem(
                    `no ConfigMap linkerd-config in namespace ${ns}; run: tsmesh install | kubectl apply -f -`,
                  );
                throw err;
              });
            state.values = (parseYaml(cm.data?.values ?? '') as Record<string, unknown> | null) ?? {};
          },
        },
        {
          description: 'control plane pods are ready',
          hintAnchor: 'l5d-api-control-ready',
          retry: true,
          run: async () => {
            const list = await pods(`linkerd.io/control-plane-ns=${ns}`, ns);
            for (const d of CONTROL_PLANE_DEPLOYMENTS) {
              const mine = list.filter((p) => p.metadata.labels?.['linkerd.io/proxy-deployment'] === d);
              if (!mine.length) throw problem(`No running pods for "${d}"`);
              const notReady = mine.filter(
                (p) =>
                  p.status?.phase !== 'Running' || !(p.status.containerStatuses ?? []).every((c) => c.ready),
              );
              if (notReady.length === mine.length)
                throw problem(
                  `pod/${notReady[0]!.metadata.name} (${d}) is not ready (phase ${notReady[0]!.status?.phase ?? 'unknown'})`,
                );
            }
          },
        },
      ],
    },
    {
      name: 'linkerd-config',
      checks: [
        ['control plane Namespace exists', `/api/v1/namespaces/${ns}`, `namespace ${ns}`],
        ...['identity', 'destination', 'proxy-injector'].map((c) => [
          `control plane ClusterRole linkerd-${ns}-${c} exists`,
          `/apis/rbac.authorization.k8s.io/v1/clusterroles/linkerd-${ns}-${c}`,
          `ClusterRole linkerd-${ns}-${c}`,
        ]),
        ...['identity', 'destination', 'proxy-injector'].map((c) => [
          `control plane ServiceAccount linkerd-${c} exists`,
          `/api/v1/namespaces/${ns}/serviceaccounts/linkerd-${c}`,
          `ServiceAccount linkerd-${c}`,
        ]),
        [
          'control plane MutatingWebhookConfigurations exist',
          '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/linkerd-proxy-injector-webhook-config',
          'MutatingWebhookConfiguration linkerd-proxy-injector-webhook-config',
        ],
        [
          'control plane ValidatingWebhookConfigurations exist',
          '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/linkerd-sp-validator-webhook-config',
          'ValidatingWebhookConfiguration linkerd-sp-validator-webhook-config',
        ],
      ].map(([description, path, what]) => ({
        description: description!,
        hintAnchor: 'l5d-existence-config',
        run: () => exists(path!, what!),
      })),
    },
    {
      name: 'linkerd-identity',
      checks: [
        {
          description: 'certificate config is valid',
          hintAnchor: 'l5d-identity-cert-config-valid',
          fatal: true,
          run: async () => {
            const roots = await api().get<KubeObject & { data?: Record<string, string> }>(
              CoreKinds.ConfigMap,
              {
                namespace: ns,
                name: 'linkerd-identity-trust-roots',
              },
            );
            state.anchors = parseCertificates(roots.data?.['ca-bundle.crt'] ?? '', {
              where: `ConfigMap ${ns}/linkerd-identity-trust-roots ca-bundle.crt`,
            });
            const secret = await api().get<KubeObject & { data?: Record<string, string> }>(CoreKinds.Secret, {
              namespace: ns,
              name: 'linkerd-identity-issuer',
            });
            const crt = secret.data?.['crt.pem'] ?? secret.data?.['tls.crt'] ?? '';
            state.issuer = parseCertificates(Buffer.from(crt, 'base64').toString(), {
              where: `Secret ${ns}/linkerd-identity-issuer`,
            });
          },
        },
        {
          description: 'trust anchors are using supported crypto algorithm',
          hintAnchor: 'l5d-identity-trustAnchors-use-supported-crypto',
          run: async () => {
            for (const c of state.anchors ?? [])
              if (c.keyType !== 'ecdsa-p256' && c.keyType !== 'rsa')
                throw problem(`${c.subject} uses ${c.keyType}`);
          },
        },
        ...certCheck('trust anchors', () => state.anchors, 'l5d-identity-trustAnchors-are-time-valid'),
        ...certCheck(
          'issuer cert',
          () => state.issuer?.slice(0, 1),
          'l5d-identity-issuer-cert-is-time-valid',
        ),
        {
          description: 'issuer cert is issued by the trust anchor',
          hintAnchor: 'l5d-identity-issuer-cert-issued-by-trust-anchor',
          run: async () => {
            const [issuer, ...chain] = state.issuer ?? [];
            if (!issuer) throw problem('no issuer certificate');
            verifyCertificateChain(state.anchors ?? [], issuer, chain, { at: now(), purpose: 'issuer' });
          },
        },
      ],
    },
    {
      name: 'linkerd-webhooks-and-apisvc-tls',
      checks: [
        ...webhook('proxy-injector', 'linkerd-proxy-injector-k8s-tls', {
          kind: 'mutating',
          name: 'linkerd-proxy-injector-webhook-config',
        }),
        ...webhook('sp-validator', 'linkerd-sp-validator-k8s-tls', {
          kind: 'validating',
          name: 'linkerd-sp-validator-webhook-config',
        }),
        ...webhook('policy-validator', 'linkerd-policy-validator-k8s-tls', {
          kind: 'validating',
          name: 'linkerd-policy-validator-webhook-config',
        }),
      ],
    },
    {
      name: 'linkerd-control-plane-proxy',
      checks: [
        {
          description: 'control plane proxies are healthy',
          hintAnchor: 'l5d-cp-proxy-healthy',
          retry: true,
          run: async () => {
            for (const p of await pods(`linkerd.io/control-plane-ns=${ns}`, ns)) {
              if (!hasProxy(p)) throw problem(`pod/${p.metadata.name} has no linkerd-proxy container`);
              if (!proxyStatus(p)?.ready)
                throw problem(`pod/${p.metadata.name}: the linkerd-proxy container is not ready`);
            }
          },
        },
        {
          description: 'control plane proxies are up-to-date',
          hintAnchor: 'l5d-cp-proxy-version',
          warning: true,
          run: async () => upToDate(await pods(`linkerd.io/control-plane-ns=${ns}`, ns), expectedVersion()),
        },
      ],
    },
  ];
  const expectedVersion = () => String((state.values?.linkerdVersion as string | undefined) ?? VERSION);
  const upToDate = (list: PodLike[], version: string) => {
    const stale = list.filter(
      (p) => (p.metadata.annotations?.['linkerd.io/proxy-version'] ?? version) !== version,
    );
    if (stale.length)
      throw problem(
        `${stale.map((p) => `${p.metadata.namespace}/${p.metadata.name} (${p.metadata.annotations?.['linkerd.io/proxy-version']})`).join(', ')} not running ${version}`,
      );
  };
  if (options.proxy) {
    const dpSelector = `linkerd.io/control-plane-ns=${ns}`;
    const dpPods = async () =>
      (await pods(dpSelector, options.dataPlaneNamespace)).filter((p) => p.metadata.namespace !== ns);
    categories.push({
      name: 'linkerd-data-plane',
      checks: [
        ...(options.dataPlaneNamespace
          ? [
              {
                description: 'data plane namespace exists',
                hintAnchor: 'l5d-data-plane-exists',
                fatal: true,
                run: () =>
                  exists(
                    `/api/v1/namespaces/${options.dataPlaneNamespace}`,
                    `namespace ${options.dataPlaneNamespace}`,
                  ),
              },
            ]
          : []),
        {
          description: 'data plane proxies are ready',
          hintAnchor: 'l5d-data-plane-ready',
          retry: true,
          run: async () => {
            for (const p of await dpPods()) {
              if (!proxyStatus(p)?.ready)
                throw problem(`pod/${p.metadata.name} (${p.metadata.namespace}): linkerd-proxy is not ready`);
            }
          },
        },
        {
          description: 'data plane is up-to-date',
          hintAnchor: 'l5d-data-plane-version',
          warning: true,
          run: async () => upToDate(await dpPods(), expectedVersion()),
        },
      ],
    });
  }
  return categories;
}
