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

/** Copies headers without hop-by-hop ones, nor any named in `Connection`. */
export function stripHopByHop(
  headers: IncomingHttpHeaders | OutgoingHttpHeaders,
): Record<string, string | string[]> {
  const named = new Set<string>();
  const conn = headers.connection;
  if (typeof conn === 'string') for (const n of conn.split(',')) named.add(n.trim().toLowerCase());
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined || HOP_BY_HOP.has(k) || named.has(k)) continue;
    out[k] = typeof v === 'number' ? String(v) : v;
  }
  return out;
}

/** The header Linkerd's inbound proxy sets to the verified client identity. */
export const L5D_CLIENT_ID = 'l5d-client-id';
/** The header a proxy sets on responses it generated itself because of an error. */
export const L5D_PROXY_ERROR = 'l5d-proxy-error';
