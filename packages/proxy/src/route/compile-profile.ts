// ServiceProfile (DestinationProfile) → RoutingPlan, and the default plan for a target with
// neither policy nor profile routes. Profile routes are tried in order (first match wins), as the
// legacy linkerd2-proxy profile router does; `dst_overrides` is the traffic split (each authority
// becomes a balancer over Destination.Get(authority)); `isRetryable` routes retry failures (per
// their response classes, 5xx by default) within the profile's retry budget.
import {
  RouteTable,
  type CompiledMatch,
  type destination,
  type PreparedRequest,
} from '@tsmesh/core/data-plane';
import { createRetryBudget, DEFAULT_RETRY_BUDGET } from '../retry/index.js';
import { durationToMs, listOf, methodName } from './proto-values.js';
import {
  DEFAULT_EWMA,
  DEFAULT_QUEUE,
  type BackendSpec,
  type OutboundRoute,
  type ParentLabels,
  type RoutingPlan,
  type WeightedBackend,
} from './routing-plan.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Any = any;
type Test = (req: PreparedRequest) => boolean;

/**
 * Profile conditions are trees of all/any/not over leaves (RequestMatch over requests,
 * ResponseMatch over statuses): one combinator compiles both, given the leaf compiler.
 */
function compileCondition<A>(m: Any, leaf: (m: Any) => ((a: A) => boolean) | undefined): (a: A) => boolean {
  if (!m) return () => true;
  const seq = (s: Any) => listOf(s?.matches).map((x) => compileCondition(x, leaf));
  if (m.all) {
    const ts = seq(m.all);
    return (a) => ts.every((t) => t(a));
  }
  if (m.any) {
    const ts = seq(m.any);
    return (a) => ts.some((t) => t(a));
  }
  if (m.not) {
    const t = compileCondition(m.not, leaf);
    return (a) => !t(a);
  }
  return leaf(m) ?? (() => true);
}

const requestTest = (m: Any): Test =>
  compileCondition<PreparedRequest>(m, (leaf) => {
    if (leaf.path) {
      let re: RegExp;
      try {
        re = new RegExp(`^(?:${leaf.path.regex ?? ''})$`);
      } catch {
        return () => false;
      }
      return (r) => re.test(r.path);
    }
    if (leaf.method) {
      const name = methodName(leaf.method);
      return (r) => r.method === name;
    }
    return undefined;
  });

const responseFailure = (m: Any): ((status: number) => boolean) =>
  compileCondition<number>(m, (leaf) => {
    if (!leaf.status) return undefined;
    const min = leaf.status.min ?? 0;
    const max = leaf.status.max || 999;
    return (s) => s >= min && s <= max;
  });

/** A balancer backend over Destination.Get(path). */
export function balancerBackend(
  path: string,
  name: string,
  port: string,
  queue: BackendSpec['queue'] = DEFAULT_QUEUE,
): BackendSpec {
  return {
    key: `balancer@${path}`,
    labels: {
      backend_group: 'core',
      backend_kind: 'Service',
      backend_namespace: '',
      backend_name: name,
      backend_port: port,
      backend_section_name: '',
    },
    dispatch: { kind: 'balancer', path, ewma: DEFAULT_EWMA },
    queue,
  };
}

const splitAuthority = (authority: string): [string, string] => {
  const i = authority.lastIndexOf(':');
  return i < 0 ? [authority, ''] : [authority.slice(0, i), authority.slice(i + 1)];
};

const MATCH_ALL: CompiledMatch = { rank: [0], test: () => true };

