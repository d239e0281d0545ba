// The outbound model of a Service port → io.linkerd.proxy.outbound.OutboundPolicy, following
// Linkerd's policy-controller: default routes `http` / `opaq`, the Service as the default backend
// (P2C balancer over Destination, queue 100 / 3 s fail-fast, PeakEWMA 30 ms / 10 s), weighted
// backends with `Service not found` failure injectors for missing ones, retries and timeouts from
// route rules, route annotations or Service annotations, failure accrual on the HTTP/gRPC
// protocol, and the `egress-fallback` / `undefined-port` answers.
import {
  parseDurationMs,
  POLICY_GROUP,
  type BackendRef,
  type GrpcRoute,
  type HttpRoute,
  type HttpRouteRule,
  type outbound,
} from '@tsmesh/core';
import {
  parseGrpcRetry,
  parseHttpRetry,
  parseTimeouts,
  type ClusterState,
  type FailureAccrual,
  type GrpcRetry,
  type HttpRetry,
  type OutboundModel,
  type RouteTimeoutsMs,
} from '../indexing/index.js';
import {
  defaultMeta,
  defined,
  durationMsg,
  grpcFilterMsg,
  grpcMatchMsg,
  hostMatchMsg,
  httpFilterMsg,
  httpMatchMsg,
  resourceMeta,
  type Msg,
} from './proto-convert.js';

export const OUTBOUND_DETECT_TIMEOUT_MS = 10_000;

export interface OutboundTranslateOptions {
  readonly clusterDomain: string;
  /**
   * Let proxies take retry and timeout overrides from l5d-* request headers on Service routes
   * (Linkerd's --allow-l5d-request-headers; off by default).
   */
  readonly allowL5dRequestHeaders?: boolean;
  /** Problems with annotations are passed here (once per state). */
  readonly report?: (message: string) => void;
}

function queueMsg(): Msg {
  return { capacity: 100, failfastTimeout: durationMsg(3000) };
}

function peakEwmaMsg(): Msg {
  return { defaultRtt: durationMsg(30), decay: durationMsg(10_000) };
}

export function serviceAuthority(
  name: string,
  namespace: string,
  port: number,
  clusterDomain: string,
): string {
  return `${name}.${namespace}.svc.${clusterDomain}:${port}`;
}

function balancerBackend(name: string, namespace: string, port: number, clusterDomain: string): Msg {
  return {
    metadata: resourceMeta({ group: 'core', kind: 'Service', name, namespace, port }),
    queue: queueMsg(),
    balancer: {
      discovery: { dst: { path: serviceAuthority(name, namespace, port, clusterDomain) } },
      peakEwma: peakEwmaMsg(),
    },
  };
}

function invalidBackend(weight: number, message: string, metadata: Msg, grpc: boolean): Msg {
  const injector = grpc
    ? { failureInjector: { code: 13, message } }
    : { failureInjector: { status: 500, message } };
  return {
    weight,
    backend: { backend: { metadata, queue: queueMsg() }, filters: [injector] },
  };
}

function timeoutsMsg(t: RouteTimeoutsMs): Msg {
  const out: Msg = {};
  if (t.responseMs !== undefined) out.response = durationMsg(t.responseMs);
  if (t.requestMs !== undefined) out.request = durationMsg(t.requestMs);
  if (t.idleMs !== undefined) out.idle = durationMsg(t.idleMs);
  return out;
}

function backoffMsg(): Msg {
  return { minBackoff: durationMsg(25), maxBackoff: durationMsg(250), jitterRatio: 1 };
}

function httpRetryMsg(r: HttpRetry): Msg {
  const out: Msg = {
    maxRetries: r.limit,
    maxRequestBytes: 64 * 1024,
    backoff: backoffMsg(),
    conditions: { statusRanges: r.statusRanges.map((s) => ({ start: s.start, end: s.end })) },
  };
  if (r.timeoutMs !== undefined) out.timeout = durationMsg(r.timeoutMs);
  return out;
}

function grpcRetryMsg(r: GrpcRetry): Msg {
  const c = r.conditions;
  const out: Msg = {
    maxRetries: r.limit,
    maxRequestBytes: 64 * 1024,
    backoff: backoffMsg(),
    conditions: {
      cancelled: c.cancelled,
      deadineExceeded: c.deadlineExceeded,
      resourceExhausted: c.resourceExhausted,
      internal: c.internal,
      unavailable: c.unavailable,
    },
  };
  if (r.timeoutMs !== undefined) out.timeout = durationMsg(r.timeoutMs);
  return out;
}

