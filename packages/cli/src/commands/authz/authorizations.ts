// The authorizations that apply to a workload, as linkerd's `authz` lists them: the Servers whose
// podSelector matches any of its pods, then for each Server
// - ServerAuthorizations naming it (spec.server.name) or selecting it (spec.server.selector);
// - AuthorizationPolicies targeting it (targetRef kind Server), its namespace (kind Namespace), or
//   a route attached to it (targetRef HTTPRoute/GRPCRoute whose parentRefs name the Server) —
//   those rows carry the route's name; the others apply to every route (*).
import { labelSelectorMatches, MeshError, MeshErrorCode, parseLabelSelector } from '@tsmesh/core';
import { MeshKinds, type KubeApiClient, type KubeObject, type ResourceKind } from '@tsmesh/kube';

export interface AuthorizationRow {
  /** The route the authorization is limited to; `*` for the whole Server. */
  route: string;
  server: string;
  authorizationPolicy: string;
  serverAuthorization: string;
}

interface Ref {
  group?: string;
  kind?: string;
  name?: string;
  namespace?: string;
}

const labelsOf = (o: KubeObject): Record<string, string> => o.metadata?.labels ?? {};
const nameOf = (o: KubeObject): string => o.metadata?.name ?? '';
const spec = <T>(o: KubeObject): T => (o as { spec?: T }).spec ?? ({} as T);

function selects(selector: unknown, labels: Record<string, string>, where: string): boolean {
  try {
    return labelSelectorMatches(parseLabelSelector(selector, where), labels);
  } catch {
    return false; // an invalid selector selects nothing (the admission webhook rejects it anyway)
  }
}

const ROUTE_KINDS: ReadonlySet<string> = new Set(['HTTPRoute', 'GRPCRoute']);

/** Route objects (policy and Gateway API) by name, with the Servers they attach to. */
function routeParents(routes: readonly KubeObject[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const r of routes) {
    const parents = spec<{ parentRefs?: Ref[] }>(r).parentRefs ?? [];
    const servers = out.get(`${r.kind}/${nameOf(r)}`) ?? new Set<string>();
    for (const p of parents) if ((p.kind ?? 'Gateway') === 'Server' && p.name) servers.add(p.name);
    out.set(`${r.kind}/${nameOf(r)}`, servers);
  }
  return out;
}

export interface AuthorizationInputs {
  readonly namespace: string;
  readonly pods: readonly KubeObject[];
  readonly servers: readonly KubeObject[];
  readonly serverAuthorizations: readonly KubeObject[];
  readonly authorizationPolicies: readonly KubeObject[];
  readonly routes: readonly KubeObject[];
}

/** Pure: the rows for a workload's pods, sorted by server, then route, then policy names. */
export function authorizationRows(inputs: AuthorizationInputs): AuthorizationRow[] {
  const servers = inputs.servers.filter((s) =>
    inputs.pods.some((p) =>
      selects(spec<{ podSelector?: unknown }>(s).podSelector, labelsOf(p), 'spec.podSelector'),
    ),
  );
  const parents = routeParents(inputs.routes);
  const rows: AuthorizationRow[] = [];
  for (const server of servers) {
    const serverName = nameOf(server);
    for (const saz of inputs.serverAuthorizations) {
      const target = spec<{ server?: { name?: string; selector?: unknown } }>(saz).server ?? {};
      const applies =
        target.name !== undefined
          ? target.name === serverName
          : target.selector !== undefined &&
            selects(target.selector, labelsOf(server), 'spec.server.selector');
      if (applies) {
        rows.push({
          route: '*',
          server: serverName,
          authorizationPolicy: '',
          serverAuthorization: nameOf(saz),
        });
      }
    }
    for (const ap of inputs.authorizationPolicies) {
      const t = spec<{ targetRef?: Ref }>(ap).targetRef ?? {};
      const kind = t.kind ?? '';
      let route: string | undefined;
      if (kind === 'Server' && t.name === serverName) route = '*';
      else if (kind === 'Namespace' && (t.name ?? inputs.namespace) === inputs.namespace) route = '*';
      else if (ROUTE_KINDS.has(kind) && t.name) {
        if (parents.get(`${kind}/${t.name}`)?.has(serverName)) route = t.name;
      }
      if (route !== undefined) {
        rows.push({ route, server: serverName, authorizationPolicy: nameOf(ap), serverAuthorization: '' });
      }
    }
  }
  return rows.sort(
    (a, b) =>
      a.server.localeCompare(b.server) ||
      a.route.localeCompare(b.route) ||
      a.authorizationPolicy.localeCompare(b.authorizationPolicy) ||
      a.serverAuthorization.localeCompare(b.serverAuthorization),
  );
}

async function listOptional(
  client: KubeApiClient,
  kind: ResourceKind,
  namespace: string,
): Promise<KubeObject[]> {
  try {
    return (await client.list(kind, { namespace })).items.map((o) => ({ ...o, kind: kind.kind }));
  } catch (err) {
    // A kind whose CRD is not installed (e.g. the Gateway API's GRPCRoute) has nothing to list.
    if ((err as { statusCode?: number }).statusCode === 404) return [];
    throw err;
  }
}

/** Reads the policy objects of the namespace and computes the rows for `pods`. */
export async function authorizationsFor(
  client: KubeApiClient,
  namespace: string,
  pods: readonly KubeObject[],
): Promise<AuthorizationRow[]> {
  const [servers, serverAuthorizations, authorizationPolicies, ...routeLists] = await Promise.all([
    client.list(MeshKinds.Server, { namespace }).then(
      (l) => l.items,
      (err: unknown) => {
        if ((err as { statusCode?: number }).statusCode !== 404) throw err;
        throw new MeshError(MeshErrorCode.NotFound, 'the Server CRD (policy.linkerd.io) is not installed', {
          where: 'servers.policy.linkerd.io',
          hint: 'install the CRDs: tsmesh install --crds | kubectl apply --server-side -f -',
        });
      },
    ),
    listOptional(client, MeshKinds.ServerAuthorization, namespace),
    listOptional(client, MeshKinds.AuthorizationPolicy, namespace),
    listOptional(client, MeshKinds.PolicyHTTPRoute, namespace),
    listOptional(client, MeshKinds.GatewayHTTPRoute, namespace),
    listOptional(client, MeshKinds.GatewayGRPCRoute, namespace),
  ]);
  return authorizationRows({
    namespace,
    pods,
    servers,
    serverAuthorizations,
    authorizationPolicies,
    routes: routeLists.flat(),
  });
}
