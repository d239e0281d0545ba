// Everything `link` needs, read from the target cluster: its mesh settings (cluster and trust
// domain), its gateway (unless the link is remote-discovery only) and a kubeconfig for the
// remote-access ServiceAccount — then `renderLink` turns it into manifests for this cluster.
import type { KubeConfig } from '@kubernetes/client-node';
import { MeshError, MeshErrorCode, type LabelSelector } from '@tsmesh/core';
import type { KubeApiClient } from '@tsmesh/kube';
import { readGatewayFacts, readMeshFacts, serviceAccountKubeconfig } from './cluster-facts.js';
import {
  DEFAULT_REMOTE_ACCESS_ACCOUNT,
  MULTICLUSTER_NAMESPACE,
  type LinkInput,
} from './multicluster-manifests.js';

export interface GatherLinkOptions {
  readonly clusterName: string;
  /** The multicluster namespace in the target (and of the Link here). Default linkerd-multicluster. */
  readonly namespace?: string;
  /** The target's control-plane namespace. Default linkerd. */
  readonly linkerdNamespace?: string;
  /** Use a gateway (default true); false: remote discovery only. */
  readonly gateway?: boolean;
  /** Instead of the gateway Service's load-balancer addresses. */
  readonly gatewayAddresses?: readonly string[];
  readonly gatewayPort?: number;
  /** Instead of the kubeconfig's server (what this cluster can reach). */
  readonly apiServerAddress?: string;
  readonly serviceAccountName?: string;
  readonly selector?: LabelSelector;
  readonly remoteDiscoverySelector?: LabelSelector;
  readonly federatedServiceSelector?: LabelSelector;
  readonly image?: string;
  readonly logLevel?: string;
  /** How long to wait for the token controller to fill the ServiceAccount token. Default 30 s. */
  readonly tokenTimeoutMs?: number;
}

export async function gatherLinkInput(
  target: KubeApiClient,
  targetKubeConfig: KubeConfig,
  o: GatherLinkOptions,
): Promise<LinkInput> {
  const namespace = o.namespace ?? MULTICLUSTER_NAMESPACE;
  const linkerdNamespace = o.linkerdNamespace ?? 'linkerd';
  const mesh = await readMeshFacts(target, linkerdNamespace);
  const gateway = o.gateway === false ? undefined : await readGatewayFacts(target, namespace);
  const addresses = o.gatewayAddresses?.length ? o.gatewayAddresses : (gateway?.addresses ?? []);
  if (gateway && addresses.length === 0) {
    throw new MeshError(
      MeshErrorCode.FailedPrecondition,
      'the gateway Service has no load-balancer address yet',
      {
        where: `${target.server} ${namespace}/linkerd-gateway`,
        hint: 'wait for it, or pass --gateway-addresses',
      },
    );
  }
  const kubeconfig = await serviceAccountKubeconfig(target, targetKubeConfig, {
    clusterName: o.clusterName,
    namespace,
    account: o.serviceAccountName ?? DEFAULT_REMOTE_ACCESS_ACCOUNT,
    ...(o.apiServerAddress ? { apiServerAddress: o.apiServerAddress } : {}),
    ...(o.tokenTimeoutMs !== undefined ? { timeoutMs: o.tokenTimeoutMs } : {}),
  });
  return {
    clusterName: o.clusterName,
    namespace,
    kubeconfig,
    gatewayAddresses: gateway ? addresses : [],
    gatewayPort: gateway ? (o.gatewayPort ?? gateway.port) : undefined,
    gatewayIdentity: gateway?.identity ?? '',
    ...(gateway
      ? {
          probePort: gateway.probePort,
          probePath: gateway.probePath,
          probePeriodSeconds: gateway.probePeriodSeconds,
        }
      : {}),
    targetClusterDomain: mesh.clusterDomain,
    targetTrustDomain: mesh.trustDomain,
    targetLinkerdNamespace: linkerdNamespace,
    ...(o.selector ? { selector: o.selector } : {}),
    ...(o.remoteDiscoverySelector ? { remoteDiscoverySelector: o.remoteDiscoverySelector } : {}),
    ...(o.federatedServiceSelector ? { federatedServiceSelector: o.federatedServiceSelector } : {}),
    ...(o.image ? { image: o.image } : {}),
    ...(o.logLevel ? { logLevel: o.logLevel } : {}),
  };
}
