// What the inbound server asks of the features layered on forwarding: authorization policy
// (per connection for TCP/opaque, per request for HTTP), the real client address for the app
// (X-Forwarded-For/Forwarded, PROXY protocol v2), tap and access logs. Each feature costs nothing
// when it is off: no policy controller keeps the default policy, tap is one boolean, and the
// access log is skipped unless configured.
import type { IncomingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AccessLog } from '../access-log/index.js';
import { nowNs } from '../access-log/index.js';
import { encodeProxyProtocolV2, forwardedHeaders, type ForwardedMode } from '../client-address/index.js';
import type { PortSet } from '../config/index.js';
import { ProxyErrorCode, type ProxyError } from '../errors/index.js';
import type { RecentErrors } from '../recent-errors/index.js';
import {
  plainIp,
  type ClientInfo,
  type InboundPolicy,
  type RequestFacts,
  type ServerProtocol,
} from '../inbound-policy/index.js';
import type { TargetLabels } from '../metrics/index.js';
import type { TapHandle, TapHub } from '../tap/index.js';

export interface InboundHooksOptions {
  /** Without it every connection and request is allowed (no policy at all). */
  readonly policy?: InboundPolicy;
  readonly tap?: TapHub;
  readonly accessLog?: AccessLog;
  readonly forwarded: ForwardedMode;
  readonly proxyProtocolPorts: PortSet;
  /** Where failures forwarding to the app are recorded (admin /errors). */
  readonly recentErrors?: RecentErrors;
  /** How long a connection on a port waits for the controller's first policy. */
  readonly initialPolicyTimeoutMs?: number;
}

export interface InboundConnection {
  /** The app address (localhost at the target port). */
  readonly target: { readonly host: string; readonly port: number };
  readonly labels: TargetLabels;
  readonly clientId: string | undefined;
  /** The client's address as the socket saw it. */
  readonly peer: { readonly ip: string; readonly port: number };
}

export interface InboundRequestHead {
  readonly method: string;
  readonly path: string;
  readonly authority: string;
  readonly scheme: 'http' | 'https';
  /** `HTTP/1.1`, `HTTP/2.0`. */
  readonly version: string;
  readonly headers: IncomingHttpHeaders;
  /**
   * One header's value (repeats joined with ", ") without building `headers`, when the HTTP
   * engine can: the client-address headers read it on every request.
   */
  header?(lowerName: string): string | undefined;
}

export interface InboundRequest {
  /** The connection's labels plus srv_* and route_* for the request metrics. */
  readonly labels: TargetLabels;
  /** Set when the proxy answers the request itself (policy refusal, rate limit, injected failure). */
  readonly reject: ProxyError | undefined;
  /** Set when the matched route answers with a redirect (RequestRedirect filter). */
  readonly redirect: { readonly statusCode: number; readonly location: string } | undefined;
  /** Headers to add: an object of this request's own (the server adds l5d-client-id to it). */
  readonly addHeaders: Record<string, string> | undefined;
  readonly removeHeaders: readonly string[];
  /** Call once when the response completed or failed. */
  done(statusCode: number | undefined, grpcStatus: number | undefined, error: string | undefined): void;
}

export interface InboundHooks {
  /** Resolves when the port's policy is known (or its first-answer wait ran out). */
  ready(port: number): Promise<void>;
  /** The Server's protocol detection timeout (ProxyProtocol.Detect.timeout), when it sets one. */
  detectTimeoutMs(port: number): number | undefined;
  /** How to serve the port: the Server's protocol; PROXY-protocol ports are always opaque. */
  protocol(port: number): ServerProtocol;
  /**
   * Connection-level authorization for TCP and opaque traffic; false: close it. An admitted
   * `stream` is destroyed later if a policy update stops authorizing it.
   */
  admitConnection(conn: InboundConnection, stream?: Duplex): boolean;
  /** Bytes to write to the app before the client's (a PROXY protocol v2 header), if any. */
  opaquePreamble(conn: InboundConnection): Buffer | undefined;
  request(conn: InboundConnection, head: InboundRequestHead): InboundRequest;
}

// One ClientInfo per connection (its requests share it, and the policy caches per ClientInfo).
const clients = new WeakMap<InboundConnection, ClientInfo>();
const clientOf = (conn: InboundConnection): ClientInfo => {
  let c = clients.get(conn);
  if (c === undefined) {
    c = { ip: plainIp(conn.peer.ip), tls: conn.labels.tls === 'true', id: conn.clientId };
    clients.set(conn, c);
  }
  return c;
};

// The connection's labels merged with a route's, kept per connection: the metrics layer caches
// per labels object, so requests on one route of one connection share one.
const merged = new WeakMap<InboundConnection, { from: object; labels: TargetLabels }>();
function withPolicyLabels(conn: InboundConnection, policy: Readonly<Record<string, string>>): TargetLabels {
  const last = merged.get(conn);
  if (last?.from === policy) return last.labels;
  const labels: TargetLabels = { ...conn.labels, ...policy };
  merged.set(conn, { from: policy, labels });
  return labels;
}

/**
 * The request as the policy sees it. A class rather than an object literal with a getter: V8
 * builds a literal with an accessor through the runtime (an accessor pair per request), a class
 * instance on its fast path with the getter on the prototype.
 */
class PolicyRequest implements RequestFacts {
  readonly method: string;
  readonly path: string;
  readonly host: string;
  readonly scheme: 'http' | 'https';

