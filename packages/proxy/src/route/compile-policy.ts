// OutboundPolicy (io.linkerd.proxy.outbound) → RoutingPlan. Follows linkerd2-proxy's client-policy
// translation: Detect/Http1/Http2 carry HTTPRoutes, Grpc carries GRPCRoutes, Opaque carries opaque
// routes; a rule's distribution is FirstAvailable or RandomAvailable (weighted); a backend is a
// P2C balancer over Destination.Get(path) or a single forwarded address; `timeouts` and `retry`
// come from the rule. A malformed backend becomes a `fail` backend; a header edit no hop could
// carry (http/header-edits.ts) makes the whole policy unusable: compilePolicy throws, naming the
// route and the edit, and the logical target keeps the plan it had.
import {
  compileGrpcMatch,
  compileHttpMatch,
  RouteTable,
  type CompiledMatch,
  type GrpcRouteMatch,
  type outbound,
} from '@tsmesh/core/data-plane';
import { fromWeightedAddr } from '../discovery/index.js';
import { compileHeaderEdits } from '../http/header-edits.js';
import {
  durationToMs,
  listOf,
  toHostnames,
  toHttpRouteMatch,
  toStringMatches,
  type ProtoHttpRouteMatch,
} from './proto-values.js';
import {
  DEFAULT_EWMA,
  DEFAULT_QUEUE,
  type BackendLabels,
  type BackendSpec,
  type FailureAccrualConfig,
  type HeaderEdits,
  type InjectedFailure,
  type OutboundRoute,
  type ParentLabels,
  type RetryPolicy,
  type RouteRule,
  type RoutingPlan,
  type WeightedBackend,
} from './routing-plan.js';

type Meta = { default?: string | null; resource?: Resource | null } | null | undefined;
type Resource = {
  group?: string | null;
  kind?: string | null;
  name?: string | null;
  namespace?: string | null;
  section?: string | null;
  port?: number | null;
};

// The protobuf shapes are deep; this module reads them through loose structural types so that a
// missing field is simply absent.
/* eslint-disable @typescript-eslint/no-explicit-any */
type Any = any;

export function parentLabels(
  meta: Meta,
  fallbackName: string,
  fallbackPort: number | undefined,
): ParentLabels {
  const r = meta?.resource;
  return {
    parent_group: r?.group ?? '',
    parent_kind: r?.kind ?? (meta?.default ? 'default' : ''),
    parent_namespace: r?.namespace ?? '',
    parent_name: r?.name ?? meta?.default ?? fallbackName,
    parent_port: r?.port ? String(r.port) : fallbackPort === undefined ? '' : String(fallbackPort),
    parent_section_name: r?.section ?? '',
  };
}

function routeLabels(meta: Meta, kind: string) {
  const r = meta?.resource;
  return {
    route_group: r?.group ?? '',
    route_kind: r?.kind ?? (meta?.default ? 'default' : kind),
    route_namespace: r?.namespace ?? '',
    route_name: r?.name ?? meta?.default ?? 'default',
  };
}

function backendLabels(meta: Meta, fallback: string): BackendLabels {
  const r = meta?.resource;
  return {
    backend_group: r?.group ?? '',
    backend_kind: r?.kind ?? (meta?.default ? 'default' : ''),
    backend_namespace: r?.namespace ?? '',
    backend_name: r?.name ?? meta?.default ?? fallback,
    backend_port: r?.port ? String(r.port) : '',
    backend_section_name: r?.section ?? '',
  };
}

function compileBackend(b: Any, index: string): BackendSpec {
  const labels = backendLabels(b?.metadata, index);
  const key = `${labels.backend_namespace}/${labels.backend_name}:${labels.backend_port}#${index}`;
  const queue = {
    capacity: b?.queue?.capacity || DEFAULT_QUEUE.capacity,
    failfastMs: durationToMs(b?.queue?.failfastTimeout) ?? DEFAULT_QUEUE.failfastMs,
  };
  if (b?.balancer) {
    const path: string | undefined = b.balancer.discovery?.dst?.path;
    const ewma = b.balancer.peakEwma ?? b.balancer.penaltyPeakEwma;
    if (!path)
      return {
        key,
        labels,
        queue,
        dispatch: { kind: 'fail', message: 'backend balancer has no discovery path' },
      };
    return {
      key: `${key}@${path}`,
      labels,
      queue,
      dispatch: {
        kind: 'balancer',
        path,
        ewma: {
          defaultRttMs: durationToMs(ewma?.defaultRtt) ?? DEFAULT_EWMA.defaultRttMs,
          decayMs: durationToMs(ewma?.decay) ?? DEFAULT_EWMA.decayMs,
        },
      },
    };
  }
  if (b?.forward) {
    const endpoint = fromWeightedAddr(b.forward);
    if (endpoint)
      return { key: `${key}@${endpoint.key}`, labels, queue, dispatch: { kind: 'forward', endpoint } };
  }
  return { key, labels, queue, dispatch: { kind: 'fail', message: 'backend has no usable address' } };
}

