// The policy index: resources in, one compiled policy per (workload, port) out. Compiling resolves
// everything that does not depend on the client or the request — which Server selects the port,
// its authorizations (ServerAuthorizations, AuthorizationPolicies and the access policy), its routes
// in precedence order with their route-level authorizations, the default policy and probe routes —
// so that evaluating a request is a route-table scan and a few network/identity checks.
import { ConfigAnnotation, DEFAULT_OPAQUE_PORTS, DefaultInboundPolicy } from '../vocabulary/index.js';
import { MeshError, MeshErrorCode } from '../errors/index.js';
import {
  compileIdentities,
  type ClientAuthorization,
  type CompiledAuthentication,
} from './client-authorization.js';
import { defaultAuthorizations, parseDefaultInboundPolicy, probeAuthorization } from './default-policy.js';
import { serviceAccountIdentity, type IdentityMatch } from './identity-match.js';
import { ALL_NETWORKS, DEFAULT_CLUSTER_NETWORKS, parseIpNetwork, type NetworkMatch } from './ip-network.js';
import { labelSelectorMatches } from './label-selector.js';
import {
  POLICY_GROUP,
  type AuthorizationPolicy,
  type BackendRef,
  type GrpcRoute,
  type GrpcRouteMatch,
  type HttpLocalRateLimitPolicy,
  type HttpRoute,
  type HttpRouteFilter,
  type HttpRouteMatch,
  type MeshTLSAuthentication,
  type NetworkAuthentication,
  type PolicyResource,
  type ProxyProtocol,
  type ResourceMeta,
  type Server,
  type ServerAuthorization,
  type Workload,
} from './model.js';
import {
  compareRouteAge,
  compileGrpcMatch,
  compileHttpMatch,
  RouteTable,
  type CompiledMatch,
} from './route-match.js';

export interface PolicyIndexOptions {
  /** Networks that count as "the cluster" for cluster-* policies. Default: Linkerd's `clusterNetworks`. */
  readonly clusterNetworks?: readonly string[];
  /** Networks probes come from. Default: all (Linkerd's `probeNetworks`). */
  readonly probeNetworks?: readonly string[];
  /** The cluster-wide default inbound policy. Default `all-unauthenticated` (Linkerd's install default). */
  readonly defaultPolicy?: DefaultInboundPolicy;
  /** For ServiceAccount → identity names. Default `linkerd`. */
  readonly controlPlaneNamespace?: string;
  /** For ServiceAccount → identity names. Default `cluster.local`. */
  readonly trustDomain?: string;
  /** Ports opaque on workloads without a `config.linkerd.io/opaque-ports` annotation. Default Linkerd's list. */
  readonly defaultOpaquePorts?: readonly number[];
}

/** Which server policy applies: a Server resource, or the workload's default policy. */
export type ServerRef =
  | { readonly kind: 'Server'; readonly namespace: string; readonly name: string }
  | { readonly kind: 'default'; readonly name: DefaultInboundPolicy };

export interface RouteRef {
  readonly kind: 'HTTPRoute' | 'GRPCRoute' | 'default';
  /** API group for resources; empty for defaults. */
  readonly group: string;
  /** The resource name, or `default` / `probe` for the routes Linkerd synthesizes. */
  readonly name: string;
}

export interface CompiledRule {
  readonly matches: readonly HttpRouteMatch[];
  /** GRPCRoute rules: the rule's gRPC matches (`matches` is empty for them). */
  readonly grpcMatches?: readonly GrpcRouteMatch[];
  readonly filters: readonly HttpRouteFilter[];
  readonly backendRefs: readonly BackendRef[];
}

export interface CompiledRoute {
  readonly ref: RouteRef;
  /** The route's hostnames (empty: any). */
  readonly hostnames?: readonly string[];
  readonly rules: readonly CompiledRule[];
  /** Route-level authorizations first, then the server's (what the proxy checks for a request). */
  readonly authorizations: readonly ClientAuthorization[];
}

export interface CompiledRateLimit {
  readonly name: string;
  readonly totalRequestsPerSecond: number | undefined;
  readonly identityRequestsPerSecond: number | undefined;
  readonly overrides: readonly {
    readonly requestsPerSecond: number;
    readonly identities: ReadonlySet<string>;
  }[];
}

