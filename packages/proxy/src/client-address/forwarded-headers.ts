// The real client address for HTTP apps behind the inbound proxy: `X-Forwarded-For` (the de-facto
// list, the client appended) and/or RFC 7239 `Forwarded: for=…` (IPv6 quoted and bracketed).
// TSMESH_PROXY_INBOUND_FORWARDED picks which: off | xff | forwarded | both (default xff).
import { isIPv6 } from 'node:net';

export type ForwardedMode = 'off' | 'xff' | 'forwarded' | 'both';

export const X_FORWARDED_FOR = 'x-forwarded-for';
export const FORWARDED = 'forwarded';

export function parseForwardedMode(value: string): ForwardedMode | undefined {
  const v = value.trim().toLowerCase();
  return v === 'off' || v === 'xff' || v === 'forwarded' || v === 'both' ? v : undefined;
}

const join = (existing: string | string[] | undefined, value: string) => {
  const prior = Array.isArray(existing) ? existing.join(', ') : existing;
  return prior ? `${prior}, ${value}` : value;
};

/** RFC 7239 §6: an IPv6 node is bracketed and the whole value quoted. */
export function forwardedFor(ip: string): string {
  return isIPv6(ip) ? `for="[${ip}]"` : `for=${ip}`;
}

/**
 * Headers to set on the request to the app, extending what the client already sent: `headers` is
 * the request's header object or a lookup by lower-case name (no header object needed).
 */
export function forwardedHeaders(
  mode: ForwardedMode,
  clientIp: string,
  headers:
    | Readonly<Record<string, string | string[] | undefined>>
    | ((lowerName: string) => string | string[] | undefined),
): Record<string, string> | undefined {
  if (mode === 'off' || clientIp === '') return undefined;
  const get = typeof headers === 'function' ? headers : (name: string) => headers[name];
  const out: Record<string, string> = {};
  if (mode === 'xff' || mode === 'both') out[X_FORWARDED_FOR] = join(get(X_FORWARDED_FOR), clientIp);
  if (mode === 'forwarded' || mode === 'both') out[FORWARDED] = join(get(FORWARDED), forwardedFor(clientIp));
  return out;
}