  constructor(
    private readonly head: InboundRequestHead,
    readonly target: string,
  ) {
    this.method = head.method;
    this.path = head.path;
    this.host = head.authority;
    this.scheme = head.scheme;
  }

  /** Read only by routes that match on headers. */
  get headers(): IncomingHttpHeaders {
    return this.head.headers;
  }
}

const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v) ?? '';

export function createInboundHooks(options: InboundHooksOptions): InboundHooks {
  const { policy, tap, accessLog } = options;
  const waitMs = options.initialPolicyTimeoutMs ?? 1000;
  return {
    ready: (port) => (policy ? policy.port(port).whenSynced(waitMs) : Promise.resolve()),
    detectTimeoutMs: (port) => policy?.port(port).server.detectTimeoutMs,
    protocol(port) {
      if (options.proxyProtocolPorts.has(port)) return 'opaque';
      return policy ? policy.port(port).server.protocol : 'detect';
    },
    admitConnection(conn, stream) {
      if (!policy) return true;
      const client = clientOf(conn);
      if (!policy.checkConnection(conn.target.port, client, conn.labels)) return false;
      if (stream) {
        const stop = policy.watchConnection(conn.target.port, client, conn.labels, () => stream.destroy());
        stream.once('close', stop);
      }
      return true;
    },
    opaquePreamble(conn) {
      if (!options.proxyProtocolPorts.has(conn.target.port)) return undefined;
      const destinationIp = conn.labels.target_ip || conn.target.host;
      return encodeProxyProtocolV2({
        sourceIp: plainIp(conn.peer.ip),
        sourcePort: conn.peer.port,
        destinationIp,
        destinationPort: conn.target.port,
      });
    },
    request(conn, head) {
      const client = clientOf(conn);
      let labels = conn.labels;
      let reject: ProxyError | undefined;
      let redirect: InboundRequest['redirect'];
      let addHeaders: Record<string, string> | undefined;
      const removeHeaders: string[] = [];
      if (policy) {
        const verdict = policy.checkRequest(
          conn.target.port,
          new PolicyRequest(head, conn.labels.target_addr),
          client,
          conn.labels,
        );
        labels = withPolicyLabels(conn, verdict.labels);
        if (!verdict.ok) reject = verdict.error;
        else if (verdict.redirect) redirect = verdict.redirect;
        else if (verdict.headers) {
          addHeaders = {};
          for (const [k, v] of verdict.headers.add) addHeaders[k] = v;
          for (const [k, v] of verdict.headers.set) {
            addHeaders[k] = v;
            removeHeaders.push(k); // set replaces what the client sent
          }
          removeHeaders.push(...verdict.headers.remove);
        }
      }
      const fwd = forwardedHeaders(options.forwarded, client.ip, head.header ?? head.headers);
      if (fwd) {
        // Replaces the client's header with the extended list (the client's values come first).
        // Both objects are this request's own: no spread (V8's generic object clone is slow).
        if (addHeaders === undefined) addHeaders = fwd;
        else Object.assign(addHeaders, fwd);
        for (const k in fwd) removeHeaders.push(k);
      }
      let tapped: TapHandle | undefined;
      if (tap?.active) {
        tapped = tap.start({
          direction: 'inbound',
          source: { ip: client.ip, port: conn.peer.port },
          // As Linkerd's tap: the client's TLS, "true" with its identity, else the reason.
          sourceLabels:
            conn.labels.tls === 'true'
              ? { tls: 'true', client_id: conn.clientId ?? '' }
              : { tls: conn.labels.no_tls_reason ?? '' },
          destination: { ip: conn.labels.target_ip || conn.target.host, port: conn.target.port },
          routeLabels: labels.route_name ? { route: labels.route_name } : undefined,
          method: head.method,
          scheme: head.scheme,
          authority: head.authority,
          path: head.path,
          headers: head.headers,
        });
      }
      const startedNs = accessLog ? nowNs() : 0n;
      return {
        labels,
        reject,
        redirect,
        addHeaders,
        removeHeaders,
        done(statusCode, grpcStatus, error) {
          tapped?.end({ statusCode, grpcStatus, error });
          // Failures talking to the app (refusals were recorded by the policy): a 502 before any
          // response means the app could not be reached; a failure after one, a reset mid-stream.
          // Without a status the client went away, which is not the proxy's error.
          if (
            error !== undefined &&
            reject === undefined &&
            statusCode !== undefined &&
            options.recentErrors
          ) {
            const unreachable = statusCode === 502;
            options.recentErrors.record({
              code: unreachable ? ProxyErrorCode.ConnectFailed : ProxyErrorCode.EndpointReset,
              direction: 'inbound',
              message: unreachable
                ? `the app at ${conn.target.host}:${conn.target.port} could not be reached`
                : `the app at ${conn.target.host}:${conn.target.port} failed the response after status ${statusCode}`,
              request: `${head.method} ${head.path}`,
              target: conn.labels.target_addr,
              client: client.ip,
              clientId: conn.clientId,
              cause: error,
            });
          }
          if (accessLog) {
            const ip = client.ip.includes(':') ? `[${client.ip}]` : client.ip;
            accessLog.log({
              clientAddr: `${ip}:${conn.peer.port}`,
              clientId: conn.clientId,
              startedNs,
              method: head.method,
              uri: head.version === 'HTTP/2.0' ? `${head.scheme}://${head.authority}${head.path}` : head.path,
              version: head.version,
              status: statusCode,
              host: head.authority,
              userAgent: first(head.headers['user-agent']),
              totalNs: nowNs() - startedNs,
              traceId: '',
            });
          }
        },
      };
    },
  };
}