function compileDistribution(d: Any, where: string): WeightedBackend[] {
  if (d?.firstAvailable) {
    const list = listOf(d.firstAvailable.backends);
    // FirstAvailable: the first backend takes everything while it is there.
    return list
      .slice(0, 1)
      .map((rb, i) => ({ weight: 1, backend: compileBackend(rb?.backend, `${where}.${i}`) }));
  }
  if (d?.randomAvailable) {
    return listOf(d.randomAvailable.backends)
      .map((wb, i) => ({
        weight: wb?.weight ?? 0,
        backend: compileBackend(wb?.backend?.backend, `${where}.${i}`),
      }))
      .filter((w) => w.weight > 0);
  }
  return [];
}

function injectedFailure(f: Any, grpc: boolean): InjectedFailure {
  const den = f?.ratio?.denominator ?? 0;
  return {
    status: grpc ? (f?.code ?? 2) : f?.status || 500,
    message: f?.message ?? '',
    ratio: f?.ratio ? (den > 0 ? (f.ratio.numerator ?? 0) / den : 0) : 1,
  };
}

const GRPC_RETRY_CONDITIONS: readonly [string, number][] = [
  ['cancelled', 1],
  ['deadineExceeded', 4],
  ['deadlineExceeded', 4],
  ['resourceExhausted', 8],
  ['internal', 13],
  ['unavailable', 14],
];

function retryPolicy(r: Any, grpc: boolean): RetryPolicy | undefined {
  if (!r) return undefined;
  const backoff = r.backoff
    ? {
        minMs: durationToMs(r.backoff.minBackoff) ?? 25,
        maxMs: Math.max(durationToMs(r.backoff.maxBackoff) ?? 250, durationToMs(r.backoff.minBackoff) ?? 25),
        jitter: Math.min(1, Math.max(0, r.backoff.jitterRatio ?? 0)),
      }
    : undefined;
  const codes = new Set<number>();
  const ranges: [number, number][] = [];
  if (grpc) {
    for (const [field, code] of GRPC_RETRY_CONDITIONS) if (r.conditions?.[field]) codes.add(code);
  } else {
    for (const s of listOf(r.conditions?.statusRanges)) ranges.push([s?.start ?? 0, s?.end || s?.start || 0]);
  }
  return {
    maxRetries: r.maxRetries ?? 0,
    maxRequestBytes: r.maxRequestBytes || 64 * 1024,
    httpStatuses: ranges,
    grpcCodes: codes,
    timeoutMs: durationToMs(r.timeout),
    backoff,
  };
}

function compileRule(rule: Any, grpc: boolean, where: string): RouteRule {
  let requestHeaders: HeaderEdits | undefined;
  let responseHeaders: HeaderEdits | undefined;
  let failure: InjectedFailure | undefined;
  for (const f of listOf(rule?.filters)) {
    if (f?.requestHeaderModifier)
      requestHeaders = compileHeaderEdits(f.requestHeaderModifier, 'requestHeaderModifier');
    else if (f?.responseHeaderModifier)
      responseHeaders = compileHeaderEdits(f.responseHeaderModifier, 'responseHeaderModifier');
    else if (f?.failureInjector) failure = injectedFailure(f.failureInjector, grpc);
  }
  const t = rule?.timeouts;
  const responseMs = durationToMs(t?.response) ?? durationToMs(rule?.requestTimeout);
  return {
    backends: compileDistribution(rule?.backends, where),
    timeouts: {
      ...(durationToMs(t?.request) === undefined ? {} : { requestMs: durationToMs(t?.request) }),
      ...(responseMs === undefined ? {} : { responseMs }),
      ...(durationToMs(t?.idle) === undefined ? {} : { idleMs: durationToMs(t?.idle) }),
    },
    retry: retryPolicy(rule?.retry, grpc),
    allowL5dRequestHeaders: rule?.allowL5dRequestHeaders === true,
    requestHeaders,
    responseHeaders,
    failure,
  };
}

