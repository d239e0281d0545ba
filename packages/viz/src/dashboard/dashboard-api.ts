// The dashboard's JSON API over the metrics API. Every answer is computed from the source's
// latest window (no scrape per request):
//   GET /api/meta                          mode, window, scrape problems
//   GET /api/stat?resource=deployment[&namespace=ns][&within=deploy/web][&to=…|&from=…]
//   GET /api/edges[?namespace=ns][&resource=deployment]
//   GET /api/authz[?namespace=ns][&deployment=web]
//   GET /api/series?namespace=ns&deployment=web   points for the charts
// A bad query is a 400 with {error, hint}; a source not ready yet answers 200 with `warming: true`
// and empty rows, so the page shows "collecting" instead of an error.
import { MeshError, MeshErrorCode } from '@tsmesh/core';
import { edgesOf } from '../metrics-api/edges.js';
import { parseResource, type Resource } from '../metrics-api/resource.js';
import { statSummary, type StatQuery } from '../metrics-api/stat-summary.js';
import { authzSummary } from './authz-summary.js';
import type { DashboardSource } from './dashboard-source.js';
import type { StatHistory } from './stat-history.js';

export interface ApiAnswer {
  readonly status: number;
  readonly body: unknown;
}

export interface DashboardApi {
  /** Answers a /api/… path and query, or undefined for a path it does not know. */
  answer(url: URL): Promise<ApiAnswer | undefined>;
}

const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/i;

function param(url: URL, key: string): string | undefined {
  const v = url.searchParams.get(key);
  if (v === null || v === '') return undefined;
  if (key !== 'within' && key !== 'to' && key !== 'from' && key !== 'resource' && !NAME.test(v))
    throw new MeshError(MeshErrorCode.InvalidArgument, `bad ${key} ${JSON.stringify(v)}`, {
      where: url.pathname,
      hint: 'names are Kubernetes names: letters, digits, - and .',
    });
  return v;
}

const withNs = (r: Resource, ns: string | undefined) => (ns ? { ...r, namespace: ns } : r);

function statQueryOf(url: URL): StatQuery {
  const resource = parseResource(param(url, 'resource') ?? 'deployment');
  const namespace = param(url, 'namespace');
  const within = param(url, 'within');
  const to = param(url, 'to');
  const from = param(url, 'from');
  if (to && from)
    throw new MeshError(MeshErrorCode.InvalidArgument, 'to and from cannot be used together', {
      where: url.pathname,
    });
  return {
    resource,
    ...(namespace ? { namespace } : { allNamespaces: true }),
    ...(within ? { within: parseResource(within) } : {}),
    ...(to ? { to: withNs(parseResource(to), namespace) } : {}),
    ...(from ? { from: withNs(parseResource(from), namespace) } : {}),
  };
}

export function createDashboardApi(
  source: DashboardSource,
  history: StatHistory,
  extra: { tapAvailable: boolean },
): DashboardApi {
  const meta = () => ({
    mode: source.mode,
    windowSeconds: source.windowSeconds,
    problems: source.problems(),
    tap: extra.tapAvailable,
  });
  return {
    async answer(url) {
      try {
        if (url.pathname === '/api/meta') return { status: 200, body: meta() };
        if (url.pathname === '/api/series') {
          const namespace = param(url, 'namespace') ?? '';
          const deployment = param(url, 'deployment') ?? '';
          return { status: 200, body: { points: history.series(namespace, deployment) } };
        }
        const known = ['/api/stat', '/api/edges', '/api/authz'];
        if (!known.includes(url.pathname)) return undefined;
        // Validate the query before looking at the source, so a bad one is a 400 even early on.
        const query = url.pathname === '/api/stat' ? statQueryOf(url) : undefined;
        const namespace = param(url, 'namespace');
        const vectors = source.vectors();
        if (!vectors) return { status: 200, body: { warming: true, rows: [] } };
        switch (url.pathname) {
          case '/api/stat':
            return { status: 200, body: { rows: await statSummary(vectors, query!) } };
          case '/api/edges': {
            const type = parseResource(param(url, 'resource') ?? 'deployment').type;
            return {
              status: 200,
              body: { rows: await edgesOf(vectors, { type, ...(namespace ? { namespace } : {}) }) },
            };
          }
          default: {
            const deployment = param(url, 'deployment');
            return {
              status: 200,
              body: {
                rows: await authzSummary(vectors, {
                  ...(namespace ? { namespace } : {}),
                  ...(deployment ? { deployment } : {}),
                }),
              },
            };
          }
        }
      } catch (e) {
        if (e instanceof MeshError && e.code === MeshErrorCode.InvalidArgument)
          return { status: 400, body: { error: e.message, hint: e.hint ?? '' } };
        // The metrics backend failed (Prometheus down, …): say so, keep serving.
        return { status: 502, body: { error: (e as Error).message } };
      }
    },
  };
}
