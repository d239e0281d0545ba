// Tap events as JSON: the shape `linkerd viz tap -o json` prints (source, destination with their
// metadata, routeMeta, proxyDirection and one of requestInitEvent / responseInitEvent /
// responseEndEvent). The tap service streams these to its HTTP clients and the CLI renders them.
import type { tap } from '@tsmesh/core';

export interface TapDuration {
  readonly seconds: number;
  readonly nanos: number;
}

export interface TapHeader {
  readonly name: string;
  readonly valueStr?: string;
  /** Base64, when the value is not UTF-8. */
  readonly valueBin?: string;
}

export interface TapEndpoint {
  readonly ip: string;
  readonly port: number;
  readonly metadata: Record<string, string>;
}

export interface TapStreamId {
  readonly base: number;
  readonly stream: number;
}

export interface TapEventJson {
  readonly source: TapEndpoint;
  readonly destination: TapEndpoint;
  readonly routeMeta: Record<string, string>;
  readonly proxyDirection: 'INBOUND' | 'OUTBOUND' | 'UNKNOWN';
  readonly requestInitEvent?: {
    readonly id: TapStreamId;
    readonly method: string;
    readonly scheme: string;
    readonly authority: string;
    readonly path: string;
    readonly headers: TapHeader[];
  };
  readonly responseInitEvent?: {
    readonly id: TapStreamId;
    readonly sinceRequestInit: TapDuration;
    readonly httpStatus: number;
    readonly headers: TapHeader[];
  };
  readonly responseEndEvent?: {
    readonly id: TapStreamId;
    readonly sinceRequestInit: TapDuration;
    readonly sinceResponseInit: TapDuration;
    readonly responseBytes: number;
    readonly trailers: TapHeader[];
    readonly grpcStatusCode?: number;
    readonly resetErrorCode?: number;
  };
}

/** A protobuf 64-bit value (number, Long-like {low, high} or string) as a number. */
function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return Number(v);
  if (v && typeof v === 'object' && 'low' in v && 'high' in v) {
    const l = v as { low: number; high: number };
    return (l.high >>> 0) * 2 ** 32 + (l.low >>> 0);
  }
  return 0;
}

type ProtoIp = NonNullable<tap.TapEvent.$Properties['source']>['ip'];

/** net.IPAddress → text (IPv6 compressed as Node prints it). */
export function formatTapIp(ip: ProtoIp): string {
  if (!ip) return '';
  if (ip.ipv4 !== undefined && ip.ipv4 !== null) {
    const v = ip.ipv4 >>> 0;
    return [v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff].join('.');
  }
  if (!ip.ipv6) return '';
  const b = Buffer.alloc(16);
  const half = (v: unknown, at: number) => {
    if (v && typeof v === 'object' && 'low' in v) {
      const l = v as { low: number; high: number };
      b.writeUInt32BE(l.high >>> 0, at);
      b.writeUInt32BE(l.low >>> 0, at + 4);
    } else b.writeBigUInt64BE(BigInt.asUintN(64, BigInt(typeof v === 'string' ? v : Math.trunc(num(v)))), at);
  };
  half(ip.ipv6.first, 0);
  half(ip.ipv6.last, 8);
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i).toString(16));
  // The WHATWG URL parser prints IPv6 hosts in their canonical compressed form.
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
}

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'CONNECT', 'HEAD', 'TRACE'];

function method(m: tap.TapEvent.Http.RequestInit.$Properties['method']): string {
  if (!m) return '';
  if (m.unregistered) return m.unregistered;
  return METHODS[m.registered ?? 0] ?? '';
}

function scheme(s: tap.TapEvent.Http.RequestInit.$Properties['scheme']): string {
  if (!s) return '';
  if (s.unregistered) return s.unregistered;
  return (s.registered ?? 0) === 0 ? 'HTTP' : 'HTTPS';
}

function headers(
  h: { headers?: { name?: string | null; value?: Uint8Array | null }[] | null } | null | undefined,
): TapHeader[] {
  const out: TapHeader[] = [];
  for (const x of h?.headers ?? []) {
    const value = Buffer.from(x.value ?? new Uint8Array());
    const text = value.toString('utf8');
    out.push(
      Buffer.from(text, 'utf8').equals(value)
        ? { name: x.name ?? '', valueStr: text }
        : { name: x.name ?? '', valueBin: value.toString('base64') },
    );
  }
  return out;
}

const duration = (d: { seconds?: unknown; nanos?: number | null } | null | undefined): TapDuration => ({
  seconds: num(d?.seconds),
  nanos: d?.nanos ?? 0,
});

const streamId = (id: { base?: number | null; stream?: unknown } | null | undefined): TapStreamId => ({
  base: id?.base ?? 0,
  stream: num(id?.stream),
});

/**
 * One proxy TapEvent as JSON. `labelsOf` adds what the tap service knows about an address (the
 * pod's namespace, name, owner…) under the labels the proxy sent, as linkerd's tap hydrates events.
 */
export function toTapEventJson(
  e: tap.TapEvent.$Properties,
  labelsOf: (ip: string) => Record<string, string> | undefined = () => undefined,
): TapEventJson {
  const endpoint = (
    a: tap.TapEvent.$Properties['source'],
    meta: tap.TapEvent.$Properties['sourceMeta'],
  ): TapEndpoint => {
    const ip = formatTapIp(a?.ip);
    return { ip, port: a?.port ?? 0, metadata: { ...(labelsOf(ip) ?? {}), ...(meta?.labels ?? {}) } };
  };
  const http = e.http;
  const direction = e.proxyDirection === 1 ? 'INBOUND' : e.proxyDirection === 2 ? 'OUTBOUND' : 'UNKNOWN';
  const base = {
    source: endpoint(e.source, e.sourceMeta),
    destination: endpoint(e.destination, e.destinationMeta),
    routeMeta: { ...(e.routeMeta?.labels ?? {}) },
    proxyDirection: direction,
  } as const;
  if (http?.requestInit) {
    const r = http.requestInit;
    return {
      ...base,
      requestInitEvent: {
        id: streamId(r.id),
        method: method(r.method),
        scheme: scheme(r.scheme),
        authority: r.authority ?? '',
        path: r.path ?? '',
        headers: headers(r.headers),
      },
    };
  }
  if (http?.responseInit) {
    const r = http.responseInit;
    return {
      ...base,
      responseInitEvent: {
        id: streamId(r.id),
        sinceRequestInit: duration(r.sinceRequestInit),
        httpStatus: r.httpStatus ?? 0,
        headers: headers(r.headers),
      },
    };
  }
  const r = http?.responseEnd ?? {};
  const eos = r.eos;
  return {
    ...base,
    responseEndEvent: {
      id: streamId(r.id),
      sinceRequestInit: duration(r.sinceRequestInit),
      sinceResponseInit: duration(r.sinceResponseInit),
      responseBytes: num(r.responseBytes),
      trailers: headers(r.trailers),
      ...(eos?.grpcStatusCode !== undefined && eos?.grpcStatusCode !== null
        ? { grpcStatusCode: eos.grpcStatusCode }
        : {}),
      ...(eos?.resetErrorCode !== undefined && eos?.resetErrorCode !== null
        ? { resetErrorCode: eos.resetErrorCode }
        : {}),
    },
  };
}
