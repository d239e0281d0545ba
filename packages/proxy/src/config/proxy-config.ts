// The proxy's configuration: read once from Linkerd's LINKERD2_PROXY_* variables (plus a few
// TSMESH_PROXY_* ones for tsmesh's explicit, non-redirected mode) into a validated, frozen object.
// Defaults are linkerd2-proxy's own (see linkerd-compat.md §4.3); a bad value throws a MeshError
// naming the variable and what it accepts, which stops start-up.
import {
  DEFAULT_CLUSTER_NETWORKS,
  DEFAULT_OPAQUE_PORTS,
  DefaultInboundPolicy,
  parseDefaultInboundPolicy,
  parseIpNetwork,
  DEFAULT_PROXY_LOG,
  DefaultPort,
  MeshError,
  MeshErrorCode,
  ProxyEnv,
} from '@tsmesh/core/data-plane';
import { parseAccessLogFormat, type AccessLogFormat } from '../access-log/index.js';
import { parseForwardedMode, type ForwardedMode } from '../client-address/index.js';
import type { EnvSource } from './env-source.js';
import {
  createPortSet,
  parseBoolean,
  parseDurationMs,
  parseIpList,
  parseNamedAddr,
  parseNonNegativeInt,
  parsePortSet,
  parseSocketAddr,
  parseSocketAddrList,
  ValueError,
  parsePeerIdentities,
  type NamedAddr,
  type PeerIdentity,
  type PortSet,
  type SocketAddr,
} from './parse-value.js';

/** tsmesh's own variables: explicit-mode targets used when no iptables redirect is in place. */
export const TsmeshProxyEnv = {
  /** Where inbound connections go when their original destination is the proxy itself. */
  InboundForwardAddr: 'TSMESH_PROXY_INBOUND_FORWARD_ADDR',
  /** Where outbound non-HTTP connections go when there is no original destination. */
  OutboundForwardAddr: 'TSMESH_PROXY_OUTBOUND_FORWARD_ADDR',
  /**
   * Extra inbound listen addresses (local mode: PODIP:APP_PORT for each container port). A
   * connection accepted on A:P is forwarded to the app at 127.0.0.1:P, as if redirected.
   */
  InboundListenAddrs: 'TSMESH_PROXY_INBOUND_LISTEN_ADDRS',
  /**
   * Peers known to be meshed, until discovery says so: `IP:PORT=identity` or `IP=identity` (any
   * port), comma-separated. The outbound proxy opens mutual TLS to them verifying that identity.
   */
  OutboundPeerIdentities: 'TSMESH_PROXY_OUTBOUND_PEER_IDENTITIES',
  /** Client address headers on inbound HTTP: off | xff | forwarded | both (default xff). */
  InboundForwarded: 'TSMESH_PROXY_INBOUND_FORWARDED',
  /** Ports whose TCP connections reach the app behind a PROXY protocol v2 header. */
  InboundProxyProtocolPorts: 'TSMESH_PROXY_INBOUND_PROXY_PROTOCOL_PORTS',
  /**
   * The HTTP/1.1 engine of the plain forwarding paths: `raw` (raw sockets, heads parsed by the
   * proxy) or `node` (node:http server and undici pools).
   */
  Http1Engine: 'TSMESH_PROXY_HTTP1_ENGINE',
  /**
   * The HTTP/2 engine of the plain forwarding paths: `raw` (the proxy's own HTTP/2 on raw sockets,
   * http/raw-h2) or `node` (node:http2).
   */
  Http2Engine: 'TSMESH_PROXY_HTTP2_ENGINE',
  /**
   * The nice value (0-19, default 10; 0: leave them be) of the proxy's helper threads — V8's
   * compiler and GC workers, libuv's pool — so that they never hold up the thread serving requests
   * (runtime/helper-threads.ts). Linux only.
   */
  HelperThreadNice: 'TSMESH_PROXY_HELPER_THREAD_NICE',
} as const;

/** PINGs on accepted HTTP/2 connections: after an interval without a read, closed when unanswered. */
export interface Http2KeepAliveConfig {
  readonly intervalMs: number;
  readonly timeoutMs: number;
}

/** The HTTP/1.1 forwarding engines (TSMESH_PROXY_HTTP1_ENGINE). */
export type Http1Engine = 'raw' | 'node';
/** The HTTP/2 forwarding engines (TSMESH_PROXY_HTTP2_ENGINE). */
export type Http2Engine = 'raw' | 'node';

