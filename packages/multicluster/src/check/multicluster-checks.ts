// `tsmesh multicluster check`: Linkerd's linkerd-multicluster checks, as categories of checks the
// CLI's runner executes (same shape as `tsmesh check`'s): the Link CRD, valid Links, working
// credentials for every target cluster, shared trust anchors, the gateways' reachability, and the
// mirrors (endpoints present, each belonging to a Link).
import type { KubeConfig } from '@kubernetes/client-node';
import { MeshError, MulticlusterKey } from '@tsmesh/core';
import { CoreKinds, createKubeApiClient, isNotFound, MeshKinds, type KubeApiClient } from '@tsmesh/kube';
import { kubeConfigFromSecret } from '../credentials/index.js';
import { parseLink, type Link } from '../link/index.js';
import { readMeshFacts } from '../manifests/cluster-facts.js';
import { serviceMirrorName } from '../manifests/multicluster-manifests.js';
import { EndpointsKind, remoteNameOf, type EndpointsObject, type ServiceObject } from '../mirror/index.js';
import { probeOnce } from '../probe/index.js';
import { sharedAnchors } from './trust-anchors.js';

export interface MulticlusterCheck {
  readonly description: string;
  readonly hintAnchor: string;
  readonly warning?: boolean;
  readonly fatal?: boolean;
  readonly retry?: boolean;
  run(): Promise<void>;
}

export interface MulticlusterCheckCategory {
  readonly name: string;
  readonly checks: MulticlusterCheck[];
}

export interface MulticlusterCheckOptions {
  /** The local cluster (opened on first use). */
  readonly connect: () => KubeApiClient;
  /** Namespace of the Links (default linkerd-multicluster). */
  readonly namespace?: string;
  /** This cluster's control-plane namespace (default linkerd). */
  readonly linkerdNamespace?: string;
  /** Target cluster clients from Link credentials; default createKubeApiClient. */
  readonly connectRemote?: (kubeConfig: KubeConfig) => KubeApiClient;
  /** Probe each Link's gateway (default true). */
  readonly probeGateways?: boolean;
}

const fail = (what: string) => new Error(what);
const describe = (err: unknown) =>
  MeshError.is(err) ? err.describe() : err instanceof Error ? err.message : String(err);

export interface MulticlusterChecks {
  readonly categories: MulticlusterCheckCategory[];
  /** Closes the clients the checks opened (the local one included). */
  close(): void;
}

