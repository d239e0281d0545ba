import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evaluate } from './evaluate.js';
import type { HttpRouteMatch } from './model.js';
import { httpRoute, indexOf, NS, pod, server } from './policy-fixtures.test-support.js';
import {
  compileGrpcMatch,
  compileHttpMatch,
  hostRank,
  parseGrpcPath,
  pathPrefixMatches,
  PreparedRequest,
} from './route-match.js';

const match = (m: Partial<HttpRouteMatch>): HttpRouteMatch => ({
  path: { type: 'PathPrefix', value: '/' },
  headers: [],
  queryParams: [],
  method: undefined,
  ...m,
});
const req = (
  path: string,
  extra: { method?: string; headers?: Record<string, string | string[]>; host?: string } = {},
) => new PreparedRequest({ path, ...extra });

describe('path matching', () => {
  it('PathPrefix matches whole path elements', () => {
    expect(pathPrefixMatches('/foo', '/foo')).toBe(true);
    expect(pathPrefixMatches('/foo', '/foo/bar')).toBe(true);
    expect(pathPrefixMatches('/foo/', '/foo/bar')).toBe(true);
    expect(pathPrefixMatches('/foo', '/foobar')).toBe(false);
    expect(pathPrefixMatches('/', '/anything')).toBe(true);
  });

  it('Exact ignores the query string; RegularExpression must match the whole path', () => {
    expect(compileHttpMatch(match({ path: { type: 'Exact', value: '/a' } })).test(req('/a?x=1'))).toBe(true);
    expect(compileHttpMatch(match({ path: { type: 'Exact', value: '/a' } })).test(req('/a/'))).toBe(false);
    const re = compileHttpMatch(match({ path: { type: 'RegularExpression', value: '/api/v[0-9]+' } }));
    expect(re.test(req('/api/v2'))).toBe(true);
    expect(re.test(req('/api/v2/x'))).toBe(false);
  });
});

describe('method, header and query matching', () => {
  it('method is exact and upper-case', () => {
    const m = compileHttpMatch(match({ method: 'POST' }));
    expect(m.test(req('/', { method: 'post' }))).toBe(true);
    expect(m.test(req('/', { method: 'GET' }))).toBe(false);
    expect(m.test(req('/'))).toBe(false); // no method means GET
  });

  it('header names are case-insensitive, values exact or regex; any value of a repeated header', () => {
    const m = compileHttpMatch(
      match({
        headers: [
          { type: 'Exact', name: 'X-Env', value: 'canary' },
          { type: 'RegularExpression', name: 'user-agent', value: 'curl/.*' },
        ],
      }),
    );
    expect(m.test(req('/', { headers: { 'x-env': 'canary', 'User-Agent': 'curl/8.0' } }))).toBe(true);
    expect(m.test(req('/', { headers: { 'x-env': ['prod', 'canary'], 'user-agent': 'curl/8' } }))).toBe(true);
    expect(m.test(req('/', { headers: { 'x-env': 'Canary', 'user-agent': 'curl/8' } }))).toBe(false);
    expect(m.test(req('/', { headers: { 'x-env': 'canary', 'user-agent': 'wget' } }))).toBe(false);
  });

  it('query params: exact or regex on the first value', () => {
    const m = compileHttpMatch(
      match({
        queryParams: [
          { type: 'Exact', name: 'v', value: '2' },
          { type: 'RegularExpression', name: 'id', value: '[0-9]+' },
        ],
      }),
    );
    expect(m.test(req('/?v=2&id=42'))).toBe(true);
    expect(m.test(req('/?v=1&v=2&id=42'))).toBe(false);
    expect(m.test(req('/?v=2&id=x'))).toBe(false);
    expect(m.test(req('/?V=2&id=1'))).toBe(false);
  });
});

describe('hostnames', () => {
  it('ranks exact above wildcard above none; the host port is ignored', () => {
    expect(hostRank([], undefined)).toEqual([0, 0]);
    expect(hostRank(['web.example.com'], 'web.example.com')).toEqual([2, 15]);
    expect(hostRank(['*.example.com'], 'web.example.com')).toEqual([1, 12]);
    expect(hostRank(['*.example.com'], 'example.com')).toBeUndefined();
    expect(hostRank(['web.example.com'], undefined)).toBeUndefined();
    expect(req('/', { host: 'Web.Example.com:8080' }).host).toBe('web.example.com');
    expect(req('/', { headers: { ':authority': '[::1]:80' } }).host).toBe('::1');
  });
});

