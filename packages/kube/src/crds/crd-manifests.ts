// Every CRD the mesh serves, in install order, and a YAML rendering for `tsmesh install --crds`.
import { stringify } from 'yaml';
import type { CustomResourceDefinition } from './crd.js';
import { externalWorkloadCrd } from './external-workload-crd.js';
import { gatewayGrpcRouteCrd, gatewayHttpRouteCrd } from './gateway-api-crds.js';
import { linkCrd } from './link-crd.js';
import { policyHttpRouteCrd } from './policy-http-route-crd.js';
import {
  authorizationPolicyCrd,
  egressNetworkCrd,
  httpLocalRateLimitPolicyCrd,
  meshTlsAuthenticationCrd,
  networkAuthenticationCrd,
  serverAuthorizationCrd,
  serverCrd,
} from './policy-crds.js';
import { serviceProfileCrd } from './service-profile-crd.js';

export interface CrdManifestOptions {
  /**
   * Include the Gateway API HTTPRoute and GRPCRoute CRDs. Off by default, as in Linkerd since
   * 2.19 (`installGatewayAPI: false`): clusters usually get them from the Gateway API release.
   */
  gatewayApi?: boolean;
  /** Include the multicluster Link CRD (shipped by the multicluster extension). Default true. */
  multicluster?: boolean;
}

/** The mesh's CRDs as plain objects (fresh copies on every call). */
export function crdManifests(options: CrdManifestOptions = {}): CustomResourceDefinition[] {
  const crds = [
    serverCrd(),
    serverAuthorizationCrd(),
    authorizationPolicyCrd(),
    meshTlsAuthenticationCrd(),
    networkAuthenticationCrd(),
    policyHttpRouteCrd(),
    httpLocalRateLimitPolicyCrd(),
    egressNetworkCrd(),
    serviceProfileCrd(),
    externalWorkloadCrd(),
  ];
  if (options.multicluster !== false) crds.push(linkCrd());
  if (options.gatewayApi === true) crds.push(gatewayHttpRouteCrd(), gatewayGrpcRouteCrd());
  return crds;
}

/** The CRDs as one multi-document YAML stream, each document starting with `---`. */
export function formatCrdManifestsYaml(options: CrdManifestOptions = {}): string {
  return crdManifests(options)
    .map((crd) => `---\n${stringify(crd, { lineWidth: 0, aliasDuplicateObjects: false })}`)
    .join('');
}
