// Small protobuf → domain conversions shared by the outbound route compilers.
import type { HttpRouteMatch, StringMatch } from '@tsmesh/core/data-plane';

/**
 * A repeated field as an array. Decoded protobuf always has arrays; plain objects from elsewhere
 * (tests, JSON) may not, and a wrong shape must never crash route compilation.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const listOf = (value: unknown): any[] => (Array.isArray(value) ? value : []);

type DurationLike = { seconds?: unknown; nanos?: number | null } | null | undefined;

/** google.protobuf.Duration → milliseconds; undefined when absent, zero or negative. */
export function durationToMs(d: DurationLike): number | undefined {
  if (!d) return undefined;
  const ms = Number(d.seconds ?? 0) * 1000 + Math.round((d.nanos ?? 0) / 1e6);
  return ms > 0 ? ms : undefined;
}

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'CONNECT', 'HEAD', 'TRACE'];

/** http_types.HttpMethod → upper-case name. */
export function methodName(
  m: { registered?: number | null; unregistered?: string | null } | null | undefined,
): string | undefined {
  if (!m) return undefined;
  if (m.unregistered) return m.unregistered.toUpperCase();
  return METHODS[m.registered ?? 0];
}

const text = (b: Uint8Array | string | null | undefined) =>
  b === null || b === undefined ? '' : typeof b === 'string' ? b : Buffer.from(b).toString('utf8');

type ProtoNameValue = { name?: string | null; exact?: Uint8Array | string | null; regex?: string | null };

/** http_route.HeaderMatch / QueryParamMatch → the policy engine's StringMatch. */
export function toStringMatches(list: readonly ProtoNameValue[] | null | undefined): StringMatch[] {
  return listOf(list).map((h: ProtoNameValue): StringMatch =>
    h.regex !== undefined && h.regex !== null
      ? { type: 'RegularExpression', name: h.name ?? '', value: h.regex }
      : { type: 'Exact', name: h.name ?? '', value: text(h.exact) },
  );
}

export interface ProtoHttpRouteMatch {
  path?: { exact?: string | null; prefix?: string | null; regex?: string | null } | null;
  headers?: ProtoNameValue[] | null;
  queryParams?: ProtoNameValue[] | null;
  method?: { registered?: number | null; unregistered?: string | null } | null;
}

/** http_route.HttpRouteMatch → the policy engine's HttpRouteMatch (absent path = prefix `/`). */
export function toHttpRouteMatch(m: ProtoHttpRouteMatch): HttpRouteMatch {
  const p = m.path;
  const path: HttpRouteMatch['path'] =
    p?.exact !== undefined && p.exact !== null
      ? { type: 'Exact', value: p.exact }
      : p?.regex !== undefined && p.regex !== null
        ? { type: 'RegularExpression', value: p.regex }
        : { type: 'PathPrefix', value: p?.prefix || '/' };
  return {
    path,
    headers: toStringMatches(m.headers),
    queryParams: toStringMatches(m.queryParams),
    method: methodName(m.method),
  } as HttpRouteMatch;
}

/** `*.example.com` style hostnames from http_route.HostMatch. */
export function toHostnames(
  hosts:
    | readonly { exact?: string | null; suffix?: { reverseLabels?: string[] | null } | null }[]
    | null
    | undefined,
): string[] {
  return listOf(hosts).map(
    (h: { exact?: string | null; suffix?: { reverseLabels?: string[] | null } | null }) =>
      h.exact ? h.exact.toLowerCase() : `*.${[...listOf(h.suffix?.reverseLabels)].reverse().join('.')}`,
  );
}

export { text as bytesToText };
