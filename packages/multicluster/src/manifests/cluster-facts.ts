// What `link` and `check` read from a cluster: its mesh configuration (linkerd-config's values:
// cluster domain, trust domain, trust anchors), the gateway Service, and a ServiceAccount token
// turned into a kubeconfig for the other cluster's service mirror and destination service.
import { readFileSync } from 'node:fs';
import type { KubeConfig } from '@kubernetes/client-node';
import { MeshError, MeshErrorCode, MulticlusterKey } from '@tsmesh/core';
import { CoreKinds, isNotFound, sleep, type KubeApiClient, type KubeObject } from '@tsmesh/kube';
import { parse, stringify } from 'yaml';
import { GATEWAY_NAME } from './multicluster-manifests.js';

interface ConfigMapObject extends KubeObject {
  data?: Record<string, string>;
}

export interface MeshFacts {
  readonly clusterDomain: string;
  readonly trustDomain: string;
  /** PEM bundle of the trust anchors ('' when not found). */
  readonly trustAnchorsPem: string;
}

/** linkerd-config's values and the trust-roots ConfigMap of a control plane. */
export async function readMeshFacts(client: KubeApiClient, linkerdNamespace: string): Promise<MeshFacts> {
  let values: Record<string, unknown> = {};
  try {
    const cm = await client.get<ConfigMapObject>(CoreKinds.ConfigMap, {
      namespace: linkerdNamespace,
      name: 'linkerd-config',
    });
    const parsed: unknown = parse(cm.data?.values ?? '') ?? {};
    if (typeof parsed === 'object' && parsed !== null) values = parsed as Record<string, unknown>;
  } catch (err) {
    if (!isNotFound(err)) throw err;
    throw new MeshError(
      MeshErrorCode.NotFound,
      'no linkerd-config ConfigMap: the control plane is not installed',
      {
        where: `${client.server} namespace ${linkerdNamespace}`,
        hint: 'install it with `tsmesh install`, or pass the right --linkerd-namespace',
      },
    );
  }
  let anchors = typeof values.identityTrustAnchorsPEM === 'string' ? values.identityTrustAnchorsPEM : '';
  try {
    const roots = await client.get<ConfigMapObject>(CoreKinds.ConfigMap, {
      namespace: linkerdNamespace,
      name: 'linkerd-identity-trust-roots',
    });
    anchors = roots.data?.['ca-bundle.crt'] ?? anchors;
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  const clusterDomain =
    typeof values.clusterDomain === 'string' && values.clusterDomain ? values.clusterDomain : 'cluster.local';
  const trustDomain =
    typeof values.identityTrustDomain === 'string' && values.identityTrustDomain
      ? values.identityTrustDomain
      : clusterDomain;
  return { clusterDomain, trustDomain, trustAnchorsPem: anchors };
}

export interface GatewayFacts {
  readonly addresses: readonly string[];
  readonly port: number;
  readonly probePort: number;
  readonly probePath: string;
  readonly probePeriodSeconds: number;
  readonly identity: string;
}

interface ServiceWithStatus extends KubeObject {
  spec?: { ports?: { name?: string; port?: number }[] };
  status?: { loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] } };
}

/** The gateway Service of a multicluster install: addresses (load-balancer ingress), ports, identity. */
export async function readGatewayFacts(client: KubeApiClient, namespace: string): Promise<GatewayFacts> {
  let svc: ServiceWithStatus;
  try {
    svc = await client.get<ServiceWithStatus>(CoreKinds.Service, { namespace, name: GATEWAY_NAME });
  } catch (err) {
    if (!isNotFound(err)) throw err;
    throw new MeshError(MeshErrorCode.NotFound, `no ${GATEWAY_NAME} Service in namespace ${namespace}`, {
      where: client.server,
      hint: 'run `tsmesh multicluster install` on the target cluster, or link with --gateway=false',
    });
  }
  const port = (name: string) => svc.spec?.ports?.find((p) => p.name === name)?.port;
  const annotations = svc.metadata?.annotations ?? {};
  const addresses = (svc.status?.loadBalancer?.ingress ?? [])
    .map((i) => i.ip ?? i.hostname ?? '')
    .filter((a) => a !== '');
  const period = Number(annotations[MulticlusterKey.ProbePeriod] ?? '3');
  return {
    addresses,
    port: port('mc-gateway') ?? 4143,
    probePort: port('mc-probe') ?? 4191,
    probePath: annotations[MulticlusterKey.ProbePath] ?? '/ready',
    probePeriodSeconds: Number.isFinite(period) && period > 0 ? period : 3,
    identity: annotations[MulticlusterKey.GatewayIdentity] ?? '',
  };
}

interface SecretObject extends KubeObject {
  data?: Record<string, string>;
}

/**
 * A kubeconfig for the cluster `kc` points at, authenticated as a ServiceAccount through its
 * token Secret `<account>-token` (waiting up to `timeoutMs` for the token controller to fill it).
 */
export async function serviceAccountKubeconfig(
  client: KubeApiClient,
  kc: KubeConfig,
  options: {
    clusterName: string;
    namespace: string;
    account: string;
    apiServerAddress?: string;
    timeoutMs?: number;
  },
): Promise<string> {
  const cluster = kc.getCurrentCluster();
  if (!cluster)
    throw new MeshError(MeshErrorCode.Config, 'the kubeconfig has no current cluster', {
      where: '--context',
    });
  const secretName = `${options.account}-token`;
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  let token = '';
  let ca = '';
  for (;;) {
    try {
      const secret = await client.get<SecretObject>(CoreKinds.Secret, {
        namespace: options.namespace,
        name: secretName,
      });
      token = Buffer.from(secret.data?.token ?? '', 'base64').toString('utf8');
      ca = secret.data?.['ca.crt'] ?? '';
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    if (token) break;
    if (Date.now() > deadline) {
      throw new MeshError(MeshErrorCode.NotFound, `no token in Secret ${options.namespace}/${secretName}`, {
        where: client.server,
        hint: 'run `tsmesh multicluster install` (or `allow --service-account-name`) on the target cluster first',
      });
    }
    await sleep(250);
  }
  if (!ca) {
    ca = cluster.caData ?? (cluster.caFile ? readFileSync(cluster.caFile).toString('base64') : '');
  }
  const name = options.clusterName;
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name,
        cluster: {
          server: options.apiServerAddress ?? cluster.server,
          ...(ca ? { 'certificate-authority-data': ca } : {}),
          ...(cluster.skipTLSVerify ? { 'insecure-skip-tls-verify': true } : {}),
        },
      },
    ],
    users: [{ name: options.account, user: { token } }],
    contexts: [{ name, context: { cluster: name, user: options.account } }],
    'current-context': name,
  });
}