function grpcMatch(m: Any): GrpcRouteMatch {
  const rpc = m?.rpc;
  return {
    method:
      rpc && (rpc.service || rpc.method)
        ? { type: 'Exact', service: rpc.service || undefined, method: rpc.method || undefined }
        : undefined,
    headers: toStringMatches(m?.headers),
  };
}

function failureAccrual(fa: Any): FailureAccrualConfig | undefined {
  const c = fa?.consecutiveFailures ?? fa?.unified;
  if (!c) return undefined;
  const b = c.backoff;
  const minMs = durationToMs(b?.minBackoff) ?? 1000;
  return {
    maxFailures: c.maxFailures ?? c.maxConsecutiveFailures ?? 7,
    backoff: {
      minMs,
      maxMs: Math.max(minMs, durationToMs(b?.maxBackoff) ?? 60_000),
      jitter: Math.min(1, Math.max(0, b?.jitterRatio ?? 0.5)),
    },
  };
}

function buildTable(routes: Any[], grpc: boolean): RouteTable<OutboundRoute> {
  const inputs = routes.map((r, ri) => {
    const labels = routeLabels(r?.metadata, grpc ? 'GRPCRoute' : 'HTTPRoute');
    const route: OutboundRoute = {
      kind: grpc ? 'grpc' : 'http',
      labels,
      rules: listOf(r?.rules).map((rule, i) => {
        try {
          return compileRule(rule, grpc, `r${ri}.${i}`);
        } catch (err) {
          const name = labels.route_namespace
            ? `${labels.route_namespace}/${labels.route_name}`
            : labels.route_name;
          throw new Error(`${labels.route_kind} ${name} rules[${i}].${(err as Error).message}`);
        }
      }),
    };
    const rules = listOf(r?.rules).map((rule): CompiledMatch[] => {
      const matches = listOf(rule?.matches);
      if (matches.length === 0)
        return [
          grpc
            ? compileGrpcMatch({ method: undefined, headers: [] })
            : compileHttpMatch(toHttpRouteMatch({})),
        ];
      return matches.map((m) =>
        grpc ? compileGrpcMatch(grpcMatch(m)) : compileHttpMatch(toHttpRouteMatch(m as ProtoHttpRouteMatch)),
      );
    });
    return { route, hostnames: toHostnames(r?.hosts), rules };
  });
  return new RouteTable(inputs);
}

/** The routing plan for an OutboundPolicy. */
export function compilePolicy(
  policy: outbound.OutboundPolicy,
  fallbackName: string,
  fallbackPort: number | undefined,
): RoutingPlan {
  const p = policy as Any;
  const parent = parentLabels(p.metadata, fallbackName, fallbackPort);
  const proto = p.protocol ?? {};
  const http = proto.detect?.http1 ?? proto.http1 ?? proto.http2 ?? proto.detect?.http2;
  if (proto.grpc) {
    return {
      source: 'policy',
      protocol: 'grpc',
      parent,
      table: buildTable(proto.grpc.routes ?? [], true),
      failureAccrual: failureAccrual(proto.grpc.failureAccrual),
      opaqueBackends: [],
    };
  }
  const opaqueRoutes = listOf(proto.opaque?.routes ?? proto.detect?.opaque?.routes);
  const opaqueBackends = compileDistribution(opaqueRoutes[0]?.rules?.[0]?.backends, 'opaque');
  if (http || !proto.opaque) {
    return {
      source: 'policy',
      protocol: 'http',
      parent,
      table: buildTable(http?.routes ?? [], false),
      failureAccrual: failureAccrual(http?.failureAccrual),
      opaqueBackends,
    };
  }
  // An opaque policy (e.g. a Service port whose appProtocol the controller does not know) still
  // receives HTTP when the app addresses the target by authority through the outbound port
  // (explicit mode): those requests take the opaque route's backends, as a TCP connection would.
  const authorityRoutes = opaqueRoutes.map((r) => ({
    metadata: r?.metadata,
    rules: listOf(r?.rules).map((rule) => ({ matches: [], backends: rule?.backends })),
  }));
  return {
    source: 'policy',
    protocol: 'opaque',
    parent,
    table: buildTable(authorityRoutes, false),
    failureAccrual: undefined,
    opaqueBackends,
  };
}
