import { describe, expect, it } from 'vitest';
import { MulticlusterKey } from '@tsmesh/core';
import { validateAgainstSchema, type CustomResourceDefinition } from '@tsmesh/kube';
import { parseLink } from '../link/index.js';
import {
  linkCrdManifest,
  remoteAccessManifests,
  renderInstall,
  renderLink,
} from './multicluster-manifests.js';

const input = {
  clusterName: 'east',
  kubeconfig: 'apiVersion: v1\nkind: Config\n',
  gatewayAddresses: ['198.18.0.10', 'gw.example.com'],
  gatewayPort: 4143,
  gatewayIdentity: 'linkerd-gateway.linkerd-multicluster.serviceaccount.identity.linkerd.cluster.local',
  targetClusterDomain: 'cluster.local',
  targetTrustDomain: 'cluster.local',
  targetLinkerdNamespace: 'linkerd',
};

describe('renderLink', () => {
  it('writes a Link the CRD accepts and the service mirror understands', () => {
    const objects = renderLink(input);
    const link = objects.find((o) => o.kind === 'Link')!;
    const crd = linkCrdManifest() as unknown as CustomResourceDefinition;
    const schema = crd.spec.versions.find((v) => v.name === 'v1alpha3')!.schema!.openAPIV3Schema;
    expect(validateAgainstSchema(structuredClone(link), schema)).toEqual([]);
    expect(parseLink(link)).toMatchObject({
      targetClusterName: 'east',
      clusterCredentialsSecret: 'cluster-credentials-east',
      gatewayAddresses: ['198.18.0.10', 'gw.example.com'],
      gatewayPort: 4143,
      selector: { matchLabels: { [MulticlusterKey.Exported]: 'true' } },
      remoteDiscoverySelector: { matchLabels: { [MulticlusterKey.Exported]: 'remote-discovery' } },
      federatedServiceSelector: { matchLabels: { [MulticlusterKey.Federated]: 'member' } },
    });
  });

  it('gives the destination service its credentials Secret with the target domains', () => {
    const secrets = renderLink({ ...input, targetTrustDomain: 'east.example' }).filter(
      (o) => o.kind === 'Secret',
    );
    expect(secrets.map((s) => s.metadata.namespace)).toEqual(['linkerd-multicluster', 'linkerd']);
    expect(secrets[1]).toMatchObject({
      type: MulticlusterKey.RemoteKubeconfigSecretType,
      metadata: {
        labels: { 'multicluster.linkerd.io/cluster-name': 'east' },
        annotations: { 'multicluster.linkerd.io/trust-domain': 'east.example' },
      },
    });
    expect(
      Buffer.from(
        (secrets[0] as unknown as { data: { kubeconfig: string } }).data.kubeconfig,
        'base64',
      ).toString(),
    ).toBe(input.kubeconfig);
  });
});

describe('renderInstall', () => {
  it("has Linkerd's gateway, policy and remote-access objects", () => {
    const objects = renderInstall();
    expect(objects.map((o) => `${o.kind} ${o.metadata.name}`)).toEqual([
      'Namespace linkerd-multicluster',
      'CustomResourceDefinition links.multicluster.linkerd.io',
      'Deployment linkerd-gateway',
      'Service linkerd-gateway',
      'ServiceAccount linkerd-gateway',
      'Server linkerd-gateway',
      'MeshTLSAuthentication any-meshed',
      'AuthorizationPolicy linkerd-gateway',
      'ClusterRole linkerd-service-mirror-remote-access-default',
      'ServiceAccount linkerd-service-mirror-remote-access-default',
      'Secret linkerd-service-mirror-remote-access-default-token',
      'ClusterRoleBinding linkerd-service-mirror-remote-access-default',
    ]);
    const service = objects.find((o) => o.kind === 'Service') as unknown as {
      spec: { ports: { name: string; port: number }[] };
    };
    expect(service.spec.ports.map((p) => `${p.name}:${p.port}`)).toEqual([
      'mc-gateway:4143',
      'mc-probe:4191',
    ]);
    expect(renderInstall({ gateway: false }).some((o) => o.metadata.name === 'linkerd-gateway')).toBe(false);
    expect(remoteAccessManifests('other', 'mc').map((o) => o.metadata.name)).toEqual([
      'other',
      'other',
      'other-token',
      'other',
    ]);
  });
});