export type LogFormat = 'plain' | 'json';
/** Inbound policy before (or without) the policy controller, and the workload it asks about. */
export interface InboundPolicyConfig {
  /** LINKERD2_PROXY_INBOUND_DEFAULT_POLICY (default all-unauthenticated). */
  readonly defaultPolicy: DefaultInboundPolicy;
  /** LINKERD2_PROXY_POLICY_CLUSTER_NETWORKS as CIDRs. */
  readonly clusterNetworks: readonly string[];
  /** LINKERD2_PROXY_POLICY_WORKLOAD, sent as-is in PortSpec.workload. */
  readonly workload: string | undefined;
}

/** A control-plane service: its address and the identity its certificate must carry. */
export interface ControlService {
  readonly addr: NamedAddr;
  readonly name: string;
}

export interface IdentityConfig {
  readonly disabled: boolean;
  readonly dir: string | undefined;
  readonly trustAnchorsPem: string | undefined;
  readonly tokenFile: string | undefined;
  readonly localName: string | undefined;
  readonly service: ControlService | undefined;
  readonly minRefreshMs: number;
  readonly maxRefreshMs: number;
}

export interface OutboundDiscoveryConfig {
  /** Discovery watches and logical targets unused this long are dropped. */
  readonly idleTimeoutMs: number;
  /** How long a request waits for a ready endpoint before 503 FAIL_FAST (and for the first policy). */
  readonly httpFailfastTimeoutMs: number;
  /** Requests that may wait per backend before load is shed (503 LOAD_SHED). */
  readonly httpQueueCapacity: number;
  /** LINKERD2_PROXY_DESTINATION_CONTEXT: sent as GetDestination.context_token. */
  readonly destinationContext: string | undefined;
  /** How long a first request waits for the ServiceProfile. */
  readonly profileInitialTimeoutMs: number;
  /** LINKERD2_PROXY_POLICY_WORKLOAD: sent as TrafficSpec.source_workload. */
  readonly policyWorkload: string | undefined;
}

export interface ProxyConfig {
  readonly log: string;
  readonly logFormat: LogFormat;
  readonly inbound: {
    readonly listenAddr: SocketAddr;
    readonly ips: readonly string[];
    readonly ports: PortSet;
    readonly opaquePorts: PortSet;
    readonly requireIdentityPorts: PortSet;
    readonly requireTlsPorts: PortSet;
    readonly connectTimeoutMs: number;
    readonly detectTimeoutMs: number;
    readonly forwardAddr: SocketAddr | undefined;
    /** TsmeshProxyEnv.InboundListenAddrs: each forwards to 127.0.0.1 at its own port. */
    readonly extraListenAddrs: readonly SocketAddr[];
    /**
     * LINKERD2_PROXY_INBOUND_GATEWAY_SUFFIXES (lower case, no trailing dot; '' is the root `.`, any
     * name): names the proxy forwards to as a multicluster gateway. Empty list: not a gateway.
     */
    readonly gatewaySuffixes: readonly string[];
    /** LINKERD2_PROXY_INBOUND_SERVER_HTTP2_KEEP_ALIVE_{INTERVAL,TIMEOUT}; undefined: none (0 interval). */
    readonly http2KeepAlive: Http2KeepAliveConfig | undefined;
  };
  readonly outbound: {
    readonly listenAddrs: readonly SocketAddr[];
    readonly connectTimeoutMs: number;
    readonly detectTimeoutMs: number;
    readonly forwardAddr: SocketAddr | undefined;
    /** TsmeshProxyEnv.OutboundPeerIdentities. */
    readonly peerIdentities: readonly PeerIdentity[];
    /** LINKERD2_PROXY_OUTBOUND_SERVER_HTTP2_KEEP_ALIVE_{INTERVAL,TIMEOUT}; undefined: none. */
    readonly http2KeepAlive: Http2KeepAliveConfig | undefined;
  };
  readonly admin: {
    readonly listenAddr: SocketAddr;
    readonly shutdownEndpointEnabled: boolean;
  };
  readonly controlListenAddr: SocketAddr | undefined;
  readonly shutdownGracePeriodMs: number;
  readonly http2: {
    readonly initialStreamWindowSize: number;
    readonly initialConnectionWindowSize: number;
  };
  readonly maxIdleConnsPerEndpoint: number;
  readonly identity: IdentityConfig;
  readonly destination: ControlService | undefined;
  readonly policy: ControlService | undefined;
  /** Discovery for the outbound mesh stack (linkerd2-proxy's outbound discovery settings). */
  readonly outboundDiscovery: OutboundDiscoveryConfig;
  readonly tapSvcName: string | undefined;
  readonly inboundPolicy: InboundPolicyConfig;
  /** LINKERD2_PROXY_ACCESS_LOG; undefined: no access log. */
  readonly accessLog: AccessLogFormat | undefined;
  readonly clientAddress: {
    readonly forwarded: ForwardedMode;
    readonly proxyProtocolPorts: PortSet;
  };
  /** TSMESH_PROXY_HTTP1_ENGINE. */
  readonly http1Engine: Http1Engine;
  /** TSMESH_PROXY_HTTP2_ENGINE. */
  readonly http2Engine: Http2Engine;
  /** TSMESH_PROXY_HELPER_THREAD_NICE (0: helper threads keep the process's priority). */
  readonly helperThreadNice: number;
}

