// Request matching for HTTPRoute and GRPCRoute rules, and the Gateway API precedence between
// overlapping matches. Matches are compiled once; a request is prepared once per evaluation.
//
// HTTPRoute precedence (Gateway API HTTPRouteRule docs, also what linkerd2-proxy's RouteMatch
// ordering implements), continuing on ties:
//   1. hostname: an exact hostname match, then the longest wildcard match, then routes without hostnames;
//   2. path: Exact, then RegularExpression, then PathPrefix; within a kind, the most characters;
//   3. a method match; 4. the most header matches; 5. the most query parameter matches;
//   6. the oldest route by creation timestamp (routes without one last); 7. `namespace/name` alphabetically;
//   8. the first rule in the route, then the first match in the rule.
// GRPCRoute: hostname, then the most characters in the matched service, then in the method, then the
// most header matches, then the same route/rule/match order.
import type { GrpcRouteMatch, HttpRouteMatch, ResourceMeta, StringMatch } from './model.js';

export type HeaderValue = string | readonly string[] | undefined;

export interface HttpRequestInfo {
  readonly method?: string;
  /** Path with optional `?query`. For gRPC, `/package.Service/Method`. */
  readonly path: string;
  readonly headers?: Readonly<Record<string, HeaderValue>>;
  /** The Host header or :authority; a port suffix is ignored. */
  readonly host?: string;
}

/** A request prepared once per evaluation: path split from query, headers lower-cased lazily. */
export class PreparedRequest {
  readonly method: string;
  readonly path: string;
  readonly rawQuery: string;
  readonly host: string | undefined;
  private headerMap: Map<string, string[]> | undefined;
  private queryMap: Map<string, string> | undefined;

  // The request is kept and its headers read only when a match needs them: a caller may build them
  // on demand (an HTTP/1 engine that parses no header object per request).
  constructor(private readonly request: HttpRequestInfo) {
    this.method = (request.method ?? 'GET').toUpperCase();
    const q = request.path.indexOf('?');
    this.path = q < 0 ? request.path : request.path.slice(0, q);
    this.rawQuery = q < 0 ? '' : request.path.slice(q + 1);
    const host = request.host ?? headerOf(request.headers, 'host') ?? headerOf(request.headers, ':authority');
    this.host = host === undefined ? undefined : stripPort(host).toLowerCase();
  }

  /** All values of a header (name matched case-insensitively). */
  header(lowerName: string): readonly string[] | undefined {
    if (!this.headerMap) {
      const map = new Map<string, string[]>();
      const raw = this.request.headers;
      for (const key in raw) {
        const value = raw[key];
        if (value === undefined) continue;
        const name = key.toLowerCase();
        const list = map.get(name) ?? [];
        if (typeof value === 'string') list.push(value);
        else list.push(...value);
        map.set(name, list);
      }
      this.headerMap = map;
    }
    return this.headerMap.get(lowerName);
  }

  /** The first value of a query parameter (Gateway API: only the first is matched). */
  query(name: string): string | undefined {
    if (!this.queryMap) {
      const map = new Map<string, string>();
      if (this.rawQuery !== '') {
        for (const [k, v] of new URLSearchParams(this.rawQuery)) if (!map.has(k)) map.set(k, v);
      }
      this.queryMap = map;
    }
    return this.queryMap.get(name);
  }
}

function headerOf(
  headers: Readonly<Record<string, HeaderValue>> | undefined,
  lowerName: string,
): string | undefined {
  if (!headers) return undefined;
  for (const key in headers) {
    if (key.toLowerCase() !== lowerName) continue;
    const v = headers[key];
    return typeof v === 'string' ? v : v?.[0];
  }
  return undefined;
}

function stripPort(host: string): string {
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return end < 0 ? host : host.slice(1, end);
  }
  const colon = host.indexOf(':');
  return colon >= 0 && host.indexOf(':', colon + 1) < 0 ? host.slice(0, colon) : host;
}

/** Full-string regular expression, as Gateway API (RE2) and Linkerd use them. */
function anchored(pattern: string): RegExp {
  return new RegExp(`^(?:${pattern})$`);
}

// --- path ---

export const PathKindRank = { PathPrefix: 1, RegularExpression: 2, Exact: 3 } as const;

/** True when `prefix` matches `path` element-wise: `/foo` matches `/foo` and `/foo/bar`, not `/foobar`. */
export function pathPrefixMatches(prefix: string, path: string): boolean {
  const p = prefix.length > 1 && prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  if (p === '/') return path.startsWith('/');
  if (!path.startsWith(p)) return false;
  return path.length === p.length || path.charCodeAt(p.length) === 47; /* / */
}

type Test = (req: PreparedRequest) => boolean;

