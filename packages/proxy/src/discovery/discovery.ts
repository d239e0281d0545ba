// Discovery per logical target: shared latest-value watches on the control plane, keyed by what
// they ask for, dropped after they go unused for the idle timeout (linkerd2-proxy's
// OUTBOUND_DISCOVERY_IDLE_TIMEOUT). Destination.Get gives endpoints, GetProfile the ServiceProfile,
// OutboundPolicies.Watch the client policy. The context token (LINKERD2_PROXY_DESTINATION_CONTEXT)
// and the source workload (LINKERD2_PROXY_POLICY_WORKLOAD) are sent as Linkerd's proxy does.
import { status as GrpcCode, type ServiceError } from '@grpc/grpc-js';
import type {
  destination,
  DestinationClient,
  outbound,
  OutboundPoliciesClient,
} from '@tsmesh/core/data-plane';
import { createBackoff, type BackoffOptions } from '../identity/index.js';
import { applyEndpointUpdate, EMPTY_ENDPOINT_SET, formatHostPort, type EndpointSet } from './endpoint-set.js';
import { createStreamWatch, type LatestWatch } from './latest-watch.js';
import { toTcpAddress, type HostPort } from './proto-address.js';

/** A ServiceProfile, or `null` when the controller has none for the target. */
export type ProfileValue = destination.DestinationProfile | null;
/** The outbound policy, or `null` when the policy controller does not know the target. */
export type PolicyValue = outbound.OutboundPolicy | null;

/** What a logical target is looked up by: a name (explicit mode) or an address (transparent). */
export type DiscoveryTarget =
  { readonly kind: 'name'; readonly authority: string } | { readonly kind: 'addr'; readonly addr: HostPort };

export interface DiscoveryOptions {
  readonly destination?: DestinationClient;
  readonly policy?: OutboundPoliciesClient;
  /** LINKERD2_PROXY_DESTINATION_CONTEXT, sent as GetDestination.context_token. */
  readonly contextToken?: string;
  /** LINKERD2_PROXY_POLICY_WORKLOAD, sent as TrafficSpec.source_workload. */
  readonly sourceWorkload?: string;
  /** Watches unused this long are closed (LINKERD2_PROXY_OUTBOUND_DISCOVERY_IDLE_TIMEOUT). */
  readonly idleTimeoutMs: number;
  readonly backoff?: BackoffOptions;
  onError?(what: string, error: Error): void;
}

export interface Discovery {
  readonly hasDestination: boolean;
  readonly hasPolicy: boolean;
  endpoints(path: string): LatestWatch<EndpointSet>;
  profile(path: string): LatestWatch<ProfileValue>;
  policy(target: DiscoveryTarget): LatestWatch<PolicyValue>;
  /** Open watches (for tests and the admin view). */
  readonly size: number;
  close(): void;
}

const DEFAULT_BACKOFF: BackoffOptions = { minMs: 100, maxMs: 3000, jitter: 0.25 };

/** "Not a target the controller serves": keep going without it rather than retrying loudly. */
const UNKNOWN_TARGET = new Set<number>([
  GrpcCode.NOT_FOUND,
  GrpcCode.INVALID_ARGUMENT,
  GrpcCode.UNIMPLEMENTED,
]);

export function targetKey(target: DiscoveryTarget): string {
  return target.kind === 'name' ? `name:${target.authority}` : `addr:${formatHostPort(target.addr)}`;
}

export function createDiscovery(options: DiscoveryOptions): Discovery {
  interface Entry {
    watch: LatestWatch<unknown>;
    lastUsed: number;
  }
  const entries = new Map<string, Entry>();
  const backoff = options.backoff ?? DEFAULT_BACKOFF;
  let closed = false;

  const sweep = setInterval(
    () => {
      const cutoff = Date.now() - options.idleTimeoutMs;
      for (const [key, e] of entries) {
        if (e.lastUsed < cutoff) {
          e.watch.close();
          entries.delete(key);
        }
      }
    },
    Math.max(50, Math.min(10_000, options.idleTimeoutMs / 2)),
  );
  sweep.unref();

  const cached = <T>(key: string, make: () => LatestWatch<T>): LatestWatch<T> => {
    let e = entries.get(key);
    if (!e) {
      if (closed) throw new Error('discovery is closed');
      e = { watch: make() as LatestWatch<unknown>, lastUsed: Date.now() };
      entries.set(key, e);
    }
    e.lastUsed = Date.now();
    return e.watch as LatestWatch<T>;
  };

  const report = (what: string) => (err: Error) => {
    if ((err as ServiceError).code === GrpcCode.CANCELLED) return;
    options.onError?.(what, err);
  };

  return {
    hasDestination: options.destination !== undefined,
    hasPolicy: options.policy !== undefined,
    get size() {
      return entries.size;
    },
    endpoints(path) {
      const client = options.destination;
      if (!client) throw new Error('no destination service configured');
      return cached(`get:${path}`, () =>
        createStreamWatch<destination.Update, EndpointSet>({
          open: () => client.get({ scheme: 'k8s', path, contextToken: options.contextToken ?? '' }),
          reduce: (prev, msg) => applyEndpointUpdate(prev ?? EMPTY_ENDPOINT_SET, msg),
          reduceError: (err, prev) =>
            UNKNOWN_TARGET.has(err.code) ? { exists: false, endpoints: new Map() } : prev,
          backoff: createBackoff(backoff),
          onError: report(`Destination.Get ${path}`),
        }),
      );
    },
    profile(path) {
      const client = options.destination;
      if (!client) throw new Error('no destination service configured');
      return cached(`profile:${path}`, () =>
        createStreamWatch<destination.DestinationProfile, ProfileValue>({
          open: () => client.getProfile({ scheme: 'k8s', path, contextToken: options.contextToken ?? '' }),
          reduce: (_prev, msg) => msg,
          reduceError: (err, prev) => (UNKNOWN_TARGET.has(err.code) ? null : prev),
          backoff: createBackoff(backoff),
          onError: report(`Destination.GetProfile ${path}`),
        }),
      );
    },
    policy(target) {
      const client = options.policy;
      if (!client) throw new Error('no policy service configured');
      return cached(`policy:${targetKey(target)}`, () =>
        createStreamWatch<outbound.OutboundPolicy, PolicyValue>({
          open: () =>
            client.watch({
              sourceWorkload: options.sourceWorkload ?? '',
              ...(target.kind === 'name'
                ? { authority: target.authority }
                : { addr: toTcpAddress(target.addr) }),
            }),
          reduce: (_prev, msg) => msg,
          reduceError: (err, prev) => (UNKNOWN_TARGET.has(err.code) ? null : prev),
          backoff: createBackoff(backoff),
          onError: report(`OutboundPolicies.Watch ${targetKey(target)}`),
        }),
      );
    },
    close() {
      closed = true;
      clearInterval(sweep);
      for (const e of entries.values()) e.watch.close();
      entries.clear();
    },
  };
}
