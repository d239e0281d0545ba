// tsmesh-service-mirror: the binary. Parses flags, creates the logger and registry (the only place
// that does), runs the leader-elected ServiceMirror of the named Link with the admin server, and
// stops on SIGINT/SIGTERM. Exit codes: 0 after a clean stop, 1 when start-up fails, 2 for bad flags.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import {
  createKubeApiClient,
  runControllerMain,
  LeaderElector,
  startAdminServer,
  type KubeApiClient,
  type Logger,
  loadKubeConfig,
} from '@tsmesh/kube';
import type { Registry } from 'prom-client';
import { ServiceMirror } from '../mirror/index.js';
import { parseServiceMirrorConfig, PROGRAM, type ServiceMirrorConfig } from './service-mirror-config.js';

export function runServiceMirror(argv: readonly string[]): Promise<number> {
  return runControllerMain<ServiceMirrorConfig>({
    program: PROGRAM,
    parse: () => parseServiceMirrorConfig(argv),
    logLevel: (config) => config.logLevel,
    async serve(config, { logger, registry, signal }) {
      const local = createKubeApiClient(loadKubeConfig(config.kubeconfig), {
        fieldManager: 'linkerd-service-mirror',
      });
      try {
        await serveServiceMirror(config, { local, logger, registry, signal });
      } finally {
        local.close();
      }
    },
  });
}

export interface ServeServiceMirrorOptions {
  readonly local: KubeApiClient;
  readonly logger: Logger;
  readonly registry: Registry;
  readonly signal: AbortSignal;
  /** This replica's name in the Lease; default hostname plus a random suffix. */
  readonly identity?: string;
  /** Lease timings (tests shorten them); defaults as LeaderElector's. */
  readonly leaseDurationMs?: number;
  readonly renewDeadlineMs?: number;
  readonly retryPeriodMs?: number;
}

/**
 * The service mirror of one Link with its admin server, leader-elected (Lease
 * `service-mirror-write-<link>` in the Link's namespace, as Linkerd's): only the leader writes
 * mirrors; a replica that loses the Lease stops (mirrors stay) and the new leader carries on.
 * Ready: a standby replica, or the leader once it mirrors.
 */
export async function serveServiceMirror(
  config: ServiceMirrorConfig,
  o: ServeServiceMirrorOptions,
): Promise<void> {
  let current: ServiceMirror | undefined;
  const admin = await startAdminServer({
    registry: o.registry,
    host: config.adminHost,
    port: config.adminPort,
    isReady: () => current === undefined || current.phase === 'mirroring',
    logger: o.logger,
  });
  const elector = new LeaderElector({
    client: o.local,
    namespace: config.namespace,
    name: `service-mirror-write-${config.linkName}`,
    identity: o.identity ?? `${hostname()}-${randomBytes(4).toString('hex')}`,
    ...(o.leaseDurationMs ? { leaseDurationMs: o.leaseDurationMs } : {}),
    ...(o.renewDeadlineMs ? { renewDeadlineMs: o.renewDeadlineMs } : {}),
    ...(o.retryPeriodMs ? { retryPeriodMs: o.retryPeriodMs } : {}),
    logger: o.logger,
    registry: o.registry,
    onStartedLeading: async (leading) => {
      const mirror = new ServiceMirror({
        local: o.local,
        linkNamespace: config.namespace,
        linkName: config.linkName,
        probeGateway: config.probeGateway,
        repairPeriodMs: config.repairPeriodMs,
        registry: o.registry,
        logger: o.logger,
      });
      current = mirror;
      try {
        await mirror.run(leading);
      } finally {
        if (current === mirror) current = undefined;
      }
    },
  });
  o.logger.info(
    { link: `${config.namespace}/${config.linkName}`, adminPort: admin.port },
    'service mirror started',
  );
  try {
    await elector.run(o.signal);
  } finally {
    await admin.close();
  }
}