/** Everything the engine needs for one workload port. Immutable; shared by evaluations. */
export interface CompiledPort {
  readonly namespace: string;
  readonly port: number;
  readonly server: ServerRef;
  readonly protocol: ProxyProtocol;
  /** Server-level authorizations: what a connection (opaque, TLS, or before any request) is checked against. */
  readonly authorizations: readonly ClientAuthorization[];
  readonly httpRoutes: RouteTable<CompiledRoute>;
  readonly grpcRoutes: RouteTable<CompiledRoute>;
  /** The routes of `httpRoutes` / `grpcRoutes` in age order (what the proxy API lists). */
  readonly httpRouteList?: readonly CompiledRoute[];
  readonly grpcRouteList?: readonly CompiledRoute[];
  readonly rateLimit: CompiledRateLimit | undefined;
}

/** Identifies a workload port: by name (a Pod or ExternalWorkload in the index), or described inline. */
export interface WorkloadTarget {
  readonly namespace: string;
  readonly port: number;
  /** Name of a Pod or ExternalWorkload given to the index. */
  readonly workload?: string;
  /** Default `Pod`. */
  readonly kind?: 'Pod' | 'ExternalWorkload';
  /** For a workload not in the index: its labels, annotations, named ports and probe paths on `port`. */
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly ports?: readonly { readonly name?: string; readonly port: number }[];
  readonly probePaths?: readonly string[];
}

interface NamespacePolicies {
  servers: Server[];
  serverAuthorizations: ServerAuthorization[];
  authorizationPolicies: AuthorizationPolicy[];
  httpRoutes: HttpRoute[];
  grpcRoutes: GrpcRoute[];
  rateLimits: HttpLocalRateLimitPolicy[];
  annotations: Readonly<Record<string, string>>;
}

const MAX_CACHE = 10_000;

/** A port list annotation (`25,3306,4000-4010`); malformed parts are skipped. */
export function parsePortList(value: string | undefined): Set<number> {
  const ports = new Set<number>();
  if (!value) return ports;
  for (const part of value.split(',')) {
    const [lo, hi] = part.trim().split('-').map(Number);
    if (lo === undefined || !Number.isInteger(lo)) continue;
    const top = hi !== undefined && Number.isInteger(hi) ? hi : lo;
    for (let p = lo; p <= top && p <= 65535; p++) ports.add(p);
  }
  return ports;
}

function byAge(a: { meta: ResourceMeta }, b: { meta: ResourceMeta }): number {
  return compareRouteAge(a.meta, b.meta);
}

export class PolicyIndex {
  /** Problems found while compiling (conflicting Servers, policies naming missing authentications...). */
  readonly warnings: string[] = [];
  readonly clusterNetworks: readonly NetworkMatch[];
  readonly probeNetworks: readonly NetworkMatch[];
  readonly defaultPolicy: DefaultInboundPolicy;
  private readonly controlPlaneNamespace: string;
  private readonly trustDomain: string;
  private readonly defaultOpaquePorts: readonly number[];
  private readonly namespaces = new Map<string, NamespacePolicies>();
  private readonly workloads = new Map<string, Workload>();
  private readonly meshTls = new Map<string, MeshTLSAuthentication>();
  private readonly networkAuthn = new Map<string, NetworkAuthentication>();
  /** Inline (unnamed) workloads, keyed by their description; bounded. */
  private readonly cache = new Map<string, CompiledPort>();
  private readonly namedCache = new Map<string, Map<string, Map<string, Map<number, CompiledPort>>>>();
  private readonly warned = new Set<string>();

  constructor(resources: Iterable<PolicyResource>, options: PolicyIndexOptions = {}) {
    const nets = (list: readonly string[], where: string) =>
      list.map((cidr, i) => ({ net: parseIpNetwork(cidr, `${where}[${i}]`), except: [] }));
    this.clusterNetworks = nets(options.clusterNetworks ?? DEFAULT_CLUSTER_NETWORKS, 'clusterNetworks');
    this.probeNetworks = options.probeNetworks ? nets(options.probeNetworks, 'probeNetworks') : ALL_NETWORKS;
    this.defaultPolicy = options.defaultPolicy ?? DefaultInboundPolicy.AllUnauthenticated;
    this.controlPlaneNamespace = options.controlPlaneNamespace ?? 'linkerd';
    this.trustDomain = options.trustDomain ?? 'cluster.local';
    this.defaultOpaquePorts = options.defaultOpaquePorts ?? DEFAULT_OPAQUE_PORTS;
    for (const r of resources) this.add(r);
    for (const ns of this.namespaces.values()) {
      for (const list of [ns.servers, ns.httpRoutes, ns.grpcRoutes, ns.rateLimits] as {
        meta: ResourceMeta;
      }[][]) {
        list.sort(byAge);
      }
    }
  }

