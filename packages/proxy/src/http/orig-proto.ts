// Linkerd's HTTP/1-over-HTTP/2 upgrade (`l5d-orig-proto`). When discovery says an endpoint's
// proxy accepts HTTP/2 (protocol hint h2), the outbound proxy carries HTTP/1.x requests to it as
// HTTP/2 streams on one multiplexed connection and names the original version in
// `l5d-orig-proto` ("HTTP/1.1", "HTTP/1.0", with "; absolute-form" appended when the request
// target was absolute). The inbound proxy turns such a stream back into HTTP/1.x for the app and
// marks the response with the app's version, which the outbound proxy strips before answering
// its client in HTTP/1. Requests that become tunnels (Upgrade, e.g. WebSocket, and CONNECT) are
// never upgraded.
import type { OutgoingHttpHeaders } from 'node:http2';
import { addProtoField, connectionNamed, isHopByHop, PROTO_FIELD, setFields } from './headers.js';

export const L5D_ORIG_PROTO = 'l5d-orig-proto';

const ABSOLUTE_FORM = 'absolute-form';

/** The `l5d-orig-proto` value for an HTTP/1 request of this version and request target. */
export function origProtoValue(httpVersion: string, url: string): string {
  const version = httpVersion === '1.0' ? 'HTTP/1.0' : 'HTTP/1.1';
  return isAbsoluteForm(url) ? `${version}; ${ABSOLUTE_FORM}` : version;
}

export interface OrigProto {
  readonly version: 'HTTP/1.0' | 'HTTP/1.1';
  readonly absoluteForm: boolean;
}

/** A received `l5d-orig-proto` value; undefined when it names no HTTP/1 version. */
export function parseOrigProto(value: string | string[] | undefined): OrigProto | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined) return undefined;
  const version = v.startsWith('HTTP/1.1') ? 'HTTP/1.1' : v.startsWith('HTTP/1.0') ? 'HTTP/1.0' : undefined;
  if (version === undefined) return undefined;
  // As linkerd2-proxy reads it: the marker sits right after "HTTP/1.x; ".
  return { version, absoluteForm: v.slice(10, 10 + ABSOLUTE_FORM.length) === ABSOLUTE_FORM };
}

/** An HTTP/1 request target in absolute form (`http://host/path`) rather than origin form. */
const isAbsoluteForm = (url: string): boolean => url.length > 0 && url[0] !== '/' && url !== '*';

/**
 * Whether an HTTP/1 request may travel as an HTTP/2 stream: not CONNECT and not asking for a
 * protocol upgrade (those become byte tunnels after their head).
 */
export function canCarryOverHttp2(method: string | undefined, upgradeHeader: unknown): boolean {
  return method !== 'CONNECT' && upgradeHeader === undefined;
}

/** What an HTTP/1 request carried over HTTP/2 is made of. */
export interface CarriedRequest {
  readonly method: string;
  readonly url: string;
  readonly httpVersion: string;
  readonly rawHeaders: readonly string[];
  /** Lower-case names to drop. */
  readonly remove?: readonly string[] | undefined;
  readonly add?: Readonly<Record<string, string>> | undefined;
  /** :authority when the request has neither Host nor an absolute target (HTTP/1.0). */
  readonly defaultAuthority: string;
}

/**
 * The HTTP/2 request head for an HTTP/1 request carried over HTTP/2, as a flat field list
 * (`name, value, …`): pseudo-headers from the request line and Host (or the absolute target),
 * lower-case names, no connection-specific headers (HTTP/2 forbids them; transfer-encoding
 * included), and `l5d-orig-proto`.
 */
export function upgradedRequestFields(req: CarriedRequest): string[] {
  const { method, url, httpVersion, rawHeaders, remove, add } = req;
  let authority: string | undefined;
  let scheme = 'http';
  let path = url;
  if (isAbsoluteForm(url)) {
    try {
      const u = new URL(url);
      authority = u.host;
      path = `${u.pathname}${u.search}`;
      if (u.protocol === 'https:') scheme = 'https';
    } catch {
      // Not a URL: sent as is, the peer answers 400.
    }
  }
  const regular: string[] = [];
  const named = connectionNamed(rawHeaders);
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const lower = (rawHeaders[i] as string).toLowerCase();
    const value = rawHeaders[i + 1] as string;
    if (lower === 'host') {
      authority ??= value;
      continue;
    }
    if (isHopByHop(lower) || named?.has(lower) || remove?.includes(lower) || lower === L5D_ORIG_PROTO)
      continue;
    regular.push(lower, value);
  }
  // An added header replaces the request's own.
  if (add) setFields(regular, add);
  const fields = [
    ':method',
    method,
    ':scheme',
    scheme,
    ':path',
    path,
    ':authority',
    authority || req.defaultAuthority,
  ];
  for (let i = 0; i < regular.length; i++) fields.push(regular[i] as string);
  fields.push(L5D_ORIG_PROTO, origProtoValue(httpVersion, url));
  return fields;
}

/** upgradedRequestFields() as node:http2's header object (repeats as lists). */
export function upgradedRequestHeaders(req: CarriedRequest): OutgoingHttpHeaders {
  const fields = upgradedRequestFields(req);
  const out: OutgoingHttpHeaders = {};
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i] as string;
    const value = fields[i + 1] as string;
    if (name === PROTO_FIELD) {
      addProtoField(out, value);
      continue;
    }
    const prev = out[name];
    if (prev === undefined) out[name] = value;
    else if (Array.isArray(prev)) prev.push(value);
    else out[name] = [prev as string, value];
  }
  return out;
}
