// The proxy's traffic metrics, with Linkerd's family names, label names and buckets
// (linkerd-compat.md §5.1), registered on a registry the caller owns (no global registry).
import {
  LATENCY_BUCKETS_MS,
  MetricLabel,
  ProxyMetric,
  type Classification,
  type Direction,
  type Peer,
} from '@tsmesh/core/data-plane';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import {
  BatchedCounter,
  cleanLabels,
  FastHistogram,
  LabelSetCache,
  type HistogramChild,
  type PendingCount,
} from './hot-path.js';

/** TLS labels of one connection: `tls` plus `client_id`/`server_id` or `no_tls_reason`. */
export type TlsLabels = Readonly<
  Partial<Record<'tls' | 'client_id' | 'server_id' | 'no_tls_reason' | 'sni', string>>
>;

/** Labels every family carries: where the connection goes and how it is secured. */
export interface TargetLabels extends TlsLabels {
  readonly direction: Direction;
  readonly target_addr: string;
  readonly target_ip: string;
  readonly target_port: string;
  readonly authority?: string;
  /** Inbound HTTP: the policy Server and route (srv_*, route_*). */
  readonly srv_group?: string;
  readonly srv_kind?: string;
  readonly srv_name?: string;
  readonly srv_port?: string;
  readonly route_group?: string;
  readonly route_kind?: string;
  readonly route_name?: string;
  /** Outbound: the Destination API's metric labels of the endpoint and its set (dstLabels). */
  readonly [dst: `dst_${string}`]: string | undefined;
}

/**
 * The destination metric labels an outbound series can carry: Linkerd's proxy prefixes every
 * `metric_labels` entry of Destination.Get (the set's `namespace`/`service`, the address's `pod`,
 * owner kind, `serviceaccount`, `zone`, ...) with `dst_`. prom-client needs its label names up
 * front, so the labels the destination controllers send are listed; others are left out.
 */
export const DST_LABELS = [
  'dst_namespace',
  'dst_service',
  'dst_pod',
  'dst_pod_template_hash',
  'dst_serviceaccount',
  'dst_control_plane_ns',
  'dst_deployment',
  'dst_replicaset',
  'dst_statefulset',
  'dst_daemonset',
  'dst_replicationcontroller',
  'dst_k8s_job',
  'dst_cronjob',
  'dst_external_workload',
  'dst_zone',
  'dst_zone_locality',
  'dst_target_cluster',
] as const;
const DST_KNOWN: ReadonlySet<string> = new Set(DST_LABELS);

/** `dst_*` labels from an endpoint's metric labels (unknown names are dropped). */
export function dstLabels(metricLabels: Readonly<Record<string, string>>): Record<`dst_${string}`, string> {
  const out: Record<`dst_${string}`, string> = {};
  for (const k in metricLabels) {
    const name = `dst_${k}` as const;
    const v = metricLabels[k];
    if (DST_KNOWN.has(name) && typeof v === 'string') out[name] = v;
  }
  return out;
}

const TARGET = [
  MetricLabel.Direction,
  MetricLabel.TargetAddr,
  MetricLabel.TargetIp,
  MetricLabel.TargetPort,
  MetricLabel.Tls,
  MetricLabel.ClientId,
  MetricLabel.ServerId,
  MetricLabel.NoTlsReason,
  MetricLabel.Sni,
] as const;
/** Inbound policy labels: the Server and route that admitted the request (empty outbound). */
const POLICY = [
  MetricLabel.SrvGroup,
  MetricLabel.SrvKind,
  MetricLabel.SrvName,
  MetricLabel.SrvPort,
  MetricLabel.RouteGroup,
  MetricLabel.RouteKind,
  MetricLabel.RouteName,
] as const;
const HTTP = [...TARGET, MetricLabel.Authority, ...POLICY, ...DST_LABELS] as const;
const RESPONSE = [
  ...HTTP,
  MetricLabel.StatusCode,
  MetricLabel.Classification,
  MetricLabel.GrpcStatus,
  MetricLabel.Error,
] as const;
const TCP = [...TARGET, MetricLabel.Peer, ...DST_LABELS] as const;
const TCP_CLOSE = [...TCP, MetricLabel.Errno] as const;
/** Connection lifetimes span milliseconds to days: Linkerd's duration buckets. */
const DURATION_BUCKETS_MS = [1, 10, 100, 1000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000] as const;

