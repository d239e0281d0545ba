// Live request/response events for io.linkerd.proxy.tap.Tap/Observe. Each Observe call registers
// a tap with its filter (ObserveRequest.match) and limit (how many requests it wants); the request
// path asks the hub once per request — `hub.active` is a plain boolean, so a proxy nobody taps pays
// one property read. A matched request gets a handle that emits RequestInit now and ResponseInit
// and ResponseEnd when it completes. A tap whose consumer is slow drops events instead of
// buffering without bound.
import type { httpTypes, tap as tapProto } from '@tsmesh/core/data-plane';
import { toProtoIp } from '../inbound-policy/index.js';
import { ipBytes } from '../client-address/index.js';

type Match = tapProto.ObserveRequest.Match.$Properties;
type TapEvent = tapProto.TapEvent.$Properties;

export interface TapAddress {
  readonly ip: string;
  readonly port: number;
}

/** What the request path tells the hub about one request. */
export interface TapRequestInfo {
  readonly direction: 'inbound' | 'outbound';
  readonly source: TapAddress;
  readonly destination: TapAddress;
  readonly sourceLabels?: Readonly<Record<string, string>>;
  readonly destinationLabels?: Readonly<Record<string, string>>;
  readonly routeLabels?: Readonly<Record<string, string>>;
  readonly method: string;
  readonly scheme: 'http' | 'https';
  readonly authority: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

export interface TapResponseInfo {
  readonly statusCode: number | undefined;
  readonly grpcStatus: number | undefined;
  /** Set when the stream failed rather than completed (then the end is a reset). */
  readonly error: string | undefined;
  readonly responseBytes?: number;
}

/** A tapped request: call `end` once when the response completes. */
export interface TapHandle {
  end(response: TapResponseInfo): void;
}

export interface TapSink {
  /** Sends an event; false when the consumer is too slow and the event was dropped. */
  send(event: TapEvent): boolean;
  /** The tap's limit is reached and every tapped request has ended. */
  finish(): void;
}

export interface TapHub {
  /** True while at least one tap is open: the only check the request path makes when false. */
  readonly active: boolean;
  /** Offers a request to every open tap; undefined when none wants it. */
  start(request: TapRequestInfo): TapHandle | undefined;
  /** Registers a tap; returns its removal. */
  observe(request: tapProto.ObserveRequest.$Properties, sink: TapSink): () => void;
  /** Events dropped because a consumer was slow, since start. */
  readonly dropped: number;
}

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'CONNECT', 'HEAD', 'TRACE'];

function methodMessage(method: string): httpTypes.HttpMethod.$Properties {
  const i = METHODS.indexOf(method.toUpperCase());
  return i >= 0 ? { registered: i } : { unregistered: method };
}

const schemeMessage = (s: 'http' | 'https'): httpTypes.Scheme.$Properties => ({
  registered: s === 'http' ? 0 : 1,
});

function headersMessage(
  h: Readonly<Record<string, string | string[] | undefined>>,
): httpTypes.Headers.$Properties {
  const headers: { name: string; value: Uint8Array }[] = [];
  for (const [name, v] of Object.entries(h)) {
    if (v === undefined) continue;
    for (const value of Array.isArray(v) ? v : [v]) headers.push({ name, value: Buffer.from(String(value)) });
  }
  return { headers };
}

const durationMessage = (ms: number) => ({
  seconds: Math.floor(ms / 1000),
  nanos: Math.round((ms % 1000) * 1e6),
});

function inNetmask(
  ip: string,
  netmask: NonNullable<tapProto.ObserveRequest.Match.Tcp.$Properties['netmask']>,
): boolean {
  const addr = ipBytes(ip);
  const want = netmask.ip ? netIpBytes(netmask.ip) : undefined;
  if (!addr || !want || addr.length !== want.length) return false;
  let bits = netmask.mask ?? 0;
  for (let i = 0; i < addr.length && bits > 0; i++, bits -= 8) {
    const m = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if (((addr[i] as number) & m) !== ((want[i] as number) & m)) return false;
  }
  return true;
}

function netIpBytes(
  ip: NonNullable<tapProto.ObserveRequest.Match.Tcp.Netmask.$Properties['ip']>,
): Buffer | undefined {
  if (ip.ipv4 !== undefined && ip.ipv4 !== null) {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(ip.ipv4 >>> 0);
    return b;
  }
  if (!ip.ipv6) return undefined;
  const b = Buffer.alloc(16);
  const half = (v: unknown, at: number) => {
    if (typeof v === 'number') b.writeBigUInt64BE(BigInt(v), at);
    else if (v && typeof v === 'object') {
      const l = v as { low: number; high: number };
      b.writeUInt32BE(l.high >>> 0, at);
      b.writeUInt32BE(l.low >>> 0, at + 4);
    }
  };
  half(ip.ipv6.first, 0);
  half(ip.ipv6.last, 8);
  return b;
}

function stringMatches(
  m: { exact?: string | null; prefix?: string | null } | null | undefined,
  value: string,
) {
  if (!m) return true;
  if (m.exact !== undefined && m.exact !== null) return value === m.exact;
  if (m.prefix !== undefined && m.prefix !== null) return value.startsWith(m.prefix);
  return true;
}