describe('gRPC matching', () => {
  it('matches service and method exactly or by regex', () => {
    expect(parseGrpcPath('/emojivoto.v1.EmojiService/ListAll')).toEqual({
      service: 'emojivoto.v1.EmojiService',
      method: 'ListAll',
    });
    const exact = compileGrpcMatch({
      method: { type: 'Exact', service: 'emojivoto.v1.EmojiService', method: undefined },
      headers: [],
    });
    expect(exact.test(req('/emojivoto.v1.EmojiService/ListAll'))).toBe(true);
    expect(exact.test(req('/emojivoto.v1.VotingService/ListAll'))).toBe(false);
    const re = compileGrpcMatch({
      method: { type: 'RegularExpression', service: undefined, method: 'Vote.*' },
      headers: [],
    });
    expect(re.test(req('/emojivoto.v1.VotingService/VoteDoughnut'))).toBe(true);
    expect(re.test(req('/emojivoto.v1.VotingService/Results'))).toBe(false);
    expect(re.test(req('/not-grpc'))).toBe(false);
  });
});

// --- precedence: the engine against an independent reference implementation ---

const PATHS = ['/', '/a', '/a/b', '/a/b/c', '/b'];
const REGEXES = ['/a/.*', '/a/b', '/.*'];
const HEADERS = [
  { type: 'Exact', name: 'x-a', value: '1' },
  { type: 'Exact', name: 'x-b', value: '2' },
] as const;
const QUERY = [
  { type: 'Exact', name: 'q', value: '1' },
  { type: 'Exact', name: 'r', value: '2' },
] as const;

const arbMatch = fc.record({
  path: fc.oneof(
    fc.record({ type: fc.constant('Exact'), value: fc.constantFrom(...PATHS) }),
    fc.record({ type: fc.constant('PathPrefix'), value: fc.constantFrom(...PATHS) }),
    fc.record({ type: fc.constant('RegularExpression'), value: fc.constantFrom(...REGEXES) }),
  ),
  method: fc.option(fc.constantFrom('GET', 'POST'), { nil: undefined }),
  headers: fc.subarray([...HEADERS]),
  queryParams: fc.subarray([...QUERY]),
});
const arbRoute = fc.record({
  hostnames: fc.subarray(['web.example.com', '*.example.com']),
  created: fc.option(
    fc.constantFrom('2024-01-01T00:00:00Z', '2024-06-01T00:00:00Z', '2025-01-01T00:00:00Z'),
    { nil: undefined },
  ),
  rules: fc.array(fc.record({ matches: fc.array(arbMatch, { minLength: 1, maxLength: 3 }) }), {
    minLength: 1,
    maxLength: 3,
  }),
});
const arbRoutes = fc.uniqueArray(
  fc.record({ name: fc.constantFrom('r-a', 'r-b', 'r-c', 'r-d', 'r-e'), route: arbRoute }),
  {
    selector: (r) => r.name,
    minLength: 1,
    maxLength: 5,
  },
);
const arbRequest = fc.record({
  host: fc.constantFrom('web.example.com', 'api.example.com', 'other.test', undefined),
  path: fc.constantFrom('/', '/a', '/a/b', '/a/b/c', '/ab', '/b/x', '/c'),
  method: fc.constantFrom('GET', 'POST'),
  headers: fc.subarray(['x-a', 'x-b']),
  query: fc.subarray(['q', 'r']),
});

interface RouteShape {
  hostnames?: string[];
  created: string | undefined;
  rules: { matches: HttpRouteMatch[] }[];
}
type Gen = { name: string; route: RouteShape };

type Req = { path: string; method: string; headers: string[]; query: string[]; host?: string | undefined };