/**
 * Server HTTP/2 keep-alive: the injector's 10s / 3s when unset; an interval of 0 turns it off. A
 * timeout of 0 is refused (every PING would fail at once).
 */
function keepAlive(r: Reader, intervalVar: string, timeoutVar: string): Http2KeepAliveConfig | undefined {
  const intervalMs = r.get(intervalVar, parseDurationMs, 10_000);
  const timeoutMs = r.get(
    timeoutVar,
    (v) => {
      const ms = parseDurationMs(v);
      if (ms === 0) throw new ValueError('a duration above 0 such as 3s');
      return ms;
    },
    3_000,
  );
  return intervalMs === 0 ? undefined : { intervalMs, timeoutMs };
}

class Reader {
  constructor(private readonly env: EnvSource) {}

  get<T>(name: string, parse: (raw: string) => T): T | undefined;
  get<T>(name: string, parse: (raw: string) => T, fallback: T): T;
  get<T>(name: string, parse: (raw: string) => T, fallback?: T): T | undefined {
    const raw = this.env.get(name);
    if (raw === undefined) return fallback;
    try {
      return parse(raw);
    } catch (err) {
      if (!(err instanceof ValueError)) throw err;
      throw new MeshError(MeshErrorCode.Config, `invalid value ${JSON.stringify(raw)}`, {
        where: name,
        hint: `expected ${err.accepts}`,
        cause: err,
      });
    }
  }

  /** `<BASE>_ADDR` and `<BASE>_NAME` come as a pair (both or neither), as in linkerd2-proxy. */
  service(addrVar: string, nameVar: string): ControlService | undefined {
    const addr = this.get(addrVar, parseNamedAddr);
    const name = this.get(nameVar, (s) => s);
    if (addr === undefined && name === undefined) return undefined;
    if (addr === undefined || name === undefined) {
      const missing = addr === undefined ? addrVar : nameVar;
      throw new MeshError(MeshErrorCode.Config, 'is required when its pair is set', {
        where: missing,
        hint: `set both ${addrVar} and ${nameVar}, or neither`,
      });
    }
    return Object.freeze({ addr, name });
  }
}

const deepFreeze = <T>(value: T): T => {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
};

const text = (s: string) => s;

const parseCidrList = (raw: string): string[] => {
  const cidrs = raw
    .split(',')
    .map((c) => c.trim())
    .filter((c) => c !== '');
  for (const c of cidrs) {
    try {
      parseIpNetwork(c);
    } catch {
      throw new ValueError('a comma-separated list of CIDR networks such as 10.0.0.0/8,fd00::/8');
    }
  }
  return cidrs;
};

const DNS_SUFFIX = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;

/** `svc.cluster.local.,svc.east.local` → lower case, without the trailing dot; `.` (any name) → ''. */
const parseDnsSuffixes = (raw: string): string[] =>
  raw
    .split(',')
    .map((x) => x.trim().toLowerCase())
    .filter((x) => x !== '')
    .map((x) => (x === '.' ? x : x.replace(/\.$/, '')))
    .map((x) => {
      if (x === '.') return '';
      if (!DNS_SUFFIX.test(x))
        throw new ValueError('a comma-separated list of DNS suffixes such as svc.cluster.local.');
      return x;
    });

