// The Gateway API CRDs (HTTPRoute, GRPCRoute) as current Linkerd handles them (2.19+/edge):
// - the linkerd-crds chart renders them only with `installGatewayAPI` (default false), or
//   `enableHttpRoutes` which overrides it;
// - `linkerd install --crds` looks at the cluster first (pkg/healthcheck/gwapi: the
//   httproutes/grpcroutes CRDs are absent, installed by Linkerd — a `linkerd.io/created-by`
//   annotation — or external): when the user did not set installGatewayAPI it keeps managing CRDs it
//   installed itself and leaves the rest alone (linkerd2#13739); it refuses to install without the
//   Gateway API and without installing it, and refuses to take over external CRDs (#13834, #13872);
//   external CRDs must serve v1 (#13938);
// - `linkerd check` fails when the HTTPRoute CRD is missing (#15409).
import { MeshError, MeshErrorCode } from '@tsmesh/core';
import {
  CoreKinds,
  crdManifests,
  GATEWAY_API_BUNDLE_VERSION,
  GATEWAY_GROUP,
  isNotFound,
  resourcePath,
  type CustomResourceDefinition,
  type KubeApiClient,
} from '@tsmesh/kube';
import { VERSION } from '../version.js';
import { mergeValues, parseSetFlag, readValuesFile, type Values } from './values.js';

export const HTTP_ROUTE_CRD = `httproutes.${GATEWAY_GROUP}`;
export const GRPC_ROUTE_CRD = `grpcroutes.${GATEWAY_GROUP}`;
const GATEWAY_API_CRDS = [HTTP_ROUTE_CRD, GRPC_ROUTE_CRD] as const;
const CREATED_BY = 'linkerd.io/created-by';

/** How to install the Gateway API (the release our route schemas follow), for hints. */
export const GATEWAY_API_INSTALL_HINT =
  `install the Gateway API first: kubectl apply --server-side -f https://github.com/kubernetes-sigs/gateway-api/releases/download/${GATEWAY_API_BUNDLE_VERSION}/standard-install.yaml ` +
  '(see https://gateway-api.sigs.k8s.io/guides/#installing-gateway-api), or let tsmesh install them: ' +
  'tsmesh install --crds --set installGatewayAPI=true | kubectl apply --server-side -f -';

/** The values of the CRD chart (Linkerd's linkerd-crds values). */
export interface CrdValues {
  /** Install the Gateway API CRDs; unset: keep what the cluster has (tsmesh-managed → true). */
  installGatewayAPI?: boolean;
  /** Overrides installGatewayAPI for HTTPRoute and GRPCRoute. */
  enableHttpRoutes?: boolean;
  /** Accepted as Linkerd's; tsmesh ships no TLSRoute/TCPRoute CRDs. */
  enableTlsRoutes?: boolean;
  enableTcpRoutes?: boolean;
}

const CRD_VALUE_KEYS = [
  'installGatewayAPI',
  'enableHttpRoutes',
  'enableTlsRoutes',
  'enableTcpRoutes',
] as const;

/**
 * The CRD values from --values files and --set flags (in order). Other keys (the control plane's,
 * when the same file serves both steps) are ignored, as the linkerd-crds chart ignores them.
 */
export function resolveCrdValues(flags: { values?: string[]; set?: string[] }): CrdValues {
  const merged = mergeValues<Values>(
    {},
    ...(flags.values ?? []).map(readValuesFile),
    ...(flags.set ?? []).map(parseSetFlag),
  );
  const out: CrdValues = {};
  for (const key of CRD_VALUE_KEYS) {
    const value = merged[key];
    if (value === undefined) continue;
    if (typeof value !== 'boolean') {
      throw new MeshError(MeshErrorCode.Config, `${key} is ${typeof value}, expected true or false`, {
        where: 'values',
        hint: `e.g. --set ${key}=true`,
      });
    }
    out[key] = value;
  }
  return out;
}

export type GatewayApiOwner = 'absent' | 'tsmesh' | 'external';

export interface GatewayApiState {
  owner: GatewayApiOwner;
  /** The HTTPRoute and GRPCRoute CRDs found. */
  crds: CustomResourceDefinition[];
}

/** Looks for the HTTPRoute and GRPCRoute CRDs (one request each, bounded by `timeoutMs`). */
export async function inspectGatewayApi(client: KubeApiClient, timeoutMs = 10_000): Promise<GatewayApiState> {
  const crds: CustomResourceDefinition[] = [];
  for (const name of GATEWAY_API_CRDS) {
    try {
      // request() rather than get(): get() takes no timeout.
      crds.push(
        await client.request<CustomResourceDefinition>({
          path: resourcePath(CoreKinds.CustomResourceDefinition, { name }),
          timeoutMs,
        }),
      );
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
  if (crds.length === 0) return { owner: 'absent', crds };
  // Linkerd counts the CRDs as its own when either carries its created-by annotation.
  const ours = crds.some((c) => Boolean(c.metadata.annotations?.[CREATED_BY]));
  return { owner: ours ? 'tsmesh' : 'external', crds };
}

/** Names the CRDs of the state that do not serve v1 (the version the mesh reads). */
export function crdsWithoutV1(state: GatewayApiState): string[] {
  return state.crds
    .filter((c) => !c.spec.versions.some((v) => v.name === 'v1' && v.served))
    .map((c) => c.metadata.name);
}

/**
 * Whether `install --crds` renders the Gateway API CRDs, or why it refuses. `cluster` is undefined
 * with --ignore-cluster (then only the values decide).
 */
export function planGatewayApiCrds(values: CrdValues, cluster: GatewayApiState | undefined): boolean {
  const install = values.enableHttpRoutes ?? values.installGatewayAPI ?? cluster?.owner === 'tsmesh';
  if (!cluster) return install;
  if (cluster.owner === 'absent' && !install) {
    throw new MeshError(
      MeshErrorCode.FailedPrecondition,
      `the Gateway API CRDs must be installed before tsmesh: the cluster has no ${HTTP_ROUTE_CRD}`,
      { hint: GATEWAY_API_INSTALL_HINT },
    );
  }
  if (cluster.owner === 'external' && install) {
    throw new MeshError(
      MeshErrorCode.FailedPrecondition,
      `the Gateway API CRDs on the cluster were not installed by tsmesh; installing them would take them over`,
      {
        hint: 'leave them to whatever installed them: drop --gateway-api, or --set installGatewayAPI=false',
      },
    );
  }
  if (cluster.owner === 'external') {
    const old = crdsWithoutV1(cluster);
    if (old.length) {
      throw new MeshError(
        MeshErrorCode.FailedPrecondition,
        `the ${old.join(' and ')} CRD${old.length > 1 ? 's are' : ' is'} missing the v1 version`,
        { hint: 'upgrade to Gateway API v1.0.0 or later' },
      );
    }
  }
  return install;
}

/** The mesh's CRDs, with the Gateway API ones (marked as installed by tsmesh) when asked. */
export function installCrdManifests(gatewayApi: boolean): CustomResourceDefinition[] {
  return crdManifests({ gatewayApi }).map((crd) =>
    crd.spec.group === GATEWAY_GROUP
      ? {
          ...crd,
          metadata: {
            ...crd.metadata,
            annotations: { ...crd.metadata.annotations, [CREATED_BY]: `tsmesh/cli ${VERSION}` },
          },
        }
      : crd,
  );
}
