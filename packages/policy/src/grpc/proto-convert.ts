// Domain values → proxy-API message objects (plain objects the generated encoders accept). Shared
// by the inbound and outbound translations; no state, no I/O.
import {
  httpTypes,
  parseDurationMs,
  type HeaderModifier,
  type HttpRouteFilter,
  type HttpRouteMatch,
  type GrpcRouteMatch,
  type IpNetwork,
  type NetworkMatch,
  type RequestRedirect,
  type StringMatch,
} from '@tsmesh/core';

/** A protobuf message as a plain object (checked by the generated encoder and the golden tests). */
export type Msg = Record<string, unknown>;

export function durationMsg(ms: number): Msg {
  const seconds = Math.floor(ms / 1000);
  const nanos = Math.round((ms - seconds * 1000) * 1e6);
  return nanos === 0 ? { seconds } : { seconds, nanos };
}

/** A Gateway API / annotation duration (`10s`, `500ms`, `1m30s`) as a Duration; undefined if unset or bad. */
export function parseDurationMsg(text: string | undefined): Msg | undefined {
  if (text === undefined) return undefined;
  const ms = parseDurationMs(text.trim());
  return ms === undefined ? undefined : durationMsg(ms);
}

const U64 = (1n << 64n) - 1n;
const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** A uint64 for the encoder: a number when exact (cheap to encode), else its decimal string. */
function uint64(value: bigint): number | string {
  return value <= SAFE ? Number(value) : value.toString();
}

export function ipNetworkMsg(net: IpNetwork): Msg {
  const value = net.address.value;
  const ip =
    net.family === 4
      ? { ipv4: Number(value) >>> 0 }
      : {
          ipv6: {
            first: uint64((BigInt(value) >> 64n) & U64),
            last: uint64(BigInt(value) & U64),
          },
        };
  return { ip, prefixLen: net.prefixLength };
}

export function networkMsg(match: NetworkMatch): Msg {
  return { net: ipNetworkMsg(match.net), except: match.except.map(ipNetworkMsg) };
}

export function defaultMeta(name: string): Msg {
  return { default: name };
}

export function resourceMeta(fields: {
  group: string;
  kind: string;
  name: string;
  namespace?: string;
  port?: number;
}): Msg {
  const resource: Msg = { group: fields.group, kind: fields.kind, name: fields.name };
  if (fields.namespace) resource.namespace = fields.namespace;
  if (fields.port) resource.port = fields.port;
  return { resource };
}

/** `*.example.com` → suffix `["com","example"]`; anything else is exact. */
export function hostMatchMsg(hostname: string): Msg {
  if (hostname.startsWith('*.')) {
    return { suffix: { reverseLabels: hostname.slice(2).split('.').reverse() } };
  }
  return { exact: hostname };
}

const REGISTERED_METHODS: Record<string, number> = {
  GET: httpTypes.HttpMethod.Registered.GET,
  POST: httpTypes.HttpMethod.Registered.POST,
  PUT: httpTypes.HttpMethod.Registered.PUT,
  DELETE: httpTypes.HttpMethod.Registered.DELETE,
  PATCH: httpTypes.HttpMethod.Registered.PATCH,
  OPTIONS: httpTypes.HttpMethod.Registered.OPTIONS,
  CONNECT: httpTypes.HttpMethod.Registered.CONNECT,
  HEAD: httpTypes.HttpMethod.Registered.HEAD,
  TRACE: httpTypes.HttpMethod.Registered.TRACE,
};

export function methodMsg(method: string): Msg {
  const registered = REGISTERED_METHODS[method];
  return registered === undefined ? { unregistered: method } : { registered };
}

function headerMatchMsg(m: StringMatch): Msg {
  return m.type === 'Exact'
    ? { name: m.name, exact: Buffer.from(m.value) }
    : { name: m.name, regex: m.value };
}

function queryMatchMsg(m: StringMatch): Msg {
  return m.type === 'Exact' ? { name: m.name, exact: m.value } : { name: m.name, regex: m.value };
}

export function httpMatchMsg(m: HttpRouteMatch): Msg {
  const path =
    m.path.type === 'Exact'
      ? { exact: m.path.value }
      : m.path.type === 'PathPrefix'
        ? { prefix: m.path.value }
        : { regex: m.path.value };
  const out: Msg = {
    path,
    headers: m.headers.map(headerMatchMsg),
    queryParams: m.queryParams.map(queryMatchMsg),
  };
  if (m.method !== undefined) out.method = methodMsg(m.method);
  return out;
}

export function grpcMatchMsg(m: GrpcRouteMatch): Msg {
  const out: Msg = { headers: m.headers.map(headerMatchMsg) };
  if (m.method) out.rpc = { service: m.method.service ?? '', method: m.method.method ?? '' };
  return out;
}

function headersMsg(list: readonly { name: string; value: string }[]): Msg {
  return { headers: list.map((h) => ({ name: h.name, value: Buffer.from(h.value) })) };
}

export function headerModifierMsg(m: HeaderModifier): Msg {
  return { add: headersMsg(m.add), set: headersMsg(m.set), remove: [...m.remove] };
}

export function redirectMsg(r: RequestRedirect): Msg {
  const out: Msg = { host: r.hostname ?? '', port: r.port ?? 0, status: r.statusCode };
  if (r.scheme !== undefined) {
    out.scheme = {
      registered: r.scheme === 'https' ? httpTypes.Scheme.Registered.HTTPS : httpTypes.Scheme.Registered.HTTP,
    };
  }
  if (r.path)
    out.path = r.path.type === 'ReplaceFullPath' ? { full: r.path.value } : { prefix: r.path.value };
  return out;
}

/**
 * An HTTP route filter as the proxy API has it. Inbound routes have no response-header modifier
 * (Linkerd drops it there), outbound ones do.
 */
export function httpFilterMsg(filter: HttpRouteFilter, direction: 'inbound' | 'outbound'): Msg | undefined {
  switch (filter.type) {
    case 'RequestHeaderModifier':
      return { requestHeaderModifier: headerModifierMsg(filter.modifier) };
    case 'ResponseHeaderModifier':
      return direction === 'outbound'
        ? { responseHeaderModifier: headerModifierMsg(filter.modifier) }
        : undefined;
    case 'RequestRedirect':
      return { redirect: redirectMsg(filter.redirect) };
  }
}

/** gRPC routes carry only request-header modifiers. */
export function grpcFilterMsg(filter: HttpRouteFilter): Msg | undefined {
  return filter.type === 'RequestHeaderModifier'
    ? { requestHeaderModifier: headerModifierMsg(filter.modifier) }
    : undefined;
}

export function defined<T>(value: T | undefined): value is T {
  return value !== undefined;
}