function accrualMsg(a: FailureAccrual | undefined): Msg | undefined {
  if (!a) return undefined;
  const backoff = {
    minBackoff: durationMsg(a.backoff.minMs),
    maxBackoff: durationMsg(a.backoff.maxMs),
    jitterRatio: a.backoff.jitter,
  };
  if (a.kind === 'consecutive') return { consecutiveFailures: { maxFailures: a.maxFailures, backoff } };
  return {
    unified: {
      successRateThreshold: a.successRateThreshold,
      decay: durationMsg(a.windowMs),
      minRequests: a.minRequests,
      maxConsecutiveFailures: a.maxFailures,
      backoff,
    },
  };
}

class Translator {
  constructor(
    private readonly state: ClusterState,
    private readonly model: OutboundModel,
    private readonly o: OutboundTranslateOptions,
  ) {}

  private get report(): (m: string) => void {
    return this.o.report ?? (() => undefined);
  }

  defaultBackend(): Msg {
    const { service, port } = this.model;
    return balancerBackend(service.name, service.namespace, port, this.o.clusterDomain);
  }

  private weightedBackend(ref: BackendRef, grpc: boolean): Msg {
    if (!(ref.kind === 'Service' && (ref.group === '' || ref.group === 'core'))) {
      const group = ref.group === '' ? 'core' : ref.group;
      return invalidBackend(
        ref.weight,
        `unsupported backend type ${group} ${ref.kind}`,
        defaultMeta('invalid'),
        grpc,
      );
    }
    // Gateway API: the port is required when the backend is a Service.
    if (ref.port === undefined) {
      return invalidBackend(
        ref.weight,
        `missing port for backend Service ${ref.name}`,
        defaultMeta('invalid'),
        grpc,
      );
    }
    const port = ref.port;
    const meta = resourceMeta({
      group: 'core',
      kind: 'Service',
      name: ref.name,
      namespace: ref.namespace,
      port,
    });
    if (!this.state.service(ref.namespace, ref.name)) {
      return invalidBackend(ref.weight, `Service not found ${ref.name}`, meta, grpc);
    }
    const filters = grpc
      ? ref.filters.map(grpcFilterMsg).filter(defined)
      : ref.filters.map((f) => httpFilterMsg(f, 'outbound')).filter(defined);
    return {
      weight: ref.weight,
      backend: {
        backend: balancerBackend(ref.name, ref.namespace, port, this.o.clusterDomain),
        filters,
      },
    };
  }

  private distribution(refs: readonly BackendRef[], grpc: boolean): Msg {
    if (refs.length === 0) {
      return { firstAvailable: { backends: [{ backend: this.defaultBackend(), filters: [] }] } };
    }
    return { randomAvailable: { backends: refs.map((r) => this.weightedBackend(r, grpc)) } };
  }

  /** Service-level timeouts, used by rules whose route sets none. */
  private serviceTimeouts(): RouteTimeoutsMs {
    return parseTimeouts(this.model.service.annotations, this.report);
  }

  /**
   * As Linkerd: a rule's timeouts come from its route's `timeout.linkerd.io/*` annotations (and, for
   * policy.linkerd.io routes, the rule's `timeouts.request` when the annotation sets no request
   * timeout); a rule left without any falls back to the Service's.
   */
  private ruleTimeouts(
    route: HttpRoute | GrpcRoute | undefined,
    rule: HttpRouteRule | undefined,
  ): RouteTimeoutsMs {
    if (!route) return this.serviceTimeouts();
    const where = `${route.kind} ${route.meta.namespace}/${route.meta.name}`;
    const t: { requestMs?: number; responseMs?: number; idleMs?: number } = {
      ...parseTimeouts(route.meta.annotations, (m) => this.report(`${where}: ${m}`)),
    };
    const request = rule?.timeouts.request;
    if (route.group === POLICY_GROUP && t.requestMs === undefined && request !== undefined) {
      const ms = parseDurationMs(request);
      if (ms === undefined) this.report(`${where}: timeouts.request "${request}" is not a duration`);
      else if (ms !== 0) t.requestMs = ms;
    }
    return Object.keys(t).length > 0 ? t : this.serviceTimeouts();
  }