export function multiclusterChecks(o: MulticlusterCheckOptions): MulticlusterChecks {
  const namespace = o.namespace ?? 'linkerd-multicluster';
  const linkerdNamespace = o.linkerdNamespace ?? 'linkerd';
  let local: KubeApiClient | undefined;
  const client = () => (local ??= o.connect());
  let links: Link[] = [];
  const remotes = new Map<string, KubeApiClient>();
  const remote = (link: Link) => remotes.get(link.targetClusterName);
  const forEachLink = async (each: (link: Link) => Promise<void>) => {
    const problems: string[] = [];
    for (const link of links) {
      try {
        await each(link);
      } catch (err) {
        problems.push(`${link.targetClusterName}: ${describe(err)}`);
      }
    }
    if (problems.length > 0) throw fail(problems.join('\n'));
  };

  const categories: MulticlusterCheckCategory[] = [
    {
      name: 'linkerd-multicluster',
      checks: [
        {
          description: 'Link CRD exists',
          hintAnchor: 'l5d-multicluster-link-crd-exists',
          fatal: true,
          run: async () => {
            try {
              await client().get(CoreKinds.CustomResourceDefinition, {
                name: 'links.multicluster.linkerd.io',
              });
            } catch (err) {
              if (isNotFound(err))
                throw fail('the Link CRD is not installed; run `tsmesh multicluster install`');
              throw err;
            }
          },
        },
        {
          description: 'Link resources are valid',
          hintAnchor: 'l5d-multicluster-links-are-valid',
          fatal: true,
          run: async () => {
            const list = await client().list(MeshKinds.Link, { namespace });
            const problems: string[] = [];
            links = [];
            for (const item of list.items) {
              try {
                links.push(parseLink(item));
              } catch (err) {
                problems.push(describe(err));
              }
            }
            if (problems.length > 0) throw fail(problems.join('\n'));
          },
        },
        {
          description: 'remote cluster access credentials are valid',
          hintAnchor: 'l5d-smc-target-clusters-access',
          run: () =>
            forEachLink(async (link) => {
              const secret = await client().get(CoreKinds.Secret, {
                namespace: link.namespace,
                name: link.clusterCredentialsSecret,
              });
              const target = (o.connectRemote ?? ((kc: KubeConfig) => createKubeApiClient(kc)))(
                kubeConfigFromSecret(secret),
              );
              remotes.set(link.targetClusterName, target);
              await target.list(CoreKinds.Service, { namespace: 'default', limit: 1, timeoutMs: 10_000 });
            }),
        },
        {
          description: 'clusters share trust anchors',
          hintAnchor: 'l5d-multicluster-clusters-share-anchors',
          run: async () => {
            const mine = await readMeshFacts(client(), linkerdNamespace);
            await forEachLink(async (link) => {
              const target = remote(link);
              if (!target) throw fail('no access to the target cluster (see the credentials check)');
              const theirs = await readMeshFacts(target, link.targetClusterLinkerdNamespace);
              sharedAnchors(
                { pem: mine.trustAnchorsPem, where: 'this cluster' },
                { pem: theirs.trustAnchorsPem, where: `cluster ${link.targetClusterName}` },
              );
            });
          },
        },
        {
          description: 'service mirror controllers are running',
          hintAnchor: 'l5d-multicluster-service-mirror-running',
          warning: true,
          run: () =>
            forEachLink(async (link) => {
              const name = serviceMirrorName(link.targetClusterName);
              const deployment = await client()
                .get<{ status?: { readyReplicas?: number } }>(CoreKinds.Deployment, {
                  namespace: link.namespace,
                  name,
                })
                .catch((err: unknown) => {
                  if (isNotFound(err)) throw fail(`no Deployment ${link.namespace}/${name}`);
                  throw err;
                });
              if (!(deployment.status?.readyReplicas ?? 0)) throw fail(`${name} has no ready replica`);
            }),
        },
        {
          description: 'all gateways are reachable',
          hintAnchor: 'l5d-multicluster-gateways-endpoints',
          run: async () => {
            if (o.probeGateways === false) return;
            await forEachLink(async (link) => {
              const address = link.gatewayAddresses[0];
              if (!address) return; // remote discovery only: no gateway
              try {
                await probeOnce(address, {
                  ...link.probeSpec,
                  timeoutMs: Math.min(link.probeSpec.timeoutMs, 5000),
                });
              } catch (err) {
                throw fail(
                  `gateway ${address}:${link.probeSpec.port}${link.probeSpec.path} is not reachable: ${describe(err)}`,
                );
              }
            });
          },
        },
        {
          description: 'all mirror services have endpoints',
          hintAnchor: 'l5d-multicluster-services-endpoints',
          warning: true,
          run: async () => {
            const selector = `${MulticlusterKey.MirroredService}=true,!${MulticlusterKey.RemoteDiscovery}`;
            const services = await client().list<ServiceObject>(CoreKinds.Service, {
              labelSelector: selector,
            });
            const endpoints = await client().list<EndpointsObject>(EndpointsKind, {
              labelSelector: `${MulticlusterKey.MirroredService}=true`,
            });
            const ready = new Set(
              endpoints.items
                .filter((e) => (e.subsets ?? []).some((s) => (s.addresses ?? []).length > 0))
                .map((e) => `${e.metadata?.namespace}/${e.metadata?.name}`),
            );
            const empty = services.items
              .filter((s) => !s.metadata?.name?.endsWith('-federated'))
              .map((s) => `${s.metadata?.namespace}/${s.metadata?.name}`)
              .filter((key) => !ready.has(key));
            if (empty.length > 0) throw fail(`mirror services without ready endpoints: ${empty.join(', ')}`);
          },
        },
        {
          description: 'all mirror services are part of a Link',
          hintAnchor: 'l5d-multicluster-orphaned-services',
          warning: true,
          run: async () => {
            const services = await client().list<ServiceObject>(CoreKinds.Service, {
              labelSelector: MulticlusterKey.ClusterName,
            });
            const clusters = new Set(links.map((l) => l.targetClusterName));
            const orphans = services.items
              .filter((s) => {
                const cluster = s.metadata?.labels?.[MulticlusterKey.ClusterName] ?? '';
                return !clusters.has(cluster) || remoteNameOf(s.metadata?.name ?? '', cluster) === undefined;
              })
              .map((s) => `${s.metadata?.namespace}/${s.metadata?.name}`);
            if (orphans.length > 0) throw fail(`mirror services without a Link: ${orphans.join(', ')}`);
          },
        },
      ],
    },
  ];
  return {
    categories,
    close() {
      for (const c of remotes.values()) c.close();
      local?.close();
    },
  };
}
