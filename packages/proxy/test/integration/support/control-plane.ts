// A scriptable control plane for outbound tests: a real grpc-js server implementing
// io.linkerd.proxy.destination.Destination (Get, GetProfile) and
// io.linkerd.proxy.outbound.OutboundPolicies (Watch), whose answers the test sets and changes while
// proxies are subscribed. It can be stopped (every stream dies, the port refuses) and restarted on
// the same port, to test that the proxy keeps serving and then resubscribes.
import { Server, ServerCredentials } from '@grpc/grpc-js';
import {
  addDestinationService,
  addOutboundPoliciesService,
  MeshError,
  MeshErrorCode,
  type CallContext,
  type destination,
  type net,
  type outbound,
} from '@tsmesh/core';
import { toTcpAddress } from '../../../src/discovery/index.js';

export interface TestEndpoint {
  readonly host: string;
  readonly port: number;
  readonly weight?: number;
  /** Mesh identity the endpoint's proxy presents. */
  readonly identity?: string;
  readonly h2?: boolean;
  readonly labels?: Record<string, string>;
  /** Hint: opaque transport to this inbound port of the endpoint's proxy. */
  readonly opaqueTransportPort?: number;
  /** `name:port` the client proxy must use instead of the one it addressed (a multicluster gateway). */
  readonly authorityOverride?: string;
}

type Topic = 'get' | 'profile' | 'policy';

export interface TestControlPlane {
  /** `127.0.0.1:PORT` */
  readonly address: string;
  /** Endpoints for Destination.Get(path); `undefined` = unknown service (no_endpoints{exists:false}). */
  setEndpoints(path: string, endpoints: readonly TestEndpoint[] | undefined): void;
  setProfile(path: string, profile: destination.DestinationProfile.$Properties | undefined): void;
  /** Policy for a TrafficSpec authority (`host:port`) or address (`ip:port`). */
  setPolicy(target: string, policy: outbound.OutboundPolicy.$Properties | undefined): void;
  /** How many streams were opened per topic and key (counts resubscriptions). */
  subscriptions(topic: Topic, key: string): number;
  /** Streams open right now. */
  readonly openStreams: number;
  stop(): Promise<void>;
  restart(): Promise<void>;
}

const toWeighted = (e: TestEndpoint): destination.WeightedAddr.$Properties => ({
  addr: toTcpAddress(e),
  weight: e.weight ?? 10_000,
  metricLabels: e.labels ?? {},
  ...(e.identity ? { tlsIdentity: { dnsLikeIdentity: { name: e.identity } } } : {}),
  ...(e.h2 || e.opaqueTransportPort !== undefined
    ? {
        protocolHint: {
          ...(e.h2 ? { h2: {} } : {}),
          ...(e.opaqueTransportPort !== undefined
            ? { opaqueTransport: { inboundPort: e.opaqueTransportPort } }
            : {}),
        },
      }
    : {}),
  ...(e.authorityOverride ? { authorityOverride: { authorityOverride: e.authorityOverride } } : {}),
});

const keyOf = (e: TestEndpoint) => `${e.host}:${e.port}`;

export async function startTestControlPlane(): Promise<TestControlPlane> {
  const endpoints = new Map<string, readonly TestEndpoint[] | undefined>();
  const profiles = new Map<string, destination.DestinationProfile.$Properties | undefined>();
  const policies = new Map<string, outbound.OutboundPolicy.$Properties | undefined>();
  const counts = new Map<string, number>();
  const waiters = new Set<() => void>();
  let open = 0;
  const changed = () => {
    for (const w of [...waiters]) w();
  };
  const count = (topic: Topic, key: string) =>
    counts.set(`${topic}|${key}`, (counts.get(`${topic}|${key}`) ?? 0) + 1);

  /** Resolves on the next change or when the call ends. */
  const nextChange = (signal: AbortSignal) =>
    new Promise<void>((resolve) => {
      const done = () => {
        waiters.delete(done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      waiters.add(done);
      signal.addEventListener('abort', done);
    });

  async function* getStream(
    req: destination.GetDestination,
    ctx: CallContext,
  ): AsyncGenerator<destination.Update.$Properties> {
    count('get', req.path);
    open++;
    try {
      let sent = new Map<string, TestEndpoint>();
      let first = true;
      while (!ctx.signal.aborted) {
        const eps = endpoints.get(req.path);
        if (eps === undefined) {
          if (first || sent.size > 0) yield { noEndpoints: { exists: false } };
          sent = new Map();
        } else {
          const next = new Map(eps.map((e) => [keyOf(e), e]));
          const removed = [...sent.keys()].filter((k) => !next.has(k));
          if (removed.length > 0)
            yield {
              remove: {
                addrs: removed.map(
                  (k) => toTcpAddress(sent.get(k) as TestEndpoint) as net.TcpAddress.$Properties,
                ),
              },
            };
          const added = [...next.values()].filter((e) => sent.get(keyOf(e)) !== e);
          if (added.length > 0)
            yield { add: { addrs: added.map(toWeighted), metricLabels: { service: 'test' } } };
          else if (next.size === 0 && (first || sent.size > 0)) yield { noEndpoints: { exists: true } };
          sent = next;
        }
        first = false;
        await nextChange(ctx.signal);
      }
    } finally {
      open--;
    }
  }

  async function* latest<T>(
    topic: Topic,
    key: string,
    map: Map<string, T | undefined>,
    ctx: CallContext,
    empty: T,
  ) {
    count(topic, key);
    open++;
    try {
      let last: T | undefined | null = null;
      while (!ctx.signal.aborted) {
        const v = map.get(key);
        if (v !== last) {
          last = v;
          yield v ?? empty;
        }
        await nextChange(ctx.signal);
      }
    } finally {
      open--;
    }
  }

  const policyKey = (spec: outbound.TrafficSpec): string => {
    if (spec.authority) return spec.authority;
    const a = spec.addr;
    const ip = a?.ip?.ipv4;
    if (ip === undefined || ip === null) return '';
    return `${ip >>> 24}.${(ip >>> 16) & 255}.${(ip >>> 8) & 255}.${ip & 255}:${a?.port ?? 0}`;
  };

  let server: Server | undefined;
  let port = 0;
  const listen = async () => {
    const s = new Server();
    addDestinationService(s, {
      get: (req, ctx) => getStream(req, ctx),
      getProfile: (req, ctx) => latest('profile', req.path, profiles, ctx, {}),
      // grpc-js needs an object; an empty profile means "no routes".
    });
    addOutboundPoliciesService(s, {
      watch: async function* (req, ctx) {
        const key = policyKey(req);
        if (!policies.has(key)) {
          count('policy', key);
          throw new MeshError(MeshErrorCode.NotFound, `no policy for ${key}`);
        }
        yield* latest('policy', key, policies, ctx, {});
      },
    });
    port = await new Promise<number>((resolve, reject) =>
      s.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(err) : resolve(p),
      ),
    );
    server = s;
  };
  await listen();

  return {
    get address() {
      return `127.0.0.1:${port}`;
    },
    get openStreams() {
      return open;
    },
    setEndpoints(path, eps) {
      endpoints.set(path, eps);
      changed();
    },
    setProfile(path, profile) {
      profiles.set(path, profile);
      changed();
    },
    setPolicy(target, policy) {
      policies.set(target, policy);
      changed();
    },
    subscriptions(topic, key) {
      return counts.get(`${topic}|${key}`) ?? 0;
    },
    async stop() {
      const s = server;
      server = undefined;
      s?.forceShutdown();
      changed();
    },
    async restart() {
      if (!server) await listen();
    },
  };
}
