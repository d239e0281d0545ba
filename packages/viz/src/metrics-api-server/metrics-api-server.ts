// The in-cluster metrics API (the metrics-api Deployment of `tsmesh viz install`): the dashboard's
// JSON API (the same handlers, createDashboardApi) on its own HTTP port over a source — in a
// cluster a Prometheus server — and an admin port answering /live and /ready for the kubelet's
// probes, as linkerd-viz's metrics-api serves its admin endpoints apart from its API.
//   GET /api/stat, /api/edges, /api/authz, /api/meta  (as the dashboard's API)
//   GET /api/routes?resource=deploy/web[&namespace=ns]  per-route stats within a resource
// A bad query is a 400 with {error, hint}; a failing Prometheus a 502; the server keeps serving.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { silentLogger, type Logger } from '@tsmesh/kube';
import { createDashboardApi } from '../dashboard/dashboard-api.js';
import type { DashboardSource } from '../dashboard/dashboard-source.js';
import { createStatHistory } from '../dashboard/stat-history.js';
import { listenHttp } from '../http-listener/index.js';

export interface MetricsApiServerOptions {
  readonly source: DashboardSource;
  /** The API listener (default 127.0.0.1, port 0). */
  readonly address?: string;
  readonly port?: number;
  /** The admin listener with /live and /ready (default the API address, port 0). */
  readonly adminAddress?: string;
  readonly adminPort?: number;
  readonly logger?: Logger;
  readonly signal?: AbortSignal;
}

export interface MetricsApiServer {
  /** e.g. http://127.0.0.1:8085/ */
  readonly url: string;
  /** e.g. http://127.0.0.1:9995/ */
  readonly adminUrl: string;
  close(): Promise<void>;
}

const send = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
};

export interface AdminServer {
  /** e.g. http://127.0.0.1:9995/ */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * The admin port of the in-cluster viz servers: `/live` and `/ready` answer 200 `ok` while the
 * process serves (the kubelet's probes), anything else 404.
 */
export async function startAdminServer(options: {
  readonly address?: string;
  readonly port?: number;
}): Promise<AdminServer> {
  const { url, close } = await listenHttp(
    options.address ?? '127.0.0.1',
    options.port ?? 0,
    '--admin-addr',
    (req, res) => {
      const path = new URL(req.url ?? '/', 'http://admin').pathname;
      if (path === '/live' || path === '/ready') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        return res.end('ok\n');
      }
      send(res, 404, { error: `no admin endpoint ${path}`, hint: 'the admin port serves /live and /ready' });
    },
  );
  return { url, close };
}

/** /api/routes?resource=R → /api/stat?resource=route&within=R (the same query rules). */
function routesAsStat(url: URL): URL {
  const stat = new URL(url.href);
  stat.pathname = '/api/stat';
  const within = url.searchParams.get('resource');
  stat.searchParams.set('resource', 'route');
  if (within) stat.searchParams.set('within', within);
  else stat.searchParams.delete('within');
  return stat;
}

export async function startMetricsApiServer(options: MetricsApiServerOptions): Promise<MetricsApiServer> {
  const logger = options.logger ?? silentLogger;
  const address = options.address ?? '127.0.0.1';
  const api = createDashboardApi(options.source, createStatHistory(), { tapAvailable: false });

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'GET') return send(res, 405, { error: `method ${req.method} is not allowed` });
    let url = new URL(req.url ?? '/', 'http://metrics-api');
    if (url.pathname === '/api/routes') {
      if (!url.searchParams.get('resource'))
        return send(res, 400, {
          error: 'routes needs a resource',
          hint: 'e.g. /api/routes?resource=deploy/web&namespace=emojivoto',
        });
      url = routesAsStat(url);
    }
    const answer = url.pathname.startsWith('/api/') ? await api.answer(url) : undefined;
    if (!answer)
      return send(res, 404, {
        error: `no API at ${url.pathname}`,
        hint: 'the API: /api/stat, /api/routes, /api/edges, /api/authz, /api/meta',
      });
    if (answer.status >= 500)
      logger.warn({ url: req.url, status: answer.status, body: answer.body }, 'metrics-api query failed');
    send(res, answer.status, answer.body);
  };

  const apiListener = await listenHttp(address, options.port ?? 0, '--addr', (req, res) => {
    handle(req, res).catch((e: unknown) => {
      logger.error({ err: (e as Error).message, url: req.url }, 'metrics-api request failed');
      if (!res.headersSent) send(res, 500, { error: (e as Error).message });
      else res.destroy();
    });
  });
  let adminListener: AdminServer;
  try {
    adminListener = await startAdminServer({
      address: options.adminAddress ?? address,
      port: options.adminPort ?? 0,
    });
  } catch (e) {
    await apiListener.close();
    throw e;
  }

  const onAbort = () => void close();
  let closed: Promise<void> | undefined;
  const close = () =>
    (closed ??= (async () => {
      options.signal?.removeEventListener('abort', onAbort);
      await Promise.all([apiListener.close(), adminListener.close()]);
    })());
  if (options.signal?.aborted) await close();
  else options.signal?.addEventListener('abort', onAbort, { once: true });
  logger.info({ url: apiListener.url, admin: adminListener.url }, 'metrics-api listening');
  return { url: apiListener.url, adminUrl: adminListener.url, close };
}