  private ns(name: string): NamespacePolicies {
    let ns = this.namespaces.get(name);
    if (!ns) {
      ns = {
        servers: [],
        serverAuthorizations: [],
        authorizationPolicies: [],
        httpRoutes: [],
        grpcRoutes: [],
        rateLimits: [],
        annotations: {},
      };
      this.namespaces.set(name, ns);
    }
    return ns;
  }

  private add(r: PolicyResource): void {
    switch (r.kind) {
      case 'Server':
        this.ns(r.meta.namespace).servers.push(r);
        break;
      case 'ServerAuthorization':
        this.ns(r.meta.namespace).serverAuthorizations.push(r);
        break;
      case 'AuthorizationPolicy':
        this.ns(r.meta.namespace).authorizationPolicies.push(r);
        break;
      case 'MeshTLSAuthentication':
        this.meshTls.set(`${r.meta.namespace}/${r.meta.name}`, r);
        break;
      case 'NetworkAuthentication':
        this.networkAuthn.set(`${r.meta.namespace}/${r.meta.name}`, r);
        break;
      case 'HTTPRoute':
        this.ns(r.meta.namespace).httpRoutes.push(r);
        break;
      case 'GRPCRoute':
        this.ns(r.meta.namespace).grpcRoutes.push(r);
        break;
      case 'HTTPLocalRateLimitPolicy':
        this.ns(r.meta.namespace).rateLimits.push(r);
        break;
      case 'Pod':
      case 'ExternalWorkload':
        this.workloads.set(`${r.meta.namespace}/${r.kind}/${r.meta.name}`, r);
        break;
      case 'Namespace':
        this.ns(r.meta.name).annotations = r.meta.annotations;
        break;
    }
  }

  private warn(message: string): void {
    if (this.warned.has(message)) return;
    this.warned.add(message);
    this.warnings.push(message);
  }

  /** The identity name of a ServiceAccount in this mesh. */
  serviceAccountIdentity(namespace: string, name: string): string {
    return serviceAccountIdentity(namespace, name, this.controlPlaneNamespace, this.trustDomain);
  }

  /** The compiled policy for a workload port (cached). Throws `not_found` for an unknown workload name. */
  lookup(target: WorkloadTarget): CompiledPort {
    const kind = target.kind ?? 'Pod';
    // Named workloads: nested maps, so that a hot lookup builds no strings.
    let ports: Map<number, CompiledPort> | undefined;
    let key: string | undefined;
    if (target.workload !== undefined) {
      let byNs = this.namedCache.get(kind);
      if (!byNs) this.namedCache.set(kind, (byNs = new Map()));
      let byName = byNs.get(target.namespace);
      if (!byName) byNs.set(target.namespace, (byName = new Map()));
      ports = byName.get(target.workload);
      if (!ports) byName.set(target.workload, (ports = new Map()));
      const hit = ports.get(target.port);
      if (hit) return hit;
    } else {
      key = `${kind}\0${JSON.stringify([target.namespace, target.port, target.labels, target.annotations, target.ports, target.probePaths])}`;
      const hit = this.cache.get(key);
      if (hit) return hit;
    }
    let workload: Workload;
    if (target.workload !== undefined) {
      const found = this.workloads.get(`${target.namespace}/${kind}/${target.workload}`);
      if (!found) {
        throw new MeshError(
          MeshErrorCode.NotFound,
          `${kind} ${target.namespace}/${target.workload} is not in the policy index`,
          {
            where: 'target.workload',
            hint: `add the ${kind} manifest, or describe the workload with target.labels`,
          },
        );
      }
      workload = found;
    } else {
      workload = {
        kind,
        meta: {
          name: '',
          namespace: target.namespace,
          labels: target.labels ?? {},
          annotations: target.annotations ?? {},
          creationTimestampMs: undefined,
        },
        ports: (target.ports ?? []).map((p) => ({ name: p.name, port: p.port })),
        probePaths: new Map(target.probePaths ? [[target.port, target.probePaths]] : []),
      };
    }
    const compiled = this.compile(workload, target.port);
    if (ports) ports.set(target.port, compiled);
    else if (key !== undefined) {
      if (this.cache.size >= MAX_CACHE) this.cache.clear();
      this.cache.set(key, compiled);
    }
    return compiled;
  }