/** Reads and validates the proxy configuration. Throws MeshError(code 'config') on a bad value. */
export function readProxyConfig(env: EnvSource): ProxyConfig {
  const r = new Reader(env);
  const logFormat = r.get(
    ProxyEnv.LogFormat,
    (s): LogFormat => {
      const v = s.toLowerCase();
      if (v === 'plain' || v === 'json') return v;
      throw new ValueError('plain or json');
    },
    'plain',
  );
  const outboundListen = r.get(ProxyEnv.OutboundListenAddrs, parseSocketAddrList) ??
    r.get(ProxyEnv.OutboundListenAddr, (s) => [parseSocketAddr(s)]) ?? [
      { host: '127.0.0.1', port: DefaultPort.Outbound, family: 4 as const },
    ];
  const identityDisabled = r.get(ProxyEnv.IdentityDisabled, parseBoolean, false);
  const identity: IdentityConfig = {
    disabled: identityDisabled,
    dir: r.get(ProxyEnv.IdentityDir, text),
    trustAnchorsPem: r.get(ProxyEnv.IdentityTrustAnchors, (s) => {
      if (!s.includes('-----BEGIN CERTIFICATE-----')) throw new ValueError('a PEM bundle of CA certificates');
      return s;
    }),
    tokenFile: r.get(ProxyEnv.IdentityTokenFile, text),
    localName: r.get(ProxyEnv.IdentityLocalName, (s) => {
      if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.?$/i.test(s))
        throw new ValueError(
          'a DNS name such as web.emojivoto.serviceaccount.identity.linkerd.cluster.local',
        );
      return s;
    }),
    service: r.service(ProxyEnv.IdentitySvcAddr, ProxyEnv.IdentitySvcName),
    minRefreshMs: r.get(ProxyEnv.IdentityMinRefresh, parseDurationMs, 10_000),
    maxRefreshMs: r.get(ProxyEnv.IdentityMaxRefresh, parseDurationMs, 86_400_000),
  };
  const config: ProxyConfig = {
    log: r.get(ProxyEnv.Log, text, DEFAULT_PROXY_LOG),
    logFormat,
    inbound: {
      listenAddr: r.get(ProxyEnv.InboundListenAddr, parseSocketAddr, {
        host: '0.0.0.0',
        port: DefaultPort.Inbound,
        family: 4,
      }),
      ips: r.get(ProxyEnv.InboundIps, parseIpList, []),
      ports: r.get(ProxyEnv.InboundPorts, parsePortSet, createPortSet([])),
      opaquePorts: r.get(
        ProxyEnv.InboundPortsDisableProtocolDetection,
        parsePortSet,
        createPortSet(DEFAULT_OPAQUE_PORTS),
      ),
      requireIdentityPorts: r.get(ProxyEnv.InboundPortsRequireIdentity, parsePortSet, createPortSet([])),
      requireTlsPorts: r.get(ProxyEnv.InboundPortsRequireTls, parsePortSet, createPortSet([])),
      // linkerd2-proxy's own defaults (the injector sets 100ms / 1000ms).
      connectTimeoutMs: r.get(ProxyEnv.InboundConnectTimeout, parseDurationMs, 300),
      detectTimeoutMs: r.get(ProxyEnv.InboundDetectTimeout, parseDurationMs, 10_000),
      forwardAddr: r.get(TsmeshProxyEnv.InboundForwardAddr, parseSocketAddr),
      extraListenAddrs: r.get(TsmeshProxyEnv.InboundListenAddrs, parseSocketAddrList, []),
      gatewaySuffixes: r.get(ProxyEnv.InboundGatewaySuffixes, parseDnsSuffixes, []),
      http2KeepAlive: keepAlive(
        r,
        ProxyEnv.InboundServerHttp2KeepAliveInterval,
        ProxyEnv.InboundServerHttp2KeepAliveTimeout,
      ),
    },
    outbound: {
      listenAddrs: outboundListen,
      connectTimeoutMs: r.get(ProxyEnv.OutboundConnectTimeout, parseDurationMs, 1000),
      detectTimeoutMs: r.get(ProxyEnv.OutboundDetectTimeout, parseDurationMs, 10_000),
      forwardAddr: r.get(TsmeshProxyEnv.OutboundForwardAddr, parseSocketAddr),
      peerIdentities: r.get(TsmeshProxyEnv.OutboundPeerIdentities, parsePeerIdentities, []),
      http2KeepAlive: keepAlive(
        r,
        ProxyEnv.OutboundServerHttp2KeepAliveInterval,
        ProxyEnv.OutboundServerHttp2KeepAliveTimeout,
      ),
    },
    admin: {
      listenAddr: r.get(ProxyEnv.AdminListenAddr, parseSocketAddr, {
        host: '127.0.0.1',
        port: DefaultPort.Admin,
        family: 4,
      }),
      shutdownEndpointEnabled: r.get(ProxyEnv.ShutdownEndpointEnabled, parseBoolean, false),
    },
    controlListenAddr: r.get(ProxyEnv.ControlListenAddr, parseSocketAddr),
    shutdownGracePeriodMs: r.get(ProxyEnv.ShutdownGracePeriod, parseDurationMs, 120_000),
    http2: {
      initialStreamWindowSize: r.get(ProxyEnv.Http2InitialStreamWindowSize, parseNonNegativeInt, 65_535),
      initialConnectionWindowSize: r.get(
        ProxyEnv.Http2InitialConnectionWindowSize,
        parseNonNegativeInt,
        1_048_576,
      ),
    },
    maxIdleConnsPerEndpoint: r.get(ProxyEnv.MaxIdleConnsPerEndpoint, parseNonNegativeInt, 10_000),
    identity,
    destination: r.service(ProxyEnv.DestinationSvcAddr, ProxyEnv.DestinationSvcName),
    policy: r.service(ProxyEnv.PolicySvcAddr, ProxyEnv.PolicySvcName),
    outboundDiscovery: {
      // linkerd2-proxy's defaults: idle 5s, fail-fast 3s, queue 10000, profile wait 500ms.
      idleTimeoutMs: r.get(ProxyEnv.OutboundDiscoveryIdleTimeout, parseDurationMs, 5000),
      httpFailfastTimeoutMs: r.get(ProxyEnv.OutboundHttpFailfastTimeout, parseDurationMs, 3000),
      httpQueueCapacity: r.get(ProxyEnv.OutboundHttpQueueCapacity, parseNonNegativeInt, 10_000),
      destinationContext: r.get(ProxyEnv.DestinationContext, text),
      profileInitialTimeoutMs: r.get(ProxyEnv.DestinationProfileInitialTimeout, parseDurationMs, 500),
      policyWorkload: r.get(ProxyEnv.PolicyWorkload, text),
    },
    tapSvcName: r.get(ProxyEnv.TapSvcName, text),
    inboundPolicy: {
      defaultPolicy: r.get(
        ProxyEnv.InboundDefaultPolicy,
        (v) => {
          const p = parseDefaultInboundPolicy(v);
          if (p === undefined) throw new ValueError(Object.values(DefaultInboundPolicy).join(', '));
          return p;
        },
        DefaultInboundPolicy.AllUnauthenticated,
      ),
      clusterNetworks: r.get(ProxyEnv.PolicyClusterNetworks, parseCidrList, [...DEFAULT_CLUSTER_NETWORKS]),
      workload: r.get(ProxyEnv.PolicyWorkload, text),
    },
    accessLog: r.get(ProxyEnv.AccessLog, (v) => {
      const f = parseAccessLogFormat(v);
      if (f === undefined) throw new ValueError('apache or json');
      return f;
    }),
    clientAddress: {
      forwarded: r.get(
        TsmeshProxyEnv.InboundForwarded,
        (v) => {
          const m = parseForwardedMode(v);
          if (m === undefined) throw new ValueError('off, xff, forwarded or both');
          return m;
        },
        'xff' as ForwardedMode,
      ),
      proxyProtocolPorts: r.get(TsmeshProxyEnv.InboundProxyProtocolPorts, parsePortSet, createPortSet([])),
    },
    http1Engine: r.get(
      TsmeshProxyEnv.Http1Engine,
      (v): Http1Engine => {
        if (v !== 'raw' && v !== 'node') throw new ValueError('raw or node');
        return v;
      },
      'raw' as Http1Engine,
    ),
    http2Engine: r.get(
      TsmeshProxyEnv.Http2Engine,
      (v): Http2Engine => {
        if (v !== 'raw' && v !== 'node') throw new ValueError('raw or node');
        return v;
      },
      'raw' as Http2Engine,
    ),
    helperThreadNice: r.get(
      TsmeshProxyEnv.HelperThreadNice,
      (v) => {
        const n = parseNonNegativeInt(v);
        if (n > 19) throw new ValueError('a nice value from 0 to 19');
        return n;
      },
      10,
    ),
  };
  return deepFreeze(config);
}
