// What a matched rule's filters do to a request: RequestHeaderModifier (set, add, remove — in the
// proxy API's order: add, then set, then remove) and RequestRedirect (Gateway API semantics).
import type { HeaderModifier, HttpRouteMatch, RequestRedirect } from './model.js';
import type { HeaderValue } from './route-match.js';

/** Returns a new header map (names lower-cased) with the modifier applied. */
export function applyHeaderModifier(
  headers: Readonly<Record<string, HeaderValue>>,
  modifier: HeaderModifier,
): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue;
    const name = k.toLowerCase();
    (out[name] ??= []).push(...(typeof v === 'string' ? [v] : v));
  }
  for (const { name, value } of modifier.add) (out[name.toLowerCase()] ??= []).push(value);
  for (const { name, value } of modifier.set) out[name.toLowerCase()] = [value];
  for (const name of modifier.remove) delete out[name.toLowerCase()];
  return out;
}

export interface RedirectResponse {
  readonly statusCode: 301 | 302;
  readonly location: string;
}

/**
 * The redirect a RequestRedirect filter answers with. Unset fields keep the request's scheme, host
 * and path; the port is dropped when it is the scheme's default. `ReplacePrefixMatch` replaces the
 * part of the path the rule's PathPrefix matched.
 */
export function redirectFor(
  redirect: RequestRedirect,
  request: { readonly scheme?: 'http' | 'https'; readonly host?: string; readonly path: string },
  match: HttpRouteMatch | undefined,
): RedirectResponse {
  const scheme = redirect.scheme ?? request.scheme ?? 'http';
  const q = request.path.indexOf('?');
  const path = q < 0 ? request.path : request.path.slice(0, q);
  const query = q < 0 ? '' : request.path.slice(q);
  const requestHost = request.host ?? '';
  const [hostOnly, hostPort] = splitHost(requestHost);
  const host = redirect.hostname ?? hostOnly;
  let port = redirect.port ?? (redirect.scheme !== undefined ? undefined : hostPort);
  if ((scheme === 'http' && port === 80) || (scheme === 'https' && port === 443)) port = undefined;
  let newPath = path;
  if (redirect.path?.type === 'ReplaceFullPath') newPath = redirect.path.value;
  else if (redirect.path?.type === 'ReplacePrefixMatch' && match?.path.type === 'PathPrefix') {
    const prefix =
      match.path.value.length > 1 && match.path.value.endsWith('/')
        ? match.path.value.slice(0, -1)
        : match.path.value;
    const rest = prefix === '/' ? path.slice(1) : path.slice(prefix.length).replace(/^\//, '');
    const replacement = redirect.path.value;
    newPath = rest === '' ? replacement : `${replacement.replace(/\/$/, '')}/${rest}`;
  }
  const authority = port === undefined ? host : `${host}:${port}`;
  return { statusCode: redirect.statusCode, location: `${scheme}://${authority}${newPath}${query}` };
}

function splitHost(host: string): [string, number | undefined] {
  const m = /^(\[[^\]]*\]|[^:]*)(?::(\d+))?$/.exec(host);
  if (!m) return [host, undefined];
  return [m[1] ?? host, m[2] === undefined ? undefined : Number(m[2])];
}