function compileStringMatches(matches: readonly StringMatch[], kind: 'header' | 'query'): Test[] {
  return matches.map((m) => {
    const name = kind === 'header' ? m.name.toLowerCase() : m.name;
    if (kind === 'query') {
      if (m.type === 'Exact') return (req) => req.query(name) === m.value;
      const re = anchored(m.value);
      return (req) => {
        const v = req.query(name);
        return v !== undefined && re.test(v);
      };
    }
    if (m.type === 'Exact') return (req) => req.header(name)?.includes(m.value) ?? false;
    const re = anchored(m.value);
    return (req) => req.header(name)?.some((v) => re.test(v)) ?? false;
  });
}

/** A compiled match: its static precedence rank (compared lexicographically, greater wins) and test. */
export interface CompiledMatch {
  readonly rank: readonly number[];
  readonly test: Test;
  /**
   * The first path segment every matching request has (`svc` for Exact `/svc/x` or PathPrefix
   * `/svc`), letting a route table skip matches that cannot apply; undefined when any path may match.
   */
  readonly firstSegment?: string;
}

/** The first segment of a path: `a` for `/a/b`, `` for `/`. */
export function firstPathSegment(path: string): string {
  const end = path.indexOf('/', 1);
  return end < 0 ? path.slice(1) : path.slice(1, end);
}

export function compileHttpMatch(match: HttpRouteMatch): CompiledMatch {
  const { type, value } = match.path;
  let pathTest: Test;
  if (type === 'Exact') pathTest = (req) => req.path === value;
  else if (type === 'PathPrefix') pathTest = (req) => pathPrefixMatches(value, req.path);
  else {
    const re = anchored(value);
    pathTest = (req) => re.test(req.path);
  }
  const method = match.method?.toUpperCase();
  const others = [
    ...compileStringMatches(match.headers, 'header'),
    ...compileStringMatches(match.queryParams, 'query'),
  ];
  const test: Test = (req) => {
    if (method !== undefined && req.method !== method) return false;
    if (!pathTest(req)) return false;
    for (let i = 0; i < others.length; i++) if (!(others[i] as Test)(req)) return false;
    return true;
  };
  return {
    rank: [
      PathKindRank[type],
      value.length,
      method === undefined ? 0 : 1,
      match.headers.length,
      match.queryParams.length,
    ],
    test,
    firstSegment:
      type === 'RegularExpression' ||
      !value.startsWith('/') ||
      (type === 'PathPrefix' && firstPathSegment(value) === '')
        ? undefined
        : firstPathSegment(value),
  };
}

/** Splits a gRPC request path `/pkg.Service/Method`. */
export function parseGrpcPath(path: string): { service: string; method: string } | undefined {
  const m = /^\/([^/]+)\/([^/]+)$/.exec(path);
  return m ? { service: m[1] as string, method: m[2] as string } : undefined;
}

export function compileGrpcMatch(match: GrpcRouteMatch): CompiledMatch {
  const headers = compileStringMatches(match.headers, 'header');
  const rpc = match.method;
  let rpcTest: (service: string, method: string) => boolean = () => true;
  if (rpc) {
    if (rpc.type === 'Exact') {
      rpcTest = (s, m) =>
        (rpc.service === undefined || rpc.service === s) && (rpc.method === undefined || rpc.method === m);
    } else {
      const sre = rpc.service === undefined ? undefined : anchored(rpc.service);
      const mre = rpc.method === undefined ? undefined : anchored(rpc.method);
      rpcTest = (s, m) => (sre === undefined || sre.test(s)) && (mre === undefined || mre.test(m));
    }
  }
  const test: Test = (req) => {
    const call = parseGrpcPath(req.path);
    if (!call || !rpcTest(call.service, call.method)) return false;
    for (let i = 0; i < headers.length; i++) if (!(headers[i] as Test)(req)) return false;
    return true;
  };
  return { rank: [rpc?.service?.length ?? 0, rpc?.method?.length ?? 0, match.headers.length], test };
}

// --- hostnames ---

/** Host precedence: [2, length] exact, [1, length] wildcard, [0, 0] route without hostnames; undefined: no match. */
export function hostRank(
  hostnames: readonly string[],
  host: string | undefined,
): readonly [number, number] | undefined {
  if (hostnames.length === 0) return [0, 0];
  if (host === undefined) return undefined;
  let best: [number, number] | undefined;
  for (const h of hostnames) {
    let rank: [number, number] | undefined;
    if (h.startsWith('*.')) {
      const suffix = h.slice(1);
      if (host.length > suffix.length && host.endsWith(suffix)) rank = [1, suffix.length];
    } else if (h === host) {
      rank = [2, h.length];
    }
    if (rank && (!best || compareRanks(rank, best) > 0)) best = rank;
  }
  return best;
}