/** One route that takes everything, to the given backends. */
export function defaultPlan(
  parent: ParentLabels,
  backends: readonly WeightedBackend[],
  source: RoutingPlan['source'] = 'default',
): RoutingPlan {
  const route: OutboundRoute = {
    kind: 'http',
    labels: { route_group: '', route_kind: 'default', route_namespace: '', route_name: 'http' },
    rules: [
      {
        backends,
        timeouts: {},
        retry: undefined,
        requestHeaders: undefined,
        responseHeaders: undefined,
        failure: undefined,
      },
    ],
  };
  return {
    source,
    protocol: 'http',
    parent,
    table: new RouteTable([{ route, hostnames: [], rules: [[MATCH_ALL]] }]),
    failureAccrual: undefined,
    opaqueBackends: backends,
  };
}

/** True when the profile changes routing (routes or a traffic split); otherwise policy decides. */
export function profileHasRouting(profile: destination.DestinationProfile | null | undefined): boolean {
  return !!profile && ((profile.routes?.length ?? 0) > 0 || (profile.dstOverrides?.length ?? 0) > 0);
}

/** The routing plan for a ServiceProfile of the logical target `authority` (`name:port`). */
export function compileProfile(
  profile: destination.DestinationProfile,
  authority: string,
  parent: ParentLabels,
  /** The proxy's HTTP queue settings (ServiceProfiles carry none). */
  queue: BackendSpec['queue'] = DEFAULT_QUEUE,
): RoutingPlan {
  const p = profile as Any;
  const overrides = listOf(p.dstOverrides).filter((o) => o?.authority && (o.weight ?? 0) > 0);
  const backends: WeightedBackend[] =
    overrides.length > 0
      ? overrides.map((o) => {
          const [name, port] = splitAuthority(o.authority as string);
          return {
            weight: o.weight as number,
            backend: balancerBackend(o.authority as string, name, port, queue),
          };
        })
      : [{ weight: 1, backend: balancerBackend(authority, ...splitAuthority(authority), queue) }];
  const rb = p.retryBudget;
  const budget = createRetryBudget(
    rb
      ? {
          ratio: rb.retryRatio ?? DEFAULT_RETRY_BUDGET.ratio,
          minPerSecond: rb.minRetriesPerSecond ?? DEFAULT_RETRY_BUDGET.minPerSecond,
          ttlMs: durationToMs(rb.ttl) ?? DEFAULT_RETRY_BUDGET.ttlMs,
        }
      : DEFAULT_RETRY_BUDGET,
  );
  const routes = listOf(p.routes);
  const inputs = routes.map((r, i) => {
    const classes = listOf(r?.responseClasses).map((c) => ({
      test: responseFailure(c?.condition),
      isFailure: !!c?.isFailure,
    }));
    const isFailure = (status: number) => {
      for (const c of classes) if (c.test(status)) return c.isFailure;
      return status >= 500;
    };
    const timeoutMs = durationToMs(r?.timeout);
    const route: OutboundRoute = {
      kind: 'http',
      labels: {
        route_group: 'linkerd.io',
        route_kind: 'ServiceProfile',
        route_namespace: parent.parent_namespace,
        route_name: (r?.metricsLabels?.route as string | undefined) ?? `route-${i}`,
      },
      rules: [
        {
          backends,
          timeouts: timeoutMs === undefined ? {} : { requestMs: timeoutMs },
          retry: r?.isRetryable
            ? {
                maxRetries: 10,
                maxRequestBytes: 64 * 1024,
                httpStatuses: [],
                grpcCodes: new Set(),
                budget,
              }
            : undefined,
          requestHeaders: undefined,
          responseHeaders: undefined,
          failure: undefined,
          isFailure,
        },
      ],
    };
    const test = requestTest(r?.condition);
    return { route, hostnames: [] as string[], rules: [[{ rank: [0], test } as CompiledMatch]] };
  });
  // Requests no profile route matches still go to the split backends.
  const fallback = defaultPlan(parent, backends, 'profile');
  const fallbackInput = {
    route: fallback.table.routes()[0] as OutboundRoute,
    hostnames: [] as string[],
    rules: [[MATCH_ALL]],
  };
  return {
    ...fallback,
    table: new RouteTable([...inputs, fallbackInput]),
  };
}