  private compile(workload: Workload, port: number): CompiledPort {
    const namespace = workload.meta.namespace;
    const ns = this.namespaces.get(namespace);
    const selecting = (ns?.servers ?? []).filter(
      (s) =>
        s.workloadKind === workload.kind &&
        labelSelectorMatches(s.selector, workload.meta.labels) &&
        (typeof s.port === 'number'
          ? s.port === port
          : workload.ports.some((p) => p.name === s.port && p.port === port)),
    );
    const server = selecting[0];
    if (selecting.length > 1) {
      this.warn(
        `Servers ${selecting.map((s) => s.meta.name).join(', ')} in ${namespace} all select port ${port} of ${workload.kind} ${workload.meta.name || '(inline)'}; using the oldest, ${server?.meta.name}`,
      );
    }
    const probePaths = workload.kind === 'Pod' ? (workload.probePaths.get(port) ?? []) : [];
    if (!server || !ns) return this.compileDefault(workload, port, probePaths);

    const authorizations = this.serverAuthorizations(ns, server);
    const routeAuthz = (kind: 'HTTPRoute' | 'GRPCRoute', group: string, name: string) =>
      this.policyAuthorizations(
        ns.authorizationPolicies.filter(
          (p) =>
            p.target.kind === kind &&
            p.target.name === name &&
            'group' in p.target &&
            p.target.group === group,
        ),
      );
    const attached = (route: HttpRoute | GrpcRoute) =>
      route.parentRefs.some(
        (p) =>
          p.group === POLICY_GROUP &&
          p.kind === 'Server' &&
          p.name === server.meta.name &&
          p.namespace === namespace,
      );
    const httpRoutes = ns.httpRoutes.filter(attached).map((r) => ({
      ref: { kind: 'HTTPRoute', group: r.group, name: r.meta.name } as const,
      hostnames: r.hostnames,
      rules: r.rules,
      authorizations: [...routeAuthz('HTTPRoute', r.group, r.meta.name), ...authorizations],
    }));
    const grpcRoutes = (ns.grpcRoutes as GrpcRoute[]).filter(attached);
    const grpcCompiled = grpcRoutes.map((r): CompiledRoute => ({
      ref: { kind: 'GRPCRoute', group: r.group, name: r.meta.name },
      hostnames: r.hostnames,
      rules: r.rules.map((rule) => ({
        matches: [],
        grpcMatches: rule.matches,
        filters: rule.filters,
        backendRefs: rule.backendRefs,
      })),
      authorizations: [...routeAuthz('GRPCRoute', r.group, r.meta.name), ...authorizations],
    }));
    const httpTableOut =
      httpRoutes.length > 0 ? httpTable(httpRoutes) : this.defaultHttpRoutes(authorizations, probePaths);
    const grpcTableOut =
      grpcRoutes.length > 0
        ? new RouteTable(
            grpcRoutes.map((r, i) => ({
              route: grpcCompiled[i] as CompiledRoute,
              hostnames: r.hostnames,
              rules: r.rules.map((rule) => rule.matches.map(compileGrpcMatch)),
            })),
          )
        : defaultGrpcRoutes(authorizations);
    return {
      namespace,
      port,
      server: { kind: 'Server', namespace, name: server.meta.name },
      protocol: server.proxyProtocol,
      authorizations,
      httpRoutes: httpTableOut,
      grpcRoutes: grpcTableOut,
      httpRouteList: routesOf(httpTableOut),
      grpcRouteList: routesOf(grpcTableOut),
      rateLimit: this.rateLimit(ns, server),
    };
  }