/** ObserveRequest.Match semantics (linkerd2-proxy tap): an unset match admits everything. */
export function tapMatches(match: Match | null | undefined, r: TapRequestInfo): boolean {
  if (!match) return true;
  if (match.all) return (match.all.matches ?? []).every((m) => tapMatches(m, r));
  if (match.any) return (match.any.matches ?? []).some((m) => tapMatches(m, r));
  if (match.not) return !tapMatches(match.not, r);
  const tcp = match.source ?? match.destination;
  if (tcp) {
    const a = match.source ? r.source : r.destination;
    if (tcp.netmask) return inNetmask(a.ip, tcp.netmask);
    if (tcp.ports)
      return a.port >= (tcp.ports.min ?? 0) && a.port <= (tcp.ports.max || tcp.ports.min || 65535);
    return true;
  }
  if (match.http) {
    const h = match.http;
    if (h.scheme) return (h.scheme.registered ?? 0) === (r.scheme === 'http' ? 0 : 1);
    if (h.method) {
      const m = h.method.unregistered ?? METHODS[h.method.registered ?? 0];
      return (m ?? '').toUpperCase() === r.method.toUpperCase();
    }
    if (h.authority) return stringMatches(h.authority, r.authority);
    if (h.path) return stringMatches(h.path, r.path);
    return true;
  }
  if (match.destinationLabel) {
    const { key, value } = match.destinationLabel;
    return (r.destinationLabels ?? {})[key ?? ''] === (value ?? '');
  }
  if (match.routeLabel) {
    const { key, value } = match.routeLabel;
    return (r.routeLabels ?? {})[key ?? ''] === (value ?? '');
  }
  return true;
}

interface Tap {
  readonly id: number;
  readonly match: Match | null | undefined;
  readonly extractHeaders: boolean;
  remaining: number;
  open: number;
  readonly sink: TapSink;
  closed: boolean;
}

/** Most requests one Observe may ask for (viz's tap API asks for at most 10,000). */
export const MAX_TAP_LIMIT = 100_000;

export function createTapHub(): TapHub {
  const taps = new Set<Tap>();
  let nextTap = 0;
  let nextStream = 0;
  let dropped = 0;
  const hub = {
    active: false,
    get dropped() {
      return dropped;
    },
    start(r: TapRequestInfo): TapHandle | undefined {
      let wanted: Tap[] | undefined;
      for (const t of taps) {
        if (t.closed || t.remaining <= 0 || !tapMatches(t.match, r)) continue;
        t.remaining--;
        t.open++;
        (wanted ??= []).push(t);
      }
      if (!wanted) return undefined;
      const stream = ++nextStream;
      const startedAt = performance.now();
      const base: TapEvent = {
        source: { ip: toProtoIp(r.source.ip), port: r.source.port },
        destination: { ip: toProtoIp(r.destination.ip), port: r.destination.port },
        sourceMeta: { labels: { ...(r.sourceLabels ?? {}) } },
        destinationMeta: { labels: { ...(r.destinationLabels ?? {}) } },
        routeMeta: { labels: { ...(r.routeLabels ?? {}) } },
        proxyDirection: r.direction === 'inbound' ? 1 : 2,
      };
      const targets = wanted;
      for (const t of targets) {
        const id = { base: t.id, stream };
        send(t, {
          ...base,
          http: {
            requestInit: {
              id,
              method: methodMessage(r.method),
              scheme: schemeMessage(r.scheme),
              authority: r.authority,
              path: r.path,
              ...(t.extractHeaders ? { headers: headersMessage(r.headers) } : {}),
            },
          },
        });
      }
      let ended = false;
      return {
        end(res) {
          if (ended) return;
          ended = true;
          const elapsed = performance.now() - startedAt;
          for (const t of targets) {
            const id = { base: t.id, stream };
            if (res.statusCode !== undefined) {
              send(t, {
                ...base,
                http: {
                  responseInit: {
                    id,
                    sinceRequestInit: durationMessage(elapsed),
                    httpStatus: res.statusCode,
                  },
                },
              });
            }
            send(t, {
              ...base,
              http: {
                responseEnd: {
                  id,
                  sinceRequestInit: durationMessage(elapsed),
                  sinceResponseInit: durationMessage(0),
                  responseBytes: res.responseBytes ?? 0,
                  eos:
                    res.error !== undefined
                      ? { resetErrorCode: 2 /* INTERNAL_ERROR */ }
                      : res.grpcStatus !== undefined
                        ? { grpcStatusCode: res.grpcStatus }
                        : undefined,
                },
              },
            });
            t.open--;
            if (t.remaining <= 0 && t.open === 0) close(t, true);
          }
        },
      };
    },
    observe(request: tapProto.ObserveRequest.$Properties, sink: TapSink) {
      const tap: Tap = {
        id: ++nextTap,
        match: request.match,
        extractHeaders:
          request.extract?.http?.headers !== undefined && request.extract?.http?.headers !== null,
        remaining: Math.min(request.limit ?? 0, MAX_TAP_LIMIT),
        open: 0,
        sink,
        closed: false,
      };
      taps.add(tap);
      hub.active = true;
      if (tap.remaining <= 0) close(tap, true);
      return () => close(tap, false);
    },
  };
  const send = (t: Tap, ev: TapEvent) => {
    if (t.closed) return;
    if (!t.sink.send(ev)) dropped++;
  };
  const close = (t: Tap, finished: boolean) => {
    if (t.closed) return;
    t.closed = true;
    taps.delete(t);
    hub.active = taps.size > 0;
    if (finished) t.sink.finish();
  };
  return hub;
}
