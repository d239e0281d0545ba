// `tsmesh viz dashboard`'s server: the built web app and its JSON API on one HTTP port, bound to
// 127.0.0.1 unless told otherwise. Every interval the source refreshes (local mode scrapes the
// proxies) and one point per workload is recorded for the charts. Requests whose Host header is
// not this server's own loopback name are refused (DNS rebinding), as linkerd-viz's web server
// enforces its host. Tap and top streams are served by an embedder-given handler when there is one.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { silentLogger, sleep, type Logger } from '@tsmesh/kube';
import { listenHttp, type HttpListener } from '../http-listener/index.js';
import { statSummary } from '../metrics-api/stat-summary.js';
import { createDashboardApi } from './dashboard-api.js';
import type { DashboardSource } from './dashboard-source.js';
import { createStatHistory } from './stat-history.js';
import { defaultWebDir, readStatic } from './static-files.js';

export type TapHandler = (req: IncomingMessage, res: ServerResponse) => void;

export interface DashboardServerOptions {
  readonly source: DashboardSource;
  /** Default 127.0.0.1. */
  readonly address?: string;
  /** Default 0 (any free port). */
  readonly port?: number;
  /** How often the source refreshes and the charts get a point (default 2 s). */
  readonly intervalMs?: number;
  /** The built app (default: the package's dist/web). */
  readonly webDir?: string;
  /** Serves /api/tap and /api/top (the tap service's HTTP handler). */
  readonly tap?: TapHandler;
  /** Extra Host names accepted besides the loopback ones and the bound address. */
  readonly allowedHosts?: readonly string[];
  /**
   * When set, the Host header (name and optional port) must match it, whatever the bound address
   * (linkerd-viz web's -enforced-host: in a cluster the server binds 0.0.0.0 and still refuses
   * DNS-rebinding hosts). Replaces the loopback/allowedHosts check.
   */
  readonly enforcedHost?: RegExp;
  readonly logger?: Logger;
  readonly signal?: AbortSignal;
}

export interface DashboardServer {
  /** e.g. http://127.0.0.1:50750/ */
  readonly url: string;
  close(): Promise<void>;
}

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];
const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'content-security-policy':
    "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
};

function hostName(host: string | undefined): string {
  if (!host) return '';
  return host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : (host.split(':')[0] ?? '');
}

export async function startDashboardServer(options: DashboardServerOptions): Promise<DashboardServer> {
  const logger = options.logger ?? silentLogger;
  const address = options.address ?? '127.0.0.1';
  const intervalMs = options.intervalMs ?? 2_000;
  const webDir = options.webDir ?? defaultWebDir();
  const { source } = options;
  const history = createStatHistory();
  const api = createDashboardApi(source, history, { tapAvailable: options.tap !== undefined });
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });

  const allowed = new Set([...LOOPBACK_NAMES, address, `[${address}]`, ...(options.allowedHosts ?? [])]);
  // Bound to every address: the operator chose to expose it, any Host is accepted.
  const checkHost = address !== '0.0.0.0' && address !== '::';

  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, {
      ...SECURITY_HEADERS,
      'content-type': 'application/json',
      'cache-control': 'no-store',
    });
    res.end(JSON.stringify(body));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    if (options.enforcedHost && !options.enforcedHost.test(req.headers.host ?? ''))
      return send(res, 403, {
        error: `host ${JSON.stringify(req.headers.host ?? '')} is not allowed`,
        hint: `the dashboard accepts hosts matching ${String(options.enforcedHost)} (--enforced-host)`,
      });
    if (!options.enforcedHost && checkHost && !allowed.has(hostName(req.headers.host).toLowerCase()))
      return send(res, 403, {
        error: `host ${JSON.stringify(req.headers.host ?? '')} is not allowed`,
        hint: `open the dashboard at http://${address}:PORT/ (or pass --allowed-host)`,
      });
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return send(res, 405, { error: `method ${req.method} is not allowed` });
    const url = new URL(req.url ?? '/', 'http://dashboard');
    if (url.pathname === '/api/tap' || url.pathname === '/api/top') {
      if (!options.tap)
        return send(res, 501, {
          error: 'tap is not available from this dashboard',
          hint: 'the tap service is not configured',
        });
      return options.tap(req, res);
    }
    if (url.pathname.startsWith('/api/')) {
      const answer = await api.answer(url);
      return answer
        ? send(res, answer.status, answer.body)
        : send(res, 404, { error: `no API at ${url.pathname}` });
    }
    if (!webDir)
      return send(res, 503, {
        error: 'the web app is not built',
        hint: 'run `pnpm exec nx run @tsmesh/viz:build`',
      });
    const file = await readStatic(webDir, url.pathname);
    if (!file) return send(res, 404, { error: `no file ${url.pathname}` });
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': file.contentType,
      'content-length': file.body.length,
      'cache-control': file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
    });
    res.end(req.method === 'HEAD' ? undefined : file.body);
  };

  let listener: HttpListener;
  try {
    listener = await listenHttp(address, options.port ?? 0, '--address/--port', (req, res) => {
      handle(req, res).catch((e: unknown) => {
        logger.error({ err: (e as Error).message, url: req.url }, 'dashboard request failed');
        if (!res.headersSent) send(res, 500, { error: (e as Error).message });
        else res.destroy();
      });
    });
  } catch (e) {
    options.signal?.removeEventListener('abort', onAbort);
    throw e;
  }

  // The refresh loop: source, then one chart point per workload.
  const loop = (async () => {
    while (!stop.signal.aborted) {
      try {
        await source.refresh(stop.signal);
        const vectors = source.vectors();
        if (vectors)
          history.record(
            Date.now(),
            await statSummary(vectors, { resource: { type: 'deployment' }, allNamespaces: true }),
          );
      } catch (e) {
        if (!stop.signal.aborted) logger.warn({ err: (e as Error).message }, 'dashboard refresh failed');
      }
      await sleep(intervalMs, stop.signal);
    }
  })();

  let closed: Promise<void> | undefined;
  const close = () =>
    (closed ??= (async () => {
      stop.abort();
      options.signal?.removeEventListener('abort', onAbort);
      await loop;
      await listener.close();
    })());
  stop.signal.addEventListener('abort', () => void close(), { once: true });
  logger.info({ url: listener.url }, 'dashboard listening');
  return { url: listener.url, close };
}
