// What routing sees of an HTTP/1 request on the raw-socket engine: the shape of node:http's
// IncomingMessage that route() reads (method, url, httpVersion, rawHeaders, headers), so both
// engines serve the same callers. The header object is built only when a caller reads it (the
// inbound policy, tap, access logs, forwarded headers); plain forwarding never does.
import type { IncomingHttpHeaders } from 'node:http';
import { addProtoField, PROTO_FIELD } from '../headers.js';
import type { Http1RequestView } from '../request-context.js';
import type { RequestHead } from './head-parser.js';

// Headers whose repeats node:http drops (the first wins); set-cookie becomes an array, cookie
// pairs are joined with "; ", every other repeat with ", " (IncomingMessage's rules, so callers
// see the same object).
const FIRST_WINS = new Set([
  'age',
  'authorization',
  'content-length',
  'content-type',
  'etag',
  'expires',
  'from',
  'host',
  'if-modified-since',
  'if-unmodified-since',
  'last-modified',
  'location',
  'max-forwards',
  'proxy-authorization',
  'referer',
  'retry-after',
  'server',
  'user-agent',
]);

/** A header object with node:http's rules from a flat [name, value, …] list. */
export function headersObject(raw: readonly string[]): IncomingHttpHeaders {
  const out: Record<string, string | string[]> = {};
  for (let i = 0; i < raw.length; i += 2) {
    const k = (raw[i] as string).toLowerCase();
    const v = raw[i + 1] as string;
    if (k === PROTO_FIELD) {
      addProtoField(out, v, ', ');
      continue;
    }
    const cur = out[k];
    if (cur === undefined) out[k] = k === 'set-cookie' ? [v] : v;
    else if (k === 'set-cookie') (cur as string[]).push(v);
    // RFC 9110 §5.3 does not apply to Cookie: its pairs are joined with "; " (RFC 6265 §5.4),
    // as node:http joins them.
    else if (k === 'cookie') out[k] = `${cur as string}; ${v}`;
    else if (!FIRST_WINS.has(k)) out[k] = `${cur as string}, ${v}`;
  }
  return out as IncomingHttpHeaders;
}

export class RawRequestView implements Http1RequestView {
  #headers: IncomingHttpHeaders | undefined;
  readonly rawHeaders: string[];
  readonly host: string | undefined;

  constructor(private readonly head: RequestHead) {
    this.rawHeaders = head.headers as string[];
    this.host = head.fields.host;
  }

  get method(): string {
    return this.head.method;
  }

  get url(): string {
    return this.head.target;
  }

  get httpVersion(): string {
    return this.head.version;
  }

  get headers(): IncomingHttpHeaders {
    return (this.#headers ??= headersObject(this.head.headers));
  }
}