  private httpRetry(route: HttpRoute | undefined): HttpRetry | undefined {
    const fromRoute = route ? parseHttpRetry(route.meta.annotations, this.report) : undefined;
    return fromRoute ?? parseHttpRetry(this.model.service.annotations, this.report);
  }

  private grpcRetry(route: GrpcRoute): GrpcRetry | undefined {
    return (
      parseGrpcRetry(route.meta.annotations, this.report) ??
      parseGrpcRetry(this.model.service.annotations, this.report)
    );
  }

  private httpRule(route: HttpRoute | undefined, rule: HttpRouteRule | undefined, matches: Msg[]): Msg {
    const timeouts = this.ruleTimeouts(route, rule);
    const retry = this.httpRetry(route);
    const out: Msg = {
      matches,
      filters: (rule?.filters ?? []).map((f) => httpFilterMsg(f, 'outbound')).filter(defined),
      backends: this.distribution(rule?.backendRefs ?? [], false),
      timeouts: timeoutsMsg(timeouts),
      allowL5dRequestHeaders: this.o.allowL5dRequestHeaders === true,
    };
    if (timeouts.requestMs !== undefined) out.requestTimeout = durationMsg(timeouts.requestMs);
    if (retry) out.retry = httpRetryMsg(retry);
    return out;
  }

  httpRoutes(): Msg[] {
    const routes = this.model.httpRoutes.map((route) => ({
      metadata: resourceMeta({
        group: route.group,
        kind: 'HTTPRoute',
        name: route.meta.name,
        namespace: route.meta.namespace,
      }),
      hosts: route.hostnames.map(hostMatchMsg),
      rules: route.rules.map((rule) => this.httpRule(route, rule, rule.matches.map(httpMatchMsg))),
    }));
    if (routes.length === 0) {
      routes.push({
        metadata: defaultMeta('http'),
        hosts: [],
        rules: [this.httpRule(undefined, undefined, [{ path: { prefix: '/' } }])],
      });
    }
    return routes;
  }

  grpcRoutes(): Msg[] {
    return this.model.grpcRoutes.map((route) => {
      const timeouts = this.ruleTimeouts(route, undefined);
      const retry = this.grpcRetry(route);
      return {
        metadata: resourceMeta({
          group: route.group,
          kind: 'GRPCRoute',
          name: route.meta.name,
          namespace: route.meta.namespace,
        }),
        hosts: route.hostnames.map(hostMatchMsg),
        rules: route.rules.map((rule) => {
          const out: Msg = {
            matches: rule.matches.map(grpcMatchMsg),
            filters: rule.filters.map(grpcFilterMsg).filter(defined),
            backends: this.distribution(rule.backendRefs, true),
            timeouts: timeoutsMsg(timeouts),
            allowL5dRequestHeaders: this.o.allowL5dRequestHeaders === true,
          };
          if (timeouts.requestMs !== undefined) out.requestTimeout = durationMsg(timeouts.requestMs);
          if (retry) out.retry = grpcRetryMsg(retry);
          return out;
        }),
      };
    });
  }

  opaqueRoute(): Msg {
    return {
      metadata: defaultMeta('opaq'),
      rules: [
        {
          backends: { firstAvailable: { backends: [{ backend: this.defaultBackend(), filters: [] }] } },
          filters: [],
        },
      ],
    };
  }

  protocol(): Msg {
    const m = this.model;
    const accrual = accrualMsg(m.accrual);
    const withAccrual = (routes: Msg[]): Msg => (accrual ? { routes, failureAccrual: accrual } : { routes });
    const appProtocol = m.opaque ? 'opaque' : m.appProtocol;
    switch (appProtocol) {
      case 'http1':
        return { http1: withAccrual(this.httpRoutes()) };
      case 'http2':
        return m.grpcRoutes.length > 0
          ? { grpc: withAccrual(this.grpcRoutes()) }
          : { http2: withAccrual(this.httpRoutes()) };
      case 'opaque':
      case 'unknown':
        return { opaque: { routes: [this.opaqueRoute()] } };
      default: {
        if (m.grpcRoutes.length > 0) return { grpc: withAccrual(this.grpcRoutes()) };
        const routes = this.httpRoutes();
        return {
          detect: {
            timeout: durationMsg(OUTBOUND_DETECT_TIMEOUT_MS),
            opaque: { routes: [this.opaqueRoute()] },
            http1: withAccrual(routes),
            http2: withAccrual(routes),
          },
        };
      }
    }
  }
}

