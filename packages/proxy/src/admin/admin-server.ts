// The admin server (:4191), as linkerd2-proxy serves it (linkerd-compat.md §4.2): /metrics,
// /ready, /live, /shutdown (POST, loopback only, only when enabled), /proxy-log-level (GET/PUT,
// loopback only); anything else is 404.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import type { RecentErrors } from '../recent-errors/index.js';
import { bindListener, type ListenAddr } from '../transport/index.js';

export interface LogLevelControl {
  get(): string;
  /** Throws a MeshError on a bad filter. */
  set(filter: string): void;
}

export interface AdminOptions {
  readonly listenAddr: ListenAddr;
  readonly registry: Registry;
  isReady(): boolean;
  readonly shutdownEndpointEnabled: boolean;
  /** Called once by POST /shutdown. */
  onShutdown(): void;
  readonly logLevel: LogLevelControl;
  /** Served as JSON on /errors: recent errors the proxy produced, with their cause. */
  readonly recentErrors?: RecentErrors;
}

export interface AdminServer {
  readonly address: ListenAddr;
  close(): Promise<void>;
}

const MAX_LOG_FILTER_BYTES = 4096;

const isLoopback = (ip: string | undefined) =>
  ip !== undefined && (ip.startsWith('127.') || ip === '::1' || ip.startsWith('::ffff:127.'));

function text(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

export async function startAdmin(options: AdminOptions): Promise<AdminServer> {
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    const local = isLoopback(req.socket.remoteAddress);
    switch (path) {
      case '/metrics':
        void options.registry.metrics().then(
          (body) => {
            res.writeHead(200, { 'content-type': options.registry.contentType });
            res.end(body);
          },
          () => text(res, 500, 'metrics unavailable\n'),
        );
        return;
      case '/ready':
        return options.isReady() ? text(res, 200, 'ready\n') : text(res, 503, 'not ready\n');
      case '/live':
        return text(res, 200, 'live\n');
      case '/errors': {
        // tsmesh: every error the proxy produced lately, newest first, with its code and cause.
        if (!options.recentErrors) return text(res, 404, 'not found\n');
        const body = JSON.stringify({
          total: options.recentErrors.total,
          errors: options.recentErrors.list(),
        });
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
        return;
      }
      case '/shutdown':
        if (req.method !== 'POST') return text(res, 405, 'method not allowed\n');
        if (!local) return text(res, 403, 'shutdown is only allowed from localhost\n');
        if (!options.shutdownEndpointEnabled) return text(res, 404, 'shutdown endpoint is not enabled\n');
        text(res, 200, 'shutdown\n');
        options.onShutdown();
        return;
      case '/proxy-log-level': {
        if (!local) return text(res, 403, 'access to /proxy-log-level is only allowed from localhost\n');
        if (req.method === 'GET') return text(res, 200, `${options.logLevel.get()}\n`);
        if (req.method !== 'PUT') return text(res, 405, 'method not allowed\n');
        const chunks: Buffer[] = [];
        let size = 0;
        req.on('data', (c: Buffer) => {
          size += c.length;
          if (size <= MAX_LOG_FILTER_BYTES) chunks.push(c);
        });
        req.on('end', () => {
          if (size > MAX_LOG_FILTER_BYTES) return text(res, 413, 'log filter too long\n');
          try {
            options.logLevel.set(Buffer.concat(chunks).toString('utf8').trim());
            text(res, 204, '');
          } catch (err) {
            text(res, 400, `${err instanceof Error ? err.message : String(err)}\n`);
          }
        });
        return;
      }
      default:
        return text(res, 404, 'not found\n');
    }
  };
  const server: Server = createServer({ requestTimeout: 10_000 }, handle);
  const listener = await bindListener(options.listenAddr, (socket) => server.emit('connection', socket));
  return {
    address: listener.address,
    async close() {
      await listener.stopAccepting();
      listener.destroyConnections();
    },
  };
}