export interface ResponseOutcome {
  readonly statusCode: number | undefined;
  readonly grpcStatus: number | undefined;
  /** A bounded error label (ProxyErrorLabel) when no response was received. */
  readonly error: string | undefined;
  readonly latencyMs: number;
}

/** What a transport connection reports when it closes. */
export interface TcpClose {
  readonly bytesRead: number;
  readonly bytesWritten: number;
  readonly durationMs: number;
  /** errno name (e.g. ECONNRESET) for a failed connection; empty for a clean close. */
  readonly errno: string;
}

export interface ProxyMetrics {
  tcpOpen(labels: TargetLabels, peer: Peer): (close: TcpClose) => void;
  request(labels: TargetLabels): void;
  response(labels: TargetLabels, outcome: ResponseOutcome): void;
  /** `{inbound,outbound}_{tcp,http}_errors_total` with a bounded error label. */
  error(direction: Direction, layer: 'tcp' | 'http', error: string): void;
}

const clean = cleanLabels;

/** gRPC status 0 is success; for plain HTTP, 5xx is failure (Linkerd's default classifier). */
export function classify(outcome: ResponseOutcome): Classification {
  if (outcome.error !== undefined || outcome.statusCode === undefined) return 'failure';
  if (outcome.grpcStatus !== undefined) return outcome.grpcStatus === 0 ? 'success' : 'failure';
  return outcome.statusCode >= 500 ? 'failure' : 'success';
}

