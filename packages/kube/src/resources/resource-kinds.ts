// The kinds the controllers read, with the API coordinates needed to list and watch them and the
// versions a manifest may use. Mesh kinds are derived from the CRDs, so the two cannot drift.
import { MeshError, MeshErrorCode } from '@tsmesh/core';
import { crdManifests } from '../crds/index.js';

export interface ResourceKind {
  /** API group; '' for the core group. */
  group: string;
  /** The version objects are read at. */
  version: string;
  kind: string;
  plural: string;
  namespaced: boolean;
  /** Every version the API serves for this kind (manifests may use any of them). */
  servedVersions: readonly string[];
}

/** `group/version`, or just `version` for the core group. */
export function apiVersionOf(kind: Pick<ResourceKind, 'group' | 'version'>): string {
  return kind.group ? `${kind.group}/${kind.version}` : kind.version;
}

/** Splits an apiVersion into group and version. */
export function parseApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.lastIndexOf('/');
  return slash < 0
    ? { group: '', version: apiVersion }
    : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

/** A stable key for a kind: `kind.group` (`Pod` for core kinds). */
export function kindKey(kind: Pick<ResourceKind, 'group' | 'kind'>): string {
  return kind.group ? `${kind.kind}.${kind.group}` : kind.kind;
}

function core(group: string, version: string, kind: string, plural: string, namespaced = true): ResourceKind {
  return { group, version, kind, plural, namespaced, servedVersions: [version] };
}

/** Built-in kinds the mesh reads. */
export const CoreKinds = {
  Pod: core('', 'v1', 'Pod', 'pods'),
  Service: core('', 'v1', 'Service', 'services'),
  Namespace: core('', 'v1', 'Namespace', 'namespaces', false),
  Node: core('', 'v1', 'Node', 'nodes', false),
  ServiceAccount: core('', 'v1', 'ServiceAccount', 'serviceaccounts'),
  Secret: core('', 'v1', 'Secret', 'secrets'),
  ConfigMap: core('', 'v1', 'ConfigMap', 'configmaps'),
  EndpointSlice: core('discovery.k8s.io', 'v1', 'EndpointSlice', 'endpointslices'),
  Lease: core('coordination.k8s.io', 'v1', 'Lease', 'leases'),
  Deployment: core('apps', 'v1', 'Deployment', 'deployments'),
  CustomResourceDefinition: core(
    'apiextensions.k8s.io',
    'v1',
    'CustomResourceDefinition',
    'customresourcedefinitions',
    false,
  ),
  MutatingWebhookConfiguration: core(
    'admissionregistration.k8s.io',
    'v1',
    'MutatingWebhookConfiguration',
    'mutatingwebhookconfigurations',
    false,
  ),
  ValidatingWebhookConfiguration: core(
    'admissionregistration.k8s.io',
    'v1',
    'ValidatingWebhookConfiguration',
    'validatingwebhookconfigurations',
    false,
  ),
} as const satisfies Record<string, ResourceKind>;

function fromCrds(): Record<string, ResourceKind> {
  const out: Record<string, ResourceKind> = {};
  for (const crd of crdManifests({ gatewayApi: true, multicluster: true })) {
    const storage = crd.spec.versions.find((v) => v.storage);
    if (!storage) continue;
    const kind: ResourceKind = {
      group: crd.spec.group,
      version: storage.name,
      kind: crd.spec.names.kind,
      plural: crd.spec.names.plural,
      namespaced: crd.spec.scope === 'Namespaced',
      servedVersions: crd.spec.versions.filter((v) => v.served).map((v) => v.name),
    };
    out[kindKey(kind)] = kind;
  }
  return out;
}

const crdKinds = fromCrds();

function crdKind(key: string): ResourceKind {
  const kind = crdKinds[key];
  if (!kind) throw new MeshError(MeshErrorCode.Internal, `no CRD for ${key}`);
  return kind;
}

/** The mesh's custom kinds at their storage versions. */
export const MeshKinds = {
  Server: crdKind('Server.policy.linkerd.io'),
  ServerAuthorization: crdKind('ServerAuthorization.policy.linkerd.io'),
  AuthorizationPolicy: crdKind('AuthorizationPolicy.policy.linkerd.io'),
  MeshTLSAuthentication: crdKind('MeshTLSAuthentication.policy.linkerd.io'),
  NetworkAuthentication: crdKind('NetworkAuthentication.policy.linkerd.io'),
  PolicyHTTPRoute: crdKind('HTTPRoute.policy.linkerd.io'),
  HTTPLocalRateLimitPolicy: crdKind('HTTPLocalRateLimitPolicy.policy.linkerd.io'),
  EgressNetwork: crdKind('EgressNetwork.policy.linkerd.io'),
  ServiceProfile: crdKind('ServiceProfile.linkerd.io'),
  ExternalWorkload: crdKind('ExternalWorkload.workload.linkerd.io'),
  Link: crdKind('Link.multicluster.linkerd.io'),
  GatewayHTTPRoute: crdKind('HTTPRoute.gateway.networking.k8s.io'),
  GatewayGRPCRoute: crdKind('GRPCRoute.gateway.networking.k8s.io'),
} as const;

/** Every kind this package knows, core and custom. */
export function knownResourceKinds(): ResourceKind[] {
  return [...Object.values(CoreKinds), ...Object.values(MeshKinds)];
}
