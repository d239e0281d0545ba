// Checks of received HTTP/2 field blocks (RFC 9113 §8.2, §8.3): a block that breaks them is a
// malformed message, which resets its stream (PROTOCOL_ERROR) without harming the connection. Each
// check returns what is wrong, for the log and the error the client sees, or undefined.

/** Octets allowed in a field name: tchar (RFC 9110 §5.6.2) without upper case. */
const NAME_OCTET = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz") NAME_OCTET[c.charCodeAt(0)] = 1;

/** Fields that only mean something to an HTTP/1 connection (RFC 9113 §8.2.2). */
const CONNECTION_SPECIFIC = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
]);

const REQUEST_PSEUDO = new Set([':method', ':scheme', ':path', ':authority', ':protocol']);

function nameProblem(name: string): string | undefined {
  if (name.length === 0) return 'a field with an empty name';
  for (let i = name.charCodeAt(0) === 0x3a ? 1 : 0; i < name.length; i++) {
    if (NAME_OCTET[name.charCodeAt(i)] !== 1) {
      return `field name ${JSON.stringify(name)} has a character HTTP/2 does not allow in names (upper case, space or a separator)`;
    }
  }
  if (CONNECTION_SPECIFIC.has(name)) return `connection-specific field ${name} is not allowed in HTTP/2`;
  return undefined;
}

function valueProblem(name: string, value: string): string | undefined {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0 || c === 0x0a || c === 0x0d) return `the value of field ${name} holds a NUL, CR or LF`;
  }
  if (name === 'te' && value !== 'trailers')
    return `field te may only be "trailers" in HTTP/2, not ${JSON.stringify(value)}`;
  return undefined;
}

/** Regular fields (trailers, or a head after its pseudo-fields), from index `from` of the flat list. */
function regularProblem(fields: readonly string[], from: number): string | undefined {
  for (let i = from; i < fields.length; i += 2) {
    const name = fields[i]!;
    if (name.charCodeAt(0) === 0x3a) return `pseudo-field ${name} after a regular field or in trailers`;
    const p = nameProblem(name) ?? valueProblem(name, fields[i + 1]!);
    if (p !== undefined) return p;
  }
  return undefined;
}

/** A request head: its pseudo-fields first, each once, :method, :scheme and :path (CONNECT aside). */
export function requestProblem(fields: readonly string[]): string | undefined {
  let method: string | undefined;
  let scheme = false;
  let path = false;
  let authority = false;
  let protocol = false;
  let i = 0;
  for (; i < fields.length && fields[i]!.charCodeAt(0) === 0x3a; i += 2) {
    const name = fields[i]!;
    const value = fields[i + 1]!;
    if (!REQUEST_PSEUDO.has(name)) return `unknown pseudo-field ${name} in a request`;
    const p = valueProblem(name, value);
    if (p !== undefined) return p;
    let seen: boolean;
    switch (name) {
      case ':method':
        seen = method !== undefined;
        method = value;
        break;
      case ':scheme':
        seen = scheme;
        scheme = true;
        break;
      case ':path':
        seen = path;
        path = true;
        if (value === '') return 'an empty :path';
        break;
      case ':authority':
        seen = authority;
        authority = true;
        break;
      default:
        seen = protocol;
        protocol = true;
    }
    if (seen) return `pseudo-field ${name} twice in a request`;
  }
  if (method === undefined) return 'a request without :method';
  if (method === 'CONNECT' && !protocol) {
    if (scheme || path) return 'a CONNECT request with :scheme or :path';
    if (!authority) return 'a CONNECT request without :authority';
  } else if (!scheme || !path) {
    return `a request without ${scheme ? ':path' : ':scheme'}`;
  }
  return regularProblem(fields, i);
}

/** A response head: :status (three digits) and nothing else among pseudo-fields. */
export function responseProblem(fields: readonly string[]): string | undefined {
  if (fields[0] !== ':status') {
    return fields.length === 0 || fields[0]!.charCodeAt(0) !== 0x3a
      ? 'a response without :status'
      : `pseudo-field ${fields[0]} in a response`;
  }
  if (!/^[1-9][0-9][0-9]$/.test(fields[1]!))
    return `:status ${JSON.stringify(fields[1])} is not a three-digit code`;
  return regularProblem(fields, 2);
}

/** Trailers: regular fields only. */
export function trailersProblem(fields: readonly string[]): string | undefined {
  return regularProblem(fields, 0);
}

/** The value of the first field named `name` in a flat list, or undefined. */
export function fieldValue(fields: readonly string[], name: string): string | undefined {
  for (let i = 0; i < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}