function referenceHostRank(hostnames: string[] | undefined, host: string | undefined): number[] | undefined {
  if (!hostnames || hostnames.length === 0) return [0, 0];
  const ranks = hostnames.flatMap((h) => {
    if (host === undefined) return [];
    if (h === host) return [[2, h.length]];
    if (h.startsWith('*.') && host.endsWith(h.slice(1)) && host.length > h.length - 1)
      return [[1, h.length - 1]];
    return [];
  });
  ranks.sort((a, b) => (b[0] as number) - (a[0] as number) || (b[1] as number) - (a[1] as number));
  return ranks[0];
}

function reference(routes: Gen[], r: Req) {
  const headerValues: Record<string, string> = { 'x-a': '1', 'x-b': '2' };
  const queryValues: Record<string, string> = { q: '1', r: '2' };
  const matches = (m: HttpRouteMatch) => {
    const p = m.path;
    const pathOk =
      p.type === 'Exact'
        ? r.path === p.value
        : p.type === 'PathPrefix'
          ? p.value === '/' || r.path === p.value || r.path.startsWith(`${p.value}/`)
          : new RegExp(`^(?:${p.value})$`).test(r.path);
    return (
      pathOk &&
      (m.method === undefined || m.method === r.method) &&
      m.headers.every((h) => r.headers.includes(h.name) && headerValues[h.name] === h.value) &&
      m.queryParams.every((q) => r.query.includes(q.name) && queryValues[q.name] === q.value)
    );
  };
  const kind = { Exact: 3, RegularExpression: 2, PathPrefix: 1 } as const;
  const candidates: { key: number[]; tie: (string | number)[]; name: string; rule: number; match: number }[] =
    [];
  for (const { name, route } of routes) {
    const host = referenceHostRank(route.hostnames, r.host);
    if (!host) continue;
    route.rules.forEach((rule, ri) =>
      rule.matches.forEach((m, mi) => {
        if (!matches(m)) return;
        candidates.push({
          key: [
            ...host,
            kind[m.path.type],
            m.path.value.length,
            m.method ? 1 : 0,
            m.headers.length,
            m.queryParams.length,
          ],
          tie: [route.created ? 0 : 1, route.created ? Date.parse(route.created) : 0, name, ri, mi],
          name,
          rule: ri,
          match: mi,
        });
      }),
    );
  }
  candidates.sort((a, b) => {
    for (let i = 0; i < a.key.length; i++)
      if (a.key[i] !== b.key[i]) return (b.key[i] as number) - (a.key[i] as number);
    for (let i = 0; i < a.tie.length; i++) {
      const x = a.tie[i] as string | number;
      const y = b.tie[i] as string | number;
      if (x !== y) return x < y ? -1 : 1;
    }
    return 0;
  });
  return candidates[0];
}

function manifests(routes: Gen[]) {
  return [
    pod('web-0', { app: 'web' }),
    server('web-http', { accessPolicy: 'all-unauthenticated' }),
    ...routes.map(({ name, route }) =>
      httpRoute(
        name,
        'web-http',
        route.rules.map((rule) => ({
          matches: rule.matches.map((m) => ({
            path: m.path,
            ...(m.method ? { method: m.method } : {}),
            headers: m.headers,
            queryParams: m.queryParams,
          })),
        })),
        {
          ...(route.created ? { created: route.created } : {}),
          ...(route.hostnames?.length ? { hostnames: route.hostnames } : {}),
        },
      ),
    ),
  ];
}

function decide(objects: unknown[], r: Req) {
  const headers: Record<string, string> = {};
  for (const h of r.headers) headers[h] = h === 'x-a' ? '1' : '2';
  const query = r.query.map((q) => `${q}=${q === 'q' ? '1' : '2'}`).join('&');
  return evaluate(
    {
      client: { ip: '198.18.0.9' },
      target: { namespace: NS, workload: 'web-0', port: 8080 },
      request: {
        method: r.method,
        path: query ? `${r.path}?${query}` : r.path,
        headers,
        ...(r.host ? { host: r.host } : {}),
      },
    },
    indexOf(objects),
  );
}

