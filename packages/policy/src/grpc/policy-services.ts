// The gRPC handlers of InboundServerPolicies and OutboundPolicies over a PolicyIndexer. Every
// watch follows the indexer's latest state (intermediate states are skipped, nothing queues), sends
// only when its answer changed, and ends when the client cancels, the target disappears, or the
// service closes. Answers are memoized per state, so N watches of one target cost one translation.
import {
  formatIpAddress,
  MeshError,
  MeshErrorCode,
  networkMatchContains,
  parseIpAddress,
  type CallContext,
  type InboundServerPoliciesHandlers,
  type inbound,
  type net,
  type OutboundPoliciesHandlers,
  type outbound,
  type Workload,
} from '@tsmesh/core';
import { silentLogger, type Logger } from '@tsmesh/kube';
import type { Counter, Gauge, Registry } from 'prom-client';
import { counter, gauge } from '../metrics/index.js';
import {
  outboundModel,
  selectEgressNetwork,
  type ClusterState,
  type PolicyIndexer,
} from '../indexing/index.js';
import { toInboundServer } from './inbound-translate.js';
import {
  egressFallbackPolicy,
  egressNetworkPolicy,
  toOutboundPolicy,
  undefinedPortPolicy,
} from './outbound-translate.js';
import { EncodedMessage, inboundServerCodec, outboundPolicyCodec } from './pre-encoded.js';
import type { Msg } from './proto-convert.js';
import { parseWorkloadRef, type WorkloadRef } from './workload-ref.js';

export interface PolicyServicesOptions {
  readonly indexer: PolicyIndexer;
  readonly clusterDomain: string;
  readonly defaultOpaquePorts: readonly number[];
  /** Where cluster-wide EgressNetworks live. Default `linkerd-egress`. */
  readonly globalEgressNetworkNamespace?: string;
  /** Service routes allow l5d-* per-request retry/timeout headers (--allow-l5d-request-headers). */
  readonly allowL5dRequestHeaders?: boolean;
  readonly logger?: Logger;
  readonly registry?: Registry;
}

type Answer<M> =
  | { readonly ok: true; readonly message: M; readonly encoded: EncodedMessage }
  | { readonly ok: false; readonly error: MeshError };

function answer<M>(codec: { encode(message: M): Buffer }, compute: () => M): Answer<M> {
  try {
    const message = compute();
    return { ok: true, message, encoded: new EncodedMessage(codec.encode(message)) };
  } catch (err) {
    return {
      ok: false,
      error: MeshError.is(err)
        ? err
        : new MeshError(
            MeshErrorCode.Internal,
            `lookup failed: ${err instanceof Error ? err.message : String(err)}`,
          ),
    };
  }
}

function notFound(message: string): MeshError {
  return new MeshError(MeshErrorCode.NotFound, message);
}

function invalid(message: string, where?: string): MeshError {
  return new MeshError(MeshErrorCode.InvalidArgument, message, where ? { where } : {});
}

function checkPort(port: number): number {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw invalid(`Invalid port: ${port}`, 'port');
  return port;
}

type OutboundTarget =
  | { readonly kind: 'service'; readonly namespace: string; readonly name: string; readonly port: number }
  | { readonly kind: 'ip'; readonly ip: string; readonly ipMsg: Msg; readonly port: number };

interface SubscriptionMetrics {
  readonly active: Gauge<'service'>;
  readonly updates: Counter<'service'>;
}

export class PolicyServices {
  readonly #o: PolicyServicesOptions;
  readonly #logger: Logger;
  readonly #metrics: SubscriptionMetrics | undefined;
  readonly #active = { inbound: 0, outbound: 0 };
  readonly #reported = new Set<string>();

  constructor(options: PolicyServicesOptions) {
    this.#o = options;
    this.#logger = options.logger ?? silentLogger;
    const r = options.registry;
    this.#metrics = r
      ? {
          active: gauge(r, {
            name: 'policy_watch_subscriptions',
            help: 'Open WatchPort (inbound) and Watch (outbound) streams.',
            labelNames: ['service'],
          }),
          updates: counter(r, {
            name: 'policy_watch_updates_total',
            help: 'Policy updates sent on watch streams.',
            labelNames: ['service'],
          }),
        }
      : undefined;
  }

  /** Open watch streams (inbound + outbound). */
  subscriptions(): number {
    return this.#active.inbound + this.#active.outbound;
  }