export function toOutboundPolicy(
  state: ClusterState,
  model: OutboundModel,
  options: OutboundTranslateOptions,
): outbound.OutboundPolicy.$Properties {
  for (const p of model.problems) options.report?.(p);
  const t = new Translator(state, model, options);
  return {
    metadata: resourceMeta({
      group: 'core',
      kind: 'Service',
      name: model.service.name,
      namespace: model.service.namespace,
      port: model.port,
    }),
    protocol: t.protocol(),
  } as outbound.OutboundPolicy.$Properties;
}

/** The answer for an address outside the cluster's Services: forward to the original destination. */
export function egressFallbackPolicy(ip: Msg, port: number): outbound.OutboundPolicy.$Properties {
  const metadata = defaultMeta('egress-fallback');
  const backend = {
    metadata,
    queue: queueMsg(),
    forward: { addr: { ip, port }, weight: 1 },
  };
  const httpRoutes = [
    {
      metadata,
      hosts: [],
      rules: [
        {
          matches: [{}],
          filters: [],
          backends: { firstAvailable: { backends: [{ backend, filters: [] }] } },
        },
      ],
    },
  ];
  return {
    metadata,
    protocol: {
      detect: {
        timeout: durationMsg(OUTBOUND_DETECT_TIMEOUT_MS),
        opaque: {
          routes: [
            {
              metadata,
              rules: [
                { backends: { firstAvailable: { backends: [{ backend, filters: [] }] } }, filters: [] },
              ],
            },
          ],
        },
        http1: { routes: httpRoutes },
        http2: { routes: httpRoutes },
      },
    },
  } as outbound.OutboundPolicy.$Properties;
}

/**
 * An address captured by an EgressNetwork: forwarded to the original destination (Allow) or refused
 * (Deny: HTTP 403 `traffic not allowed`, opaque connections forbidden), with Linkerd's default
 * route names `http-egress-allow|deny` and `tcp-egress-allow|deny`.
 */
export function egressNetworkPolicy(
  egress: { readonly namespace: string; readonly name: string; readonly trafficPolicy: 'Allow' | 'Deny' },
  ip: Msg,
  port: number,
): outbound.OutboundPolicy.$Properties {
  const metadata = resourceMeta({
    group: 'policy.linkerd.io',
    kind: 'EgressNetwork',
    name: egress.name,
    namespace: egress.namespace,
    port,
  });
  const backend = { metadata, queue: queueMsg(), forward: { addr: { ip, port }, weight: 1 } };
  const deny = egress.trafficPolicy === 'Deny';
  const first = { firstAvailable: { backends: [{ backend, filters: [] }] } };
  const httpRoutes = [
    {
      metadata: defaultMeta(deny ? 'http-egress-deny' : 'http-egress-allow'),
      hosts: [],
      rules: [
        {
          matches: [{ path: { prefix: '/' } }],
          filters: deny ? [{ failureInjector: { status: 403, message: 'traffic not allowed' } }] : [],
          backends: first,
          timeouts: {},
          allowL5dRequestHeaders: false,
        },
      ],
    },
  ];
  return {
    metadata,
    protocol: {
      detect: {
        timeout: durationMsg(OUTBOUND_DETECT_TIMEOUT_MS),
        opaque: {
          routes: [
            {
              metadata: defaultMeta(deny ? 'tcp-egress-deny' : 'tcp-egress-allow'),
              rules: [{ backends: first, filters: deny ? [{ forbidden: {} }] : [] }],
            },
          ],
        },
        http1: { routes: httpRoutes },
        http2: { routes: httpRoutes },
      },
    },
  } as outbound.OutboundPolicy.$Properties;
}

/** A Service port the Service does not define: opaque, forbidden. */
export function undefinedPortPolicy(
  namespace: string,
  name: string,
  port: number,
): outbound.OutboundPolicy.$Properties {
  return {
    metadata: resourceMeta({ group: 'core', kind: 'Service', name, namespace, port }),
    protocol: {
      opaque: {
        routes: [
          {
            metadata: defaultMeta('undefined-port'),
            rules: [{ backends: { empty: {} }, filters: [{ forbidden: {} }] }],
          },
        ],
      },
    },
  } as outbound.OutboundPolicy.$Properties;
}
