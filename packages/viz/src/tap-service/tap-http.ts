// The tap service over HTTP (see the package README): `GET /api/tap?…` streams tap events as
// server-sent events (`event: tap`, data = one JSON event), `GET /api/top?…` streams the top
// table once a second. The caller is authenticated by the embedding server's function (request
// headers set by the Kubernetes aggregator, or local mode's bearer token) and authorized per
// request (SubjectAccessReview, or local). Errors before streaming are JSON `{error}` with a status.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { MeshError, MeshErrorCode } from '@tsmesh/core';
import { tokenMatches, type TapAuthorizer, type TapCaller } from './tap-authorizer.js';
import { parseTapQuery, type TapQuery } from './tap-query.js';
import type { TapService } from './tap-service.js';
import { createTopTable, topRowsJson } from './top-table.js';

export type TapAuthenticator = (req: IncomingMessage) => TapCaller | undefined;

export interface TapHttpOptions {
  /** Only its tap() is used: the tap service itself, or a client of one (createKubeApiTapService). */
  readonly service: Pick<TapService, 'tap'>;
  readonly authenticate: TapAuthenticator;
  readonly authorize: TapAuthorizer;
  /** Keep-alive comment interval; default 15 s. */
  readonly keepAliveMs?: number;
  /** Top snapshot interval; default 1 s. */
  readonly topIntervalMs?: number;
}

const STATUS: Partial<Record<string, number>> = {
  [MeshErrorCode.InvalidArgument]: 400,
  [MeshErrorCode.Unauthenticated]: 401,
  [MeshErrorCode.PermissionDenied]: 403,
  [MeshErrorCode.NotFound]: 404,
};

function sendError(res: ServerResponse, err: unknown): void {
  const e = err instanceof MeshError ? err : new MeshError(MeshErrorCode.Internal, String(err));
  const status = STATUS[e.code] ?? 503;
  if (res.headersSent) {
    res.write(`event: error\ndata: ${JSON.stringify({ error: e.message })}\n\n`);
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ error: e.message, ...(e.hint ? { hint: e.hint } : {}) }));
}

/** Local mode: the bearer token from the state directory is the only credential. */
export function bearerTokenAuthenticator(token: string, user = 'local-operator'): TapAuthenticator {
  return (req) => {
    const header = req.headers.authorization ?? '';
    const presented = header.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
    return tokenMatches(token, presented) ? { user, groups: ['system:authenticated'] } : undefined;
  };
}

/**
 * Behind the Kubernetes aggregator (APIService): the user and groups it sends in the
 * request-header authentication headers. Only trust this on a listener whose TLS verified the
 * aggregator's client certificate (the requestheader client CA).
 */
export function requestHeaderAuthenticator(
  userHeader = 'x-remote-user',
  groupHeader = 'x-remote-group',
): TapAuthenticator {
  return (req) => {
    const user = req.headers[userHeader];
    if (typeof user !== 'string' || user === '') return undefined;
    const g = req.headers[groupHeader];
    const groups = (Array.isArray(g) ? g : g ? [g] : []).flatMap((x) => x.split(',')).map((x) => x.trim());
    return { user, groups };
  };
}

/** The aggregated API's tap path prefix (APIService v1alpha1.tap.linkerd.io). */
export const TAP_API_PREFIX = '/apis/tap.linkerd.io/v1alpha1/watch/namespaces/';

/**
 * `/apis/tap.linkerd.io/v1alpha1/watch/namespaces/NS/tap` (the namespace) or
 * `…/namespaces/NS/TYPES/NAME/tap`, as linkerd-viz's tap API routes them: the resource and
 * namespace come from the path (what the Kubernetes API authorized the caller to reach), the
 * filters from the query string.
 */
function apiPathResource(pathname: string): { resource: string; namespace: string } | undefined {
  if (!pathname.startsWith(TAP_API_PREFIX) || !pathname.endsWith('/tap')) return undefined;
  const parts = pathname.slice(TAP_API_PREFIX.length, -'/tap'.length).split('/').map(decodeURIComponent);
  if (parts.length === 1 && parts[0]) return { resource: `ns/${parts[0]}`, namespace: parts[0] };
  if (parts.length === 3 && parts.every((x) => x !== ''))
    return { resource: `${parts[1]}/${parts[2]}`, namespace: parts[0]! };
  return undefined;
}

function queryOf(url: URL): TapQuery {
  const p = url.searchParams;
  const fromPath = apiPathResource(url.pathname);
  const get = (k: string) =>
    fromPath && (k === 'resource' || k === 'namespace') ? fromPath[k] : (p.get(k) ?? undefined);
  const resource = get('resource');
  if (!resource)
    throw new MeshError(MeshErrorCode.InvalidArgument, 'resource is required', {
      where: 'query',
      hint: 'e.g. ?resource=deploy/web&namespace=emojivoto',
    });
  return parseTapQuery({
    resource,
    ...Object.fromEntries(
      (
        [
          'namespace',
          'toResource',
          'toNamespace',
          'method',
          'path',
          'authority',
          'scheme',
          'maxRps',
          'extract',
        ] as const
      )
        .map((k) => [k, get(k)])
        .filter(([, v]) => v !== undefined),
    ),
  });
}

/**
 * A request handler for `/api/tap`, `/api/top` and the aggregated API's tap paths (streamed as
 * `/api/tap`); answers false (without touching the response) for any other path, so an embedding
 * server can route the rest itself.
 */
export function createTapHttpHandler(
  o: TapHttpOptions,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://tap.invalid');
    const isApi = url.pathname.startsWith(TAP_API_PREFIX) && url.pathname.endsWith('/tap');
    if (url.pathname !== '/api/tap' && url.pathname !== '/api/top' && !isApi) return false;
    void serve(url, req, res).catch((err: unknown) => sendError(res, err));
    return true;
  };

  async function serve(url: URL, req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'GET')
      throw new MeshError(MeshErrorCode.InvalidArgument, `${req.method} is not supported`, {
        where: url.pathname,
        hint: 'use GET',
      });
    const query = queryOf(url);
    const caller = o.authenticate(req);
    if (!caller)
      throw new MeshError(MeshErrorCode.Unauthenticated, 'no valid credentials', {
        where: url.pathname,
        hint: 'call the tap API through the Kubernetes API (kubectl/tsmesh viz tap), or the dashboard',
      });
    const abort = new AbortController();
    const stop = () => abort.abort();
    res.once('close', stop);
    const decision = await o.authorize(caller, query.resource, abort.signal);
    if (!decision.allowed)
      throw new MeshError(MeshErrorCode.PermissionDenied, `tap authorization failed: ${decision.reason}`, {
        where: url.pathname,
      });
    const stream = await o.service.tap(query, abort.signal);
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    res.flushHeaders();
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), o.keepAliveMs ?? 15_000);
    const top = url.pathname === '/api/top' ? createTopTable() : undefined;
    const topTimer = top
      ? setInterval(
          () => res.write(`event: top\ndata: ${JSON.stringify({ rows: topRowsJson(top.rows()) })}\n\n`),
          o.topIntervalMs ?? 1000,
        )
      : undefined;
    try {
      for await (const item of stream) {
        if (item.kind === 'error') {
          res.write(`event: error\ndata: ${JSON.stringify({ error: item.error.message })}\n\n`);
        } else if (top) top.insert(item.event);
        else res.write(`event: tap\ndata: ${JSON.stringify(item.event)}\n\n`);
      }
    } finally {
      clearInterval(keepAlive);
      if (topTimer) clearInterval(topTimer);
      res.off('close', stop);
      abort.abort();
      res.end();
    }
  }
}
