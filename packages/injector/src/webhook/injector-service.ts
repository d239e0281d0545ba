// The injector as a running service: the HTTPS admission webhook (path /, as Linkerd's
// configuration points at it, and /inject) over @tsmesh/kube's webhook server, namespaces read
// from the API, events recorded, and the admin server (/metrics, /ready, /live) on 9995.
import { MeshError, MeshErrorCode } from '@tsmesh/core';
import {
  CoreKinds,
  createAdmissionWebhookServer,
  isNotFound,
  silentLogger,
  startAdminServer,
  type AdminServer,
  type KubeApiClient,
  type Logger,
  type ResourceKind,
} from '@tsmesh/kube';
import { Registry } from 'prom-client';
import type { InjectorConfig } from '../config/index.js';
import type { NamespaceLike } from '../inject/index.js';
import { createInjectorHandler, type InjectorEvent } from './injector-webhook.js';

/** Linkerd's proxy-injector ports. */
export const INJECTOR_WEBHOOK_PORT = 8443;
export const INJECTOR_ADMIN_PORT = 9995;

const EventKind: ResourceKind = {
  group: '',
  version: 'v1',
  kind: 'Event',
  plural: 'events',
  namespaced: true,
  servedVersions: ['v1'],
};

export interface InjectorServiceOptions {
  config: InjectorConfig;
  /** Serving certificate and key (PEM files, reloaded when they change). */
  certFile: string;
  keyFile: string;
  /** Webhook address; default 127.0.0.1:8443 (the binary listens on all interfaces). */
  host?: string;
  port?: number;
  /** Admin address; default 127.0.0.1:9995. */
  adminHost?: string;
  adminPort?: number;
  /** Reads namespaces and records events. Without it namespaces have no annotations. */
  client?: KubeApiClient;
  /** Record Injected/InjectionSkipped events (default true when a client is given). */
  recordEvents?: boolean;
  registry?: Registry;
  logger?: Logger;
  /** Stops the service when aborted. */
  signal?: AbortSignal;
}

export interface InjectorService {
  readonly webhook: { host: string; port: number };
  readonly admin: AdminServer;
  readonly registry: Registry;
  close(): Promise<void>;
}

export async function startInjectorService(options: InjectorServiceOptions): Promise<InjectorService> {
  const logger = options.logger ?? silentLogger;
  const registry = options.registry ?? new Registry();
  const client = options.client;
  const getNamespace = async (name: string, signal: AbortSignal): Promise<NamespaceLike | undefined> => {
    if (!client) return undefined;
    try {
      return (await client.get(CoreKinds.Namespace, { name }, { signal })) as NamespaceLike;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  };
  const recordEvent =
    client && (options.recordEvents ?? true)
      ? (event: InjectorEvent) => {
          const now = new Date().toISOString();
          client
            .create(EventKind, {
              apiVersion: 'v1',
              kind: 'Event',
              metadata: { generateName: `${event.involvedObject.name}.`, namespace: event.namespace },
              involvedObject: event.involvedObject,
              reason: event.reason,
              message: event.message,
              type: event.type,
              source: { component: 'linkerd-proxy-injector' },
              firstTimestamp: now,
              lastTimestamp: now,
              count: 1,
            })
            .catch((err: unknown) =>
              logger.warn({ err: String(err), reason: event.reason }, 'could not record an event'),
            );
        }
      : undefined;
  const handler = createInjectorHandler({
    config: options.config,
    getNamespace,
    registry,
    logger,
    recordEvent,
  });
  const server = createAdmissionWebhookServer({
    certFile: options.certFile,
    keyFile: options.keyFile,
    host: options.host,
    port: options.port ?? INJECTOR_WEBHOOK_PORT,
    handlers: { '/': handler, '/inject': handler },
    registry,
    logger,
  });
  const webhook = await server.start();
  let admin: AdminServer;
  try {
    admin = await startAdminServer({
      registry,
      host: options.adminHost,
      port: options.adminPort ?? INJECTOR_ADMIN_PORT,
      logger,
    });
  } catch (err) {
    await server.close();
    throw err;
  }
  admin.setReady(true);
  let closed: Promise<void> | undefined;
  const close = () =>
    (closed ??= (async () => {
      options.signal?.removeEventListener('abort', onAbort);
      await Promise.all([server.close(), admin.close()]);
    })());
  const onAbort = () => void close();
  if (options.signal?.aborted) {
    await close();
    throw new MeshError(MeshErrorCode.Aborted, 'injector service aborted while starting');
  }
  options.signal?.addEventListener('abort', onAbort, { once: true });
  logger.info(
    { webhook: `${webhook.host}:${webhook.port}`, admin: `${admin.host}:${admin.port}` },
    'proxy injector ready',
  );
  return { webhook, admin, registry, close };
}