export function createProxyMetrics(registry: Registry): ProxyMetrics {
  const registers = [registry];
  // The per-request families: counted through children resolved once per label set (hot-path.ts).
  const requests = new BatchedCounter();
  const responses = new BatchedCounter();
  requests.attach(
    new Counter({
      name: ProxyMetric.RequestTotal,
      help: 'Total count of HTTP requests.',
      labelNames: HTTP,
      registers,
      collect: () => requests.flush(),
    }),
  );
  responses.attach(
    new Counter({
      name: ProxyMetric.ResponseTotal,
      help: 'Total count of HTTP responses.',
      labelNames: RESPONSE,
      registers,
      collect: () => responses.flush(),
    }),
  );
  const responseLatency = new FastHistogram(
    ProxyMetric.ResponseLatencyMs,
    "Elapsed times between a request's headers being received and its response stream completing.",
    LATENCY_BUCKETS_MS,
    registers,
  );
  /** One outcome's children, with the outcome they count (compared against the next response). */
  interface ResponseChildren {
    readonly statusCode: number | undefined;
    readonly grpcStatus: number | undefined;
    readonly error: string | undefined;
    readonly total: PendingCount;
    readonly latency: HistogramChild;
  }
  const targets = new LabelSetCache((base) => ({
    request: requests.child(base),
    base,
    /** `status|grpc|error` → that outcome's children. */
    outcomes: new Map<string, ResponseChildren>(),
    /** The previous outcome's children, looked at first. */
    last: undefined as ResponseChildren | undefined,
  }));
  const tcpOpenTotal = new Counter({
    name: ProxyMetric.TcpOpenTotal,
    help: 'Total count of opened connections.',
    labelNames: TCP,
    registers,
  });
  const tcpCloseTotal = new Counter({
    name: ProxyMetric.TcpCloseTotal,
    help: 'Total count of closed connections.',
    labelNames: TCP_CLOSE,
    registers,
  });
  const tcpOpenConnections = new Gauge({
    name: ProxyMetric.TcpOpenConnections,
    help: 'Number of currently-open connections.',
    labelNames: TCP,
    registers,
  });
  const tcpReadBytes = new Counter({
    name: ProxyMetric.TcpReadBytesTotal,
    help: 'Total count of bytes read from peers.',
    labelNames: TCP,
    registers,
  });
  const tcpWriteBytes = new Counter({
    name: ProxyMetric.TcpWriteBytesTotal,
    help: 'Total count of bytes written to peers.',
    labelNames: TCP,
    registers,
  });
  const tcpDuration = new Histogram({
    name: ProxyMetric.TcpConnectionDurationMs,
    help: 'Connection lifetimes.',
    labelNames: TCP_CLOSE,
    buckets: [...DURATION_BUCKETS_MS],
    registers,
  });
  const errors = {
    'inbound:tcp': new Counter({
      name: ProxyMetric.InboundTcpErrorsTotal,
      help: 'The total number of inbound TCP connections that could not be processed due to a proxy error.',
      labelNames: [MetricLabel.Error],
      registers,
    }),
    'inbound:http': new Counter({
      name: ProxyMetric.InboundHttpErrorsTotal,
      help: 'The total number of inbound HTTP requests that could not be processed due to a proxy error.',
      labelNames: [MetricLabel.Error],
      registers,
    }),
    'outbound:tcp': new Counter({
      name: ProxyMetric.OutboundTcpErrorsTotal,
      help: 'The total number of outbound TCP connections that could not be processed due to a proxy error.',
      labelNames: [MetricLabel.Error],
      registers,
    }),
    'outbound:http': new Counter({
      name: ProxyMetric.OutboundHttpErrorsTotal,
      help: 'The total number of outbound HTTP requests that could not be processed due to a proxy error.',
      labelNames: [MetricLabel.Error],
      registers,
    }),
  };

  return {
    tcpOpen(labels, peer) {
      const l: Record<string, string> = { ...clean(labels), peer };
      delete l.authority;
      tcpOpenTotal.inc(l);
      tcpOpenConnections.inc(l);
      let closed = false;
      return (close) => {
        if (closed) return;
        closed = true;
        tcpOpenConnections.dec(l);
        tcpReadBytes.inc(l, close.bytesRead);
        tcpWriteBytes.inc(l, close.bytesWritten);
        const lc = { ...l, errno: close.errno };
        tcpCloseTotal.inc(lc);
        tcpDuration.observe(lc, close.durationMs);
      };
    },
    request(labels) {
      targets.get(labels).request.pending += 1;
    },
    response(labels, outcome) {
      const target = targets.get(labels);
      // Most responses of a target repeat the previous outcome: no key string for those.
      const last = target.last;
      if (
        last !== undefined &&
        last.statusCode === outcome.statusCode &&
        last.grpcStatus === outcome.grpcStatus &&
        last.error === outcome.error
      ) {
        last.total.pending += 1;
        last.latency.observe(outcome.latencyMs);
        return;
      }
      const key = `${outcome.statusCode ?? ''}|${outcome.grpcStatus ?? ''}|${outcome.error ?? ''}`;
      let children = target.outcomes.get(key);
      if (children === undefined) {
        const status = outcome.statusCode === undefined ? '' : String(outcome.statusCode);
        children = {
          statusCode: outcome.statusCode,
          grpcStatus: outcome.grpcStatus,
          error: outcome.error,
          total: responses.child({
            ...target.base,
            status_code: status,
            classification: classify(outcome),
            grpc_status: outcome.grpcStatus === undefined ? '' : String(outcome.grpcStatus),
            error: outcome.error ?? '',
          }),
          latency: responseLatency.child({ ...target.base, status_code: status }),
        };
        target.outcomes.set(key, children);
      }
      target.last = children;
      children.total.pending += 1;
      children.latency.observe(outcome.latencyMs);
    },
    error(direction, layer, error) {
      errors[`${direction}:${layer}`].inc({ error });
    },
  };
}
