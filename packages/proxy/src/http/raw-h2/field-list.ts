// Flat field lists (`name, value, name, value, …`, as the raw HTTP/2 engine reads and writes them)
// and the proxy's header objects: the object routing reads, the lists forwarded between hops.
import type { IncomingHttpHeaders } from 'node:http2';
import { isHopByHop } from '../headers.js';

/**
 * The header object of a received head, as node:http2 makes it: a repeated `cookie` joined with
 * `; `, a repeated `set-cookie` a list, other repeats joined with `, `. No prototype.
 */
export function headersOfFields(fields: readonly string[]): IncomingHttpHeaders {
  const out = Object.create(null) as Record<string, string | string[]>;
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i]!;
    const value = fields[i + 1]!;
    const prev = out[name];
    if (prev === undefined) out[name] = name === 'set-cookie' ? [value] : value;
    else if (Array.isArray(prev)) prev.push(value);
    else out[name] = name === 'cookie' ? `${prev}; ${value}` : `${prev}, ${value}`;
  }
  return out as IncomingHttpHeaders;
}

/** The (lower-case) names a `connection` field of the list names, if it has one. */
function connectionNamed(fields: readonly string[]): Set<string> | undefined {
  let named: Set<string> | undefined;
  for (let i = 0; i < fields.length; i += 2) {
    if (fields[i] !== 'connection') continue;
    named ??= new Set();
    for (const n of fields[i + 1]!.split(',')) named.add(n.trim().toLowerCase());
  }
  return named;
}

/**
 * A list for the next hop: connection-specific fields and those in `drop` left out, `add` appended.
 * (An HTTP/2 peer never sends connection-specific fields — they make a message malformed — but a
 * list built from an HTTP/1 head may hold them.)
 */
export function forwardedFields(
  fields: readonly string[],
  drop?: readonly string[],
  add?: Readonly<Record<string, string>>,
  dropName?: string,
): string[] {
  const named = connectionNamed(fields);
  const out: string[] = [];
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i]!;
    const value = fields[i + 1]!;
    // `te: trailers` is the one TE an HTTP/2 request may carry, and gRPC servers require it.
    if (name === 'te' ? value !== 'trailers' : isHopByHop(name)) continue;
    if (name === dropName || named?.has(name) === true || drop?.includes(name) === true) continue;
    out.push(name, value);
  }
  if (add !== undefined) {
    for (const k in add) {
      // An added field replaces what the list had under that name.
      for (let i = out.length - 2; i >= 0; i -= 2) if (out[i] === k) out.splice(i, 2);
      out.push(k, add[k]!);
    }
  }
  return out;
}

/**
 * A list as a header object without pseudo-fields, connection-specific fields and `drop` (repeats
 * as lists): what the proxy's stacks hand on.
 */
export function plainHeadersOfFields(
  fields: readonly string[],
  drop?: string,
): Record<string, string | string[]> {
  const out = Object.create(null) as Record<string, string | string[]>;
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i]!;
    if (name.charCodeAt(0) === 0x3a || isHopByHop(name) || name === drop) continue;
    const value = fields[i + 1]!;
    const prev = out[name];
    if (prev === undefined) out[name] = value;
    else if (Array.isArray(prev)) prev.push(value);
    else out[name] = [prev, value];
  }
  return out;
}

/** A header object as a list (repeats from lists), after `head` (e.g. `:status` and its value). */
export function fieldsOfHeaders(
  headers: Readonly<Record<string, string | string[] | number | undefined>>,
  head: string[] = [],
): string[] {
  for (const k in headers) {
    const v = headers[k];
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const x of v) head.push(k, x);
    else head.push(k, typeof v === 'number' ? String(v) : v);
  }
  return head;
}