  get inboundHandlers(): InboundServerPoliciesHandlers {
    return {
      getPort: (request) => {
        const target = this.#inboundTarget(request);
        const a = this.#inboundAnswer(this.#state(), target);
        if (!a.ok) throw a.error;
        return a.message;
      },
      watchPort: (request, context) => {
        const target = this.#inboundTarget(request);
        return this.#watch('inbound', context, (state) => this.#inboundAnswer(state, target));
      },
    };
  }

  get outboundHandlers(): OutboundPoliciesHandlers {
    return {
      get: (request) => {
        const { target, source } = this.#outboundTarget(request);
        const a = this.#outboundAnswer(this.#state(), target, source);
        if (!a.ok) throw a.error;
        return a.message;
      },
      watch: (request, context) => {
        const { target, source } = this.#outboundTarget(request);
        return this.#watch('outbound', context, (state) => this.#outboundAnswer(state, target, source));
      },
    };
  }

  #state(): ClusterState {
    const state = this.#o.indexer.current;
    if (!state) throw new MeshError(MeshErrorCode.Unavailable, 'the policy index is not synced yet');
    return state;
  }

  #inboundTarget(request: inbound.PortSpec): WorkloadRef & { port: number } {
    const workload = parseWorkloadRef(request.workload);
    return { ...workload, port: checkPort(request.port) };
  }

  #inboundAnswer(state: ClusterState, t: WorkloadRef & { port: number }): Answer<inbound.Server.$Properties> {
    const workload = state.workload(t.kind, t.namespace, t.name);
    if (!workload) return { ok: false, error: notFound('unknown server') };
    // Replicas of one workload have the same labels, annotations, ports and probes, and so the same
    // policy: one compilation and translation per shape and state, shared by all their watches.
    return state.memoize(`in\0${t.kind}\0${t.namespace}\0${t.port}\0${shapeOf(workload)}`, () =>
      answer(inboundServerCodec, () => {
        const port = state.policy.lookup({
          namespace: t.namespace,
          kind: t.kind,
          port: t.port,
          labels: workload.meta.labels,
          annotations: workload.meta.annotations,
          ports: workload.ports,
          probePaths: workload.kind === 'Pod' ? (workload.probePaths.get(t.port) ?? []) : [],
        });
        return toInboundServer(port, state.policy.clusterNetworks);
      }),
    );
  }

  #outboundTarget(request: outbound.TrafficSpec): { target: OutboundTarget; source: string } {
    const source = parseWorkloadRef(request.sourceWorkload).namespace;
    if (request.authority) return { target: this.#authorityTarget(request.authority), source };
    const addr = request.addr;
    if (!addr) throw invalid('target is required', 'target');
    if (!addr.port) throw invalid('port cannot be zero', 'addr.port');
    if (addr.port > 65535) throw invalid('port outside valid range', 'addr.port');
    const ip = ipText(addr.ip as net.IPAddress.$Properties | null | undefined);
    if (ip === undefined) throw invalid('traffic target must have an IP', 'addr.ip');
    return { target: { kind: 'ip', ip, ipMsg: addr.ip as unknown as Msg, port: addr.port }, source };
  }

  #authorityTarget(authority: string): OutboundTarget {
    const domain = this.#o.clusterDomain;
    const m = /^([^:]+)(?::(\d+))?$/.exec(authority);
    if (!m) throw invalid('invalid authority', 'authority');
    const port = m[2] === undefined ? 80 : Number(m[2]);
    if (port < 1 || port > 65535) throw invalid('invalid authority', 'authority');
    let host = (m[1] as string).replace(/\.$/, '');
    if (host.endsWith(domain)) host = host.slice(0, -domain.length);
    const parts = host.split('.');
    if (parts.length < 3 || parts[2] !== 'svc' || !parts[0] || !parts[1]) {
      throw notFound(`authority must be of the form <name>.<namespace>.svc.${domain}`);
    }
    return { kind: 'service', name: parts[0], namespace: parts[1], port };
  }

  #outboundAnswer(
    state: ClusterState,
    target: OutboundTarget,
    source: string,
  ): Answer<outbound.OutboundPolicy.$Properties> {
    const key =
      target.kind === 'service'
        ? `out\0svc\0${target.namespace}\0${target.name}\0${target.port}\0${source}`
        : `out\0ip\0${target.ip}\0${target.port}\0${source}`;
    return state.memoize(key, () =>
      answer(outboundPolicyCodec, () => {
        const service =
          target.kind === 'service'
            ? state.service(target.namespace, target.name)
            : state.serviceByIp(target.ip);
        if (!service) {
          if (target.kind === 'service') throw notFound('unknown target');
          const ip = parseIpAddress(target.ip);
          const egress =
            ip &&
            selectEgressNetwork(
              state.egressNetworks,
              ip,
              source,
              this.#o.globalEgressNetworkNamespace ?? 'linkerd-egress',
              state.policy.clusterNetworks,
            );
          if (egress) return egressNetworkPolicy(egress, target.ipMsg, target.port);
          if (ip && state.policy.clusterNetworks.some((n) => networkMatchContains(n, ip)))
            throw notFound('No such service');
          return egressFallbackPolicy(target.ipMsg, target.port);
        }
        if (!service.ports.some((p) => p.port === target.port))
          return undefinedPortPolicy(service.namespace, service.name, target.port);
        const model = outboundModel(state, service, target.port, source, this.#o.defaultOpaquePorts);
        return toOutboundPolicy(state, model, {
          clusterDomain: this.#o.clusterDomain,
          allowL5dRequestHeaders: this.#o.allowL5dRequestHeaders,
          report: (message) => this.#reportOnce(message),
        });
      }),
    );
  }

  #reportOnce(message: string): void {
    if (this.#reported.has(message)) return;
    if (this.#reported.size > 10_000) this.#reported.clear();
    this.#reported.add(message);
    this.#logger.warn({}, `ignoring annotation: ${message}`);
  }

  async *#watch<M>(
    service: 'inbound' | 'outbound',
    context: CallContext,
    compute: (state: ClusterState) => Answer<M>,
  ): AsyncGenerator<M> {
    // Fail fast (NOT_FOUND, UNAVAILABLE) before the stream is counted.
    const first = compute(this.#state());
    if (!first.ok) throw first.error;
    this.#active[service]++;
    this.#metrics?.active.inc({ service });
    let last: Buffer | undefined;
    let seen = -1;
    let wake: (() => void) | undefined;
    const poke = () => {
      const w = wake;
      wake = undefined;
      w?.();
    };
    const indexer = this.#o.indexer;
    const unsubscribe = indexer.onChange(poke);
    context.signal.addEventListener('abort', poke, { once: true });
    try {
      while (!context.signal.aborted) {
        const state = indexer.current;
        if (!state || state.version === seen) {
          if (indexer.closed) return;
          await new Promise<void>((resolve) => (wake = resolve));
          continue;
        }
        seen = state.version;
        const a = compute(state);
        if (!a.ok) {
          // The target went away (pod or Service deleted): the stream ends, as in Linkerd.
          this.#logger.debug({ service, error: a.error.describe() }, 'policy watch ended');
          return;
        }
        if (last !== undefined && a.encoded.bytes.equals(last)) continue;
        last = a.encoded.bytes;
        this.#metrics?.updates.inc({ service });
        // The shared, already encoded answer (see pre-encoded.ts).
        yield a.encoded as unknown as M;
      }
    } finally {
      unsubscribe();
      context.signal.removeEventListener('abort', poke);
      this.#active[service]--;
      this.#metrics?.active.dec({ service });
    }
  }
}

const shapes = new WeakMap<Workload, string>();

/** What the policy of a workload depends on besides its namespace (cached per parsed object). */
function shapeOf(w: Workload): string {
  let shape = shapes.get(w);
  if (shape === undefined) {
    shape = JSON.stringify([w.meta.labels, w.meta.annotations, w.ports, [...w.probePaths]]);
    shapes.set(w, shape);
  }
  return shape;
}

function ipText(ip: net.IPAddress.$Properties | null | undefined): string | undefined {
  if (!ip) return undefined;
  if (typeof ip.ipv4 === 'number' && ip.ipv6 == null) {
    return formatIpAddress({ family: 4, value: ip.ipv4 >>> 0 });
  }
  if (ip.ipv6) {
    const first = BigInt.asUintN(64, BigInt((ip.ipv6.first ?? 0).toString()));
    const last = BigInt.asUintN(64, BigInt((ip.ipv6.last ?? 0).toString()));
    return formatIpAddress({ family: 6, value: (first << 64n) | last });
  }
  return undefined;
}
