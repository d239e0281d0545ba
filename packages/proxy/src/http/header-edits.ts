// A route's header edits (Gateway API RequestHeaderModifier / ResponseHeaderModifier, as
// OutboundPolicies and InboundServerPolicies carry them: add, set, remove), checked once when the
// policy is compiled. The engines write an edited header as it is, on the per-request path, so a
// name that is not a token or a value holding CR, LF or another control character must never
// reach them: it would end the header line and start another header, or another request. Nor may
// an edit add a header the proxy writes for each hop itself (the body's framing, Connection).
import { hex, isControl, isToken } from './raw-h1/field-syntax.js';
import { isHopByHop } from './headers.js';

export interface HeaderEdits {
  readonly add: readonly (readonly [string, string])[];
  readonly set: readonly (readonly [string, string])[];
  /** Lower-case names. */
  readonly remove: readonly string[];
}

/** A header modifier as protobufjs decodes it (http_route.RequestHeaderModifier and its response twin). */
export interface HeaderModifierMessage {
  readonly add?: { readonly headers?: readonly HeaderMessage[] | null } | null;
  readonly set?: { readonly headers?: readonly HeaderMessage[] | null } | null;
  readonly remove?: readonly string[] | null;
}

interface HeaderMessage {
  readonly name?: string | null;
  readonly value?: Uint8Array | null;
}

/** Why `name: value` cannot be added by a route, or undefined when it can. */
export function headerEditProblem(name: string, value: string): string | undefined {
  if (!isToken(name))
    return `${JSON.stringify(name)} is not a header name (RFC 9110 §5.6.2: letters, digits and !#$%&'*+-.^_\`|~)`;
  if (isHopByHop(name) || name === 'content-length' || name === 'host')
    return `${name} is written by the proxy for each hop; a route cannot add or set it`;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (isControl(c)) return `the value of ${name} holds control character 0x${hex(c)} at offset ${i}`;
  }
  return undefined;
}

/**
 * The edits of a header modifier, names lower-cased and values as the bytes they are (latin1: one
 * character per byte, as the engines write header text). Throws an Error naming `where` and the
 * header for an edit no hop could carry.
 */
export function compileHeaderEdits(m: HeaderModifierMessage, where: string): HeaderEdits {
  const pairs = (list: readonly HeaderMessage[] | null | undefined, op: string) =>
    (list ?? []).map((h, i) => {
      const name = (h.name ?? '').toLowerCase();
      const value = h.value ? Buffer.from(h.value).toString('latin1') : '';
      const problem = headerEditProblem(name, value);
      if (problem !== undefined) throw new Error(`${where}.${op}[${i}]: ${problem}`);
      return [name, value] as const;
    });
  return {
    add: pairs(m.add?.headers, 'add'),
    set: pairs(m.set?.headers, 'set'),
    remove: (m.remove ?? []).map((n) => n.toLowerCase()),
  };
}
