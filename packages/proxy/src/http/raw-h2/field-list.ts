// Flat field lists (`name, value, name, value, …`, as the raw HTTP/2 engine reads and writes them)
// and the proxy's header objects: the object routing reads, the lists forwarded between hops.
import type { IncomingHttpHeaders } from 'node:http2';
import { connectionNamed, isHopByHop, setFields } from '../headers.js';

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

/** Whether a field stays out of the next hop's list. */
function dropped(
  name: string,
  value: string,
  named: Set<string> | undefined,
  drop: readonly string[] | undefined,
  dropName: string | undefined,
): boolean {
  // `te: trailers` is the one TE an HTTP/2 request may carry, and gRPC servers require it.
  if (name === 'te' ? value !== 'trailers' : isHopByHop(name)) return true;
  return name === dropName || named?.has(name) === true || drop?.includes(name) === true;
}

/**
 * A list for the next hop: connection-specific fields and those in `drop` left out, `add` set
 * (replacing the list's own). The list itself when nothing changes: an HTTP/2 peer's heads hold no
 * connection-specific fields (they make a message malformed), so most responses and trailers pass
 * as they came.
 */
export function forwardedFields(
  fields: readonly string[],
  drop?: readonly string[],
  add?: Readonly<Record<string, string>>,
  dropName?: string,
): readonly string[] {
  const named = connectionNamed(fields);
  let i = 0;
  while (i < fields.length && !dropped(fields[i]!, fields[i + 1]!, named, drop, dropName)) i += 2;
  if (i === fields.length && add === undefined) return fields;
  const out = fields.slice(0, i);
  for (; i < fields.length; i += 2) {
    const name = fields[i]!;
    const value = fields[i + 1]!;
    if (!dropped(name, value, named, drop, dropName)) out.push(name, value);
  }
  if (add !== undefined) setFields(out, add);
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
