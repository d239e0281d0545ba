// The admin endpoints every tsmesh controller serves: /metrics (Prometheus text from the
// component's own registry), /ready (503 until the component is ready, naming what is missing),
// /live. Bound to 127.0.0.1 unless told otherwise: it is for the kubelet's probes and a local
// scraper, not for the network.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MeshError, MeshErrorCode } from '@tsmesh/core';
import type { Registry } from 'prom-client';
import { silentLogger, type Logger } from '../logging/index.js';

/** Linkerd's control-plane admin port. */
export const DEFAULT_ADMIN_PORT = 9990;

export interface AdminServerOptions {
  registry: Registry;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 9990; 0 for a free port. */
  port?: number;
  /**
   * Readiness as a function. Without it, readiness is what `setReady()` last said (initially
   * false). Either way every readiness check must also pass.
   */
  isReady?: () => boolean;
  /** Named conditions that must all hold for /ready (e.g. `{ 'servers-synced': () => cache.synced }`). */
  readinessChecks?: Record<string, () => boolean>;
  /** /live answers 503 when this returns false. Default: always live. */
  isLive?: () => boolean;
  logger?: Logger;
}

export interface AdminServer {
  readonly host: string;
  readonly port: number;
  readonly server: Server;
  /** Marks the component ready (or not). */
  setReady(ready: boolean): void;
  addReadinessCheck(name: string, check: () => boolean): void;
  /** Current readiness and the names of failing checks. */
  readiness(): { ready: boolean; failing: string[] };
  close(): Promise<void>;
}

export async function startAdminServer(options: AdminServerOptions): Promise<AdminServer> {
  const logger = options.logger ?? silentLogger;
  const checks = new Map(Object.entries(options.readinessChecks ?? {}));
  let manualReady = false;

  const readiness = () => {
    const failing: string[] = [];
    const base = options.isReady ? safe(options.isReady) : manualReady;
    if (!base) failing.push(options.isReady ? 'component' : 'not marked ready');
    for (const [name, check] of checks) if (!safe(check)) failing.push(name);
    return { ready: failing.length === 0, failing };
  };

  function safe(check: () => boolean): boolean {
    try {
      return check() === true;
    } catch (err) {
      logger.warn({ err: String(err) }, 'readiness check threw');
      return false;
    }
  }

  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://admin').pathname;
    const text = (status: number, body: string, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return text(405, `${req.method} not allowed\n`, { allow: 'GET, HEAD' });
    switch (path) {
      case '/live':
        return options.isLive && !safe(options.isLive) ? text(503, 'not live\n') : text(200, 'live\n');
      case '/ready': {
        const { ready, failing } = readiness();
        return ready ? text(200, 'ready\n') : text(503, `not ready: ${failing.join(', ')}\n`);
      }
      case '/metrics':
        options.registry.metrics().then(
          (body) => text(200, body, { 'content-type': options.registry.contentType }),
          (err: unknown) => {
            logger.error({ err: String(err) }, 'collecting metrics failed');
            text(500, `collecting metrics failed: ${String(err)}\n`);
          },
        );
        return;
      default:
        return text(404, `not found: ${path} (serving /metrics, /ready, /live)\n`);
    }
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) =>
      reject(
        new MeshError(MeshErrorCode.Config, `admin server cannot listen: ${err.message}`, {
          where: `${host}:${options.port ?? DEFAULT_ADMIN_PORT}`,
          cause: err,
        }),
      ),
    );
    server.listen(options.port ?? DEFAULT_ADMIN_PORT, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  logger.info({ host: address.address, port: address.port }, 'admin server listening');
  return {
    host: address.address,
    port: address.port,
    server,
    setReady(ready) {
      manualReady = ready;
    },
    addReadinessCheck(name, check) {
      checks.set(name, check);
    },
    readiness,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