export function compareRanks(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/** Route order for ties: oldest creation timestamp first (routes without one last), then `namespace/name`. */
export function compareRouteAge(a: ResourceMeta, b: ResourceMeta): number {
  const at = a.creationTimestampMs;
  const bt = b.creationTimestampMs;
  if (at !== undefined && bt !== undefined && at !== bt) return at - bt;
  if (at !== undefined && bt === undefined) return -1;
  if (at === undefined && bt !== undefined) return 1;
  const an = `${a.namespace}/${a.name}`;
  const bn = `${b.namespace}/${b.name}`;
  return an < bn ? -1 : an > bn ? 1 : 0;
}

// --- route tables ---

export interface RouteTableEntry<R> {
  readonly route: R;
  readonly routeOrder: number;
  readonly ruleIndex: number;
  readonly matchIndex: number;
  readonly match: CompiledMatch;
  /** Rank in precedence order across the whole table. */
  readonly position: number;
}

export interface RouteTableInput<R> {
  readonly route: R;
  readonly hostnames: readonly string[];
  /** Compiled matches per rule. */
  readonly rules: readonly (readonly CompiledMatch[])[];
}

export interface RouteTableHit<R> {
  readonly route: R;
  readonly ruleIndex: number;
  readonly matchIndex: number;
}

/**
 * All matches of all rules of all routes, pre-sorted by static precedence, so that finding the
 * winning match is a scan that stops at the first hit (when no route uses hostnames). Matches are
 * bucketed by the first path segment they require; a lookup walks the request's bucket and the
 * segment-agnostic matches merged in precedence order.
 * `routes` must already be in age order (see compareRouteAge).
 */
export class RouteTable<R> {
  private readonly entries: RouteTableEntry<R>[] = [];
  private readonly bySegment = new Map<string, RouteTableEntry<R>[]>();
  private readonly anySegment: RouteTableEntry<R>[] = [];
  private readonly hostnames: (readonly string[])[];
  private readonly usesHostnames: boolean;
  private readonly routeList: R[];

  constructor(routes: readonly RouteTableInput<R>[]) {
    this.routeList = routes.map((r) => r.route);
    this.hostnames = routes.map((r) => r.hostnames);
    this.usesHostnames = routes.some((r) => r.hostnames.length > 0);
    const entries: Omit<RouteTableEntry<R>, 'position'>[] = [];
    routes.forEach((r, routeOrder) =>
      r.rules.forEach((matches, ruleIndex) =>
        matches.forEach((match, matchIndex) =>
          entries.push({ route: r.route, routeOrder, ruleIndex, matchIndex, match }),
        ),
      ),
    );
    entries.sort(
      (a, b) =>
        compareRanks(b.match.rank, a.match.rank) ||
        a.routeOrder - b.routeOrder ||
        a.ruleIndex - b.ruleIndex ||
        a.matchIndex - b.matchIndex,
    );
    entries.forEach((e, position) => {
      const entry = { ...e, position };
      this.entries.push(entry);
      const segment = e.match.firstSegment;
      if (segment === undefined) this.anySegment.push(entry);
      else {
        const bucket = this.bySegment.get(segment);
        if (bucket) bucket.push(entry);
        else this.bySegment.set(segment, [entry]);
      }
    });
  }

  get size(): number {
    return this.entries.length;
  }

  /** The distinct routes, in the order they were given. */
  routes(): R[] {
    return this.routeList;
  }

  find(req: PreparedRequest): RouteTableHit<R> | undefined {
    const bucket = this.bySegment.get(firstPathSegment(req.path));
    const any = this.anySegment;
    const hostRanks = this.usesHostnames ? this.hostnames.map((h) => hostRank(h, req.host)) : undefined;
    let best: RouteTableEntry<R> | undefined;
    let bestHost: readonly number[] | undefined;
    let i = 0;
    let j = 0;
    const n = bucket ? bucket.length : 0;
    while (i < n || j < any.length) {
      // Merge the two lists in precedence (position) order.
      let e: RouteTableEntry<R>;
      const a = i < n ? (bucket as RouteTableEntry<R>[])[i] : undefined;
      const b = any[j];
      if (a !== undefined && (b === undefined || a.position < b.position)) {
        e = a;
        i++;
      } else {
        e = b as RouteTableEntry<R>;
        j++;
      }
      if (!hostRanks) {
        if (e.match.test(req)) return e;
        continue;
      }
      const h = hostRanks[e.routeOrder];
      if (h === undefined) continue;
      if (bestHost !== undefined && compareRanks(h, bestHost) <= 0) continue;
      if (!e.match.test(req)) continue;
      best = e;
      bestHost = h;
    }
    return best;
  }
}