  private compileDefault(workload: Workload, port: number, probePaths: readonly string[]): CompiledPort {
    const nsAnnotations = this.namespaces.get(workload.meta.namespace)?.annotations ?? {};
    const annotation = (name: string) => workload.meta.annotations[name] ?? nsAnnotations[name];
    const configured = annotation(ConfigAnnotation.DefaultInboundPolicy);
    let policy = parseDefaultInboundPolicy(configured);
    if (configured !== undefined && policy === undefined) {
      this.warn(
        `${workload.meta.namespace}/${workload.meta.name}: default-inbound-policy "${configured}" is not a policy; using ${this.defaultPolicy}`,
      );
    }
    policy ??= this.defaultPolicy;
    const requireIdentity = parsePortList(annotation(ConfigAnnotation.ProxyRequireIdentityInboundPorts)).has(
      port,
    );
    const opaquePorts = annotation(ConfigAnnotation.OpaquePorts);
    const opaque =
      opaquePorts === undefined
        ? this.defaultOpaquePorts.includes(port)
        : parsePortList(opaquePorts).has(port);
    const authorizations = defaultAuthorizations(policy, this.clusterNetworks, requireIdentity);
    const defaultHttp = this.defaultHttpRoutes(authorizations, probePaths);
    const defaultGrpc = defaultGrpcRoutes(authorizations);
    return {
      namespace: workload.meta.namespace,
      port,
      server: { kind: 'default', name: policy },
      protocol: opaque ? 'opaque' : 'unknown',
      authorizations,
      httpRoutes: defaultHttp,
      grpcRoutes: defaultGrpc,
      httpRouteList: routesOf(defaultHttp),
      grpcRouteList: routesOf(defaultGrpc),
      rateLimit: undefined,
    };
  }

  /**
   * Linkerd's routes for a server without HTTPRoutes: `default` (every request, the server's
   * authorizations) and, when the pod has HTTP probes on this port, `probe` (GET on each probe path,
   * authorized for unauthenticated clients from the probe networks, then the server's).
   */
  private defaultHttpRoutes(authorizations: readonly ClientAuthorization[], probePaths: readonly string[]) {
    const routes: RouteInput[] = [
      {
        ref: { kind: 'default', group: '', name: 'default' },
        hostnames: [],
        rules: [
          {
            matches: [
              { path: { type: 'PathPrefix', value: '/' }, headers: [], queryParams: [], method: undefined },
            ],
            filters: [],
            backendRefs: [],
            timeouts: { request: undefined, backendRequest: undefined },
          },
        ],
        authorizations,
      },
    ];
    if (probePaths.length > 0) {
      routes.push({
        ref: { kind: 'default', group: '', name: 'probe' },
        hostnames: [],
        rules: [
          {
            matches: probePaths.map((value) => ({
              path: { type: 'Exact', value },
              headers: [],
              queryParams: [],
              method: 'GET',
            })),
            filters: [],
            backendRefs: [],
            timeouts: { request: undefined, backendRequest: undefined },
          },
        ],
        authorizations: [probeAuthorization(this.probeNetworks), ...authorizations],
      });
    }
    return httpTable(routes);
  }

  private serverAuthorizations(ns: NamespacePolicies, server: Server): ClientAuthorization[] {
    const out: ClientAuthorization[] = [];
    for (const saz of ns.serverAuthorizations) {
      const selects =
        'name' in saz.server
          ? saz.server.name === server.meta.name
          : labelSelectorMatches(saz.server.selector, server.meta.labels);
      if (!selects) continue;
      const a = saz.authentication;
      let authentication: CompiledAuthentication;
      if (a.kind === 'mesh-tls') {
        const ids: IdentityMatch[] = [
          ...a.identities,
          ...a.serviceAccounts.map(
            (sa) => ({ kind: 'exact', name: this.serviceAccountIdentity(sa.namespace, sa.name) }) as const,
          ),
        ];
        authentication = compileIdentities(ids);
      } else {
        authentication = a;
      }
      out.push({
        ref: { kind: 'ServerAuthorization', name: saz.meta.name },
        // Linkerd: a ServerAuthorization without networks admits the cluster networks.
        networks: saz.networks.length > 0 ? saz.networks : this.clusterNetworks,
        authentication,
      });
    }
    out.push(
      ...this.policyAuthorizations(
        ns.authorizationPolicies.filter(
          (p) =>
            (p.target.kind === 'Server' && p.target.name === server.meta.name) ||
            p.target.kind === 'Namespace',
        ),
      ),
    );
    // The access policy comes last so that a named rule, when one admits the client, is the one reported.
    out.push(...defaultAuthorizations(server.accessPolicy, this.clusterNetworks));
    return out;
  }

