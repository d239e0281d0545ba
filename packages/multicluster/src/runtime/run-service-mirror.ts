// tsmesh-service-mirror: the binary. Parses flags, creates the logger and registry (the only place
// that does), runs one ServiceMirror for the named Link with the admin server, and stops on
// SIGINT/SIGTERM. Exit codes: 0 after a clean stop, 1 when start-up fails, 2 for bad flags.
import { KubeConfig } from '@kubernetes/client-node';
import { MeshError } from '@tsmesh/core';
import { createJsonLogger, createKubeApiClient, startAdminServer } from '@tsmesh/kube';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { ServiceMirror } from '../mirror/index.js';
import { parseServiceMirrorConfig, PROGRAM } from './service-mirror-config.js';

export async function runServiceMirror(argv: readonly string[]): Promise<number> {
  let config;
  try {
    config = parseServiceMirrorConfig(argv);
  } catch (err) {
    process.stderr.write(`${PROGRAM}: ${MeshError.is(err) ? err.describe() : String(err)}\n`);
    return 2;
  }
  if ('help' in config) {
    process.stdout.write(config.help);
    return 0;
  }
  const logger = createJsonLogger(config.logLevel);
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const stop = new AbortController();
  const onSignal = (signal: string) => {
    logger.info({ signal }, 'shutting down');
    stop.abort();
  };
  process.once('SIGINT', () => onSignal('SIGINT'));
  process.once('SIGTERM', () => onSignal('SIGTERM'));
  try {
    const kubeConfig = new KubeConfig();
    if (config.kubeconfig) kubeConfig.loadFromFile(config.kubeconfig);
    else kubeConfig.loadFromDefault();
    const local = createKubeApiClient(kubeConfig, { fieldManager: 'linkerd-service-mirror' });
    const mirror = new ServiceMirror({
      local,
      linkNamespace: config.namespace,
      linkName: config.linkName,
      probeGateway: config.probeGateway,
      repairPeriodMs: config.repairPeriodMs,
      registry,
      logger,
    });
    const admin = await startAdminServer({
      registry,
      host: config.adminHost,
      port: config.adminPort,
      isReady: () => mirror.phase === 'mirroring',
      logger,
    });
    logger.info(
      { link: `${config.namespace}/${config.linkName}`, adminPort: admin.port },
      'service mirror started',
    );
    try {
      await mirror.run(stop.signal);
    } finally {
      await admin.close();
      local.close();
    }
    return 0;
  } catch (err) {
    const message = MeshError.is(err) ? err.describe() : err instanceof Error ? err.message : String(err);
    logger.error({ error: message }, 'could not start');
    process.stderr.write(`${PROGRAM}: ${message}\n`);
    return 1;
  }
}