describe('Gateway API precedence (property)', () => {
  it('the engine picks the same (route, rule, match) as the reference ordering', () => {
    fc.assert(
      fc.property(arbRoutes, arbRequest, (routes, r) => {
        const expected = reference(routes as Gen[], r);
        const decision = decide(manifests(routes as Gen[]), r);
        if (!expected) {
          expect(decision.reason).toBe('route-not-found');
          expect(decision.httpStatus).toBe(404);
        } else {
          expect(decision.route).toMatchObject({
            kind: 'HTTPRoute',
            name: expected.name,
            ruleIndex: expected.rule,
            matchIndex: expected.match,
          });
        }
      }),
      { numRuns: 300 },
    );
  });

  it('the answer does not depend on the order of the manifests', () => {
    fc.assert(
      fc.property(arbRoutes, arbRequest, fc.func(fc.integer()), (routes, r, f) => {
        const objects = manifests(routes as Gen[]);
        const shuffled = [...objects].sort((a, b) => f(JSON.stringify(a)) - f(JSON.stringify(b)));
        expect(decide(shuffled, r).route).toEqual(decide(objects, r).route);
      }),
      { numRuns: 100 },
    );
  });

  it('an exact path beats any prefix, and a longer prefix beats a shorter one', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('/a', '/a/b', '/a/b/c'),
        fc.constantFrom('2024-01-01T00:00:00Z', undefined),
        (path, created) => {
          const routes: Gen[] = [
            {
              name: 'r-a',
              route: { created, rules: [{ matches: [match({ path: { type: 'PathPrefix', value: '/' } })] }] },
            },
            {
              name: 'r-b',
              route: {
                created: undefined,
                rules: [{ matches: [match({ path: { type: 'PathPrefix', value: '/a' } })] }],
              },
            },
            {
              name: 'r-c',
              route: {
                created: '2020-01-01T00:00:00Z',
                rules: [{ matches: [match({ path: { type: 'Exact', value: '/a/b' } })] }],
              },
            },
          ];
          const d = decide(manifests(routes), { path, method: 'GET', headers: [], query: [] });
          expect(d.route?.name).toBe(path === '/a/b' ? 'r-c' : 'r-b');
        },
      ),
    );
  });

  it('with equal matches the oldest route wins, then the name', () => {
    const same = { rules: [{ matches: [match({ path: { type: 'PathPrefix', value: '/a' } })] }] };
    const r = { path: '/a', method: 'GET', headers: [], query: [] };
    expect(
      decide(
        manifests([
          { name: 'r-a', route: { created: '2025-01-01T00:00:00Z', ...same } },
          { name: 'r-b', route: { created: '2024-01-01T00:00:00Z', ...same } },
        ]),
        r,
      ).route?.name,
    ).toBe('r-b');
    expect(
      decide(
        manifests([
          { name: 'r-b', route: { created: undefined, ...same } },
          { name: 'r-a', route: { created: undefined, ...same } },
        ]),
        r,
      ).route?.name,
    ).toBe('r-a');
    expect(
      decide(
        manifests([
          { name: 'r-a', route: { created: undefined, ...same } },
          { name: 'r-b', route: { created: '2030-01-01T00:00:00Z', ...same } },
        ]),
        r,
      ).route?.name,
    ).toBe('r-b');
  });

  it('hostnames take precedence over path: exact host, then wildcard, then none', () => {
    const objects = [
      pod('web-0', { app: 'web' }),
      server('web-http', { accessPolicy: 'all-unauthenticated' }),
      httpRoute('any', 'web-http', [{ matches: [{ path: { type: 'Exact', value: '/a' } }] }]),
      httpRoute('wild', 'web-http', [{}], { hostnames: ['*.example.com'] }),
      httpRoute('exact', 'web-http', [{}], { hostnames: ['web.example.com'] }),
    ];
    const at = (host: string | undefined) =>
      evaluate(
        {
          client: { ip: '198.18.0.1' },
          target: { namespace: NS, workload: 'web-0', port: 8080 },
          request: { path: '/a', ...(host ? { host } : {}) },
        },
        indexOf(objects),
      ).route?.name;
    expect(at('web.example.com')).toBe('exact');
    expect(at('api.example.com:8080')).toBe('wild');
    expect(at('other.test')).toBe('any');
    expect(at(undefined)).toBe('any');
  });
});