  private policyAuthorizations(policies: readonly AuthorizationPolicy[]): ClientAuthorization[] {
    const out: ClientAuthorization[] = [];
    for (const p of [...policies].sort(byAge)) {
      let authentication: CompiledAuthentication = { kind: 'unauthenticated' };
      let networks: readonly NetworkMatch[] = ALL_NETWORKS;
      let ok = true;
      for (const ref of p.requiredAuthenticationRefs) {
        const key = `${ref.namespace}/${ref.name}`;
        if (ref.kind === 'ServiceAccount') {
          authentication = compileIdentities([
            { kind: 'exact', name: this.serviceAccountIdentity(ref.namespace, ref.name) },
          ]);
        } else if (ref.kind === 'MeshTLSAuthentication') {
          const authn = this.meshTls.get(key);
          if (!authn) {
            this.warn(
              `AuthorizationPolicy ${p.meta.namespace}/${p.meta.name}: MeshTLSAuthentication ${key} not found; policy ignored`,
            );
            ok = false;
            break;
          }
          authentication = compileIdentities([
            ...authn.identities,
            ...authn.identityRefs.map(
              (r) =>
                (r.kind === 'ServiceAccount'
                  ? { kind: 'exact', name: this.serviceAccountIdentity(r.namespace, r.name) }
                  : {
                      kind: 'suffix',
                      suffix: `.${r.name}.serviceaccount.identity.${this.controlPlaneNamespace}.${this.trustDomain}`,
                    }) as IdentityMatch,
            ),
          ]);
        } else {
          const authn = this.networkAuthn.get(key);
          if (!authn) {
            this.warn(
              `AuthorizationPolicy ${p.meta.namespace}/${p.meta.name}: NetworkAuthentication ${key} not found; policy ignored`,
            );
            ok = false;
            break;
          }
          networks = authn.networks;
        }
      }
      if (ok) out.push({ ref: { kind: 'AuthorizationPolicy', name: p.meta.name }, networks, authentication });
    }
    return out;
  }

  private rateLimit(ns: NamespacePolicies, server: Server): CompiledRateLimit | undefined {
    const policy = ns.rateLimits.find((r) => r.targetServer === server.meta.name);
    if (!policy) return undefined;
    return {
      name: policy.meta.name,
      totalRequestsPerSecond: policy.totalRequestsPerSecond,
      identityRequestsPerSecond: policy.identityRequestsPerSecond,
      overrides: policy.overrides.map((o) => ({
        requestsPerSecond: o.requestsPerSecond,
        identities: new Set(o.clientRefs.map((c) => this.serviceAccountIdentity(c.namespace, c.name))),
      })),
    };
  }
}

interface RouteInput {
  readonly ref: RouteRef;
  readonly hostnames: readonly string[];
  readonly rules: HttpRoute['rules'];
  readonly authorizations: readonly ClientAuthorization[];
}

function httpTable(routes: readonly RouteInput[]): RouteTable<CompiledRoute> {
  return new RouteTable(
    routes.map((r) => ({
      route: {
        ref: r.ref,
        hostnames: r.hostnames,
        rules: r.rules.map((rule) => ({
          matches: rule.matches,
          filters: rule.filters,
          backendRefs: rule.backendRefs,
        })),
        authorizations: r.authorizations,
      },
      hostnames: r.hostnames,
      rules: r.rules.map((rule) => rule.matches.map((m): CompiledMatch => compileHttpMatch(m))),
    })),
  );
}

function defaultGrpcRoutes(authorizations: readonly ClientAuthorization[]): RouteTable<CompiledRoute> {
  return new RouteTable([
    {
      route: {
        ref: { kind: 'default', group: '', name: 'default' },
        hostnames: [],
        rules: [
          { matches: [], grpcMatches: [{ method: undefined, headers: [] }], filters: [], backendRefs: [] },
        ],
        authorizations,
      },
      hostnames: [],
      rules: [[compileGrpcMatch({ method: undefined, headers: [] })]],
    },
  ]);
}

/** The distinct routes of a table, in the order they were given (age order). */
function routesOf(table: RouteTable<CompiledRoute>): CompiledRoute[] {
  return table.routes();
}

/** Builds an index from parsed resources. */
export function createPolicyIndex(
  resources: Iterable<PolicyResource>,
  options: PolicyIndexOptions = {},
): PolicyIndex {
  return new PolicyIndex(resources, options);
}
