// Header hygiene between hops (RFC 9110 §7.6.1): connection-specific headers are not forwarded,
// and HTTP/2 forbids them outright (RFC 9113 §8.2.2).
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'http2-settings',
  'expect',
]);

/**
 * A header field named `__proto__` goes into a header object as a member like any other: defined,
 * never assigned (assigning it sets the object's prototype, or does nothing for a string), and its
 * earlier value read as an own property (reading it otherwise finds Object.prototype, which the
 * header builders took for an earlier value: a response with such a field threw). Repeats make a
 * list, as node:http does for most fields; `join` makes it one string instead.
 */
export const PROTO_FIELD = '__proto__';
export function addProtoField(out: Record<string, unknown>, value: string, join?: string): void {
  const cur = Object.hasOwn(out, PROTO_FIELD) ? (out[PROTO_FIELD] as string | string[]) : undefined;
  const next =
    cur === undefined
      ? value
      : join !== undefined
        ? `${String(cur)}${join}${value}`
        : typeof cur === 'string'
          ? [cur, value]
          : [...cur, value];
  Object.defineProperty(out, PROTO_FIELD, {
    value: next,
    writable: true,
    enumerable: true,
    configurable: true,
  });
}

/** Whether a lower-case header name is connection-specific. */
export function isHopByHop(lowerName: string): boolean {
  return HOP_BY_HOP.has(lowerName);
}

/** Sets `add` in a flat field list (`name, value, …`), each replacing the list's fields of that name. */
export function setFields(list: string[], add: Readonly<Record<string, string>>): void {
  for (const k in add) {
    for (let i = list.length - 2; i >= 0; i -= 2) if (list[i] === k) list.splice(i, 2);
    list.push(k, add[k] as string);
  }
}

/** The (lower-case) header names a raw `Connection` header lists, if there is one. */
export function connectionNamed(raw: readonly string[]): Set<string> | undefined {
  let named: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    if ((raw[i] as string).length !== 10 || (raw[i] as string).toLowerCase() !== 'connection') continue;
    named ??= new Set();
    for (const n of (raw[i + 1] as string).split(',')) named.add(n.trim().toLowerCase());
  }
  return named;
}

/**
 * Copies headers without hop-by-hop ones, nor any named in `Connection`; with `dropPseudo`, without
 * HTTP/2 pseudo-headers (`:status`, `:path`, …) either.
 */
export function stripHopByHop(
  headers: IncomingHttpHeaders | OutgoingHttpHeaders,
  dropPseudo = false,
): Record<string, string | string[]> {
  // Called per request and per response: no Set unless a Connection header names others.
  let named: Set<string> | undefined;
  const conn = headers.connection;
  // `keep-alive` names only a hop-by-hop header: no set for the common case.
  if (typeof conn === 'string' && !(conn.length === 10 && conn.toLowerCase() === 'keep-alive')) {
    named = new Set();
    for (const n of conn.split(',')) named.add(n.trim().toLowerCase());
  }
  const out: Record<string, string | string[]> = {};
  for (const k in headers) {
    const v = headers[k];
    if (v === undefined || HOP_BY_HOP.has(k) || named?.has(k)) continue;
    if (dropPseudo && k.charCodeAt(0) === 0x3a /* ':' */) continue;
    const value = typeof v === 'number' ? String(v) : v;
    // A field named `__proto__` is defined, not assigned (see addProtoField).
    if (k === PROTO_FIELD)
      Object.defineProperty(out, k, { value, writable: true, enumerable: true, configurable: true });
    else out[k] = value;
  }
  return out;
}

/** The header Linkerd's inbound proxy sets to the verified client identity. */
export const L5D_CLIENT_ID = 'l5d-client-id';
/** The header a proxy sets on responses it generated itself because of an error. */
export const L5D_PROXY_ERROR = 'l5d-proxy-error';

/**
 * A header object (lower-case names, repeated headers as arrays) from undici's raw
 * [name, value, …] list, without hop-by-hop headers nor any named in `Connection`. Bytes are read
 * as latin1, as Node's HTTP/1 server writes them back: header values pass through unchanged.
 */
export function headersFromRaw(raw: readonly (Buffer | string)[]): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  let named: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as Buffer | string;
    const k = (typeof name === 'string' ? name : name.toString('latin1')).toLowerCase();
    const value = raw[i + 1] as Buffer | string;
    const v = typeof value === 'string' ? value : value.toString('latin1');
    if (k === 'connection') {
      // `keep-alive` (most responses) names only a hop-by-hop header: nothing more to drop.
      if (v.length === 10 && v.toLowerCase() === 'keep-alive') continue;
      named ??= new Set();
      for (const n of v.split(',')) named.add(n.trim().toLowerCase());
      continue;
    }
    if (HOP_BY_HOP.has(k)) continue;
    if (k === PROTO_FIELD) {
      addProtoField(out, v);
      continue;
    }
    const cur = out[k];
    out[k] = cur === undefined ? v : typeof cur === 'string' ? [cur, v] : (cur.push(v), cur);
  }
  if (named) for (const n of named) delete out[n];
  return out;
}

/** A header's value in a flat [name, value, …] list (repeats joined with ", "), by lower-case name. */
export function rawHeaderValue(raw: readonly string[], lowerName: string): string | undefined {
  let value: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.length !== lowerName.length || name.toLowerCase() !== lowerName) continue;
    value = value === undefined ? (raw[i + 1] as string) : `${value}, ${raw[i + 1] as string}`;
  }
  return value;
}
