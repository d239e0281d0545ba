// tsmesh-destination: the binary. Parses flags, creates the logger and registry (the only place
// that does), watches the Kubernetes API and serves until SIGINT/SIGTERM. Exit codes: 0 after a
// clean stop, 1 when start-up fails, 2 for bad flags (naming the flag).
import { KubeConfig } from '@kubernetes/client-node';
import { MeshError } from '@tsmesh/core';
import {
  createJsonLogger,
  createKubeApiClient,
  createKubeObjectSource,
  startAdminServer,
  type Logger,
} from '@tsmesh/kube';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { startDestinationService } from '../server/index.js';
import { secretRemoteClusterDiscovery } from '../watchers/index.js';
import { createServiceProfileValidator } from '../webhook/index.js';
import { parseDestinationConfig, PROGRAM, type DestinationConfig } from './destination-config.js';

export async function runDestination(argv: readonly string[]): Promise<number> {
  let config;
  try {
    config = parseDestinationConfig(argv);
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
    if (config.mode === 'sp-validator') await serveValidator(config, logger, registry, stop.signal);
    else await serveDestination(config, logger, registry, stop.signal);
    return 0;
  } catch (err) {
    const message = MeshError.is(err) ? err.describe() : err instanceof Error ? err.message : String(err);
    logger.error({ error: message }, 'could not start');
    process.stderr.write(`${PROGRAM}: ${message}\n`);
    return 1;
  }
}

function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

async function serveDestination(
  config: DestinationConfig,
  logger: Logger,
  registry: Registry,
  signal: AbortSignal,
) {
  const kubeConfig = new KubeConfig();
  if (config.kubeconfig) kubeConfig.loadFromFile(config.kubeconfig);
  else kubeConfig.loadFromDefault();
  const client = createKubeApiClient(kubeConfig);
  const source = createKubeObjectSource({ client, logger, registry });
  // Linked clusters' credentials (multicluster remote discovery) live in our own namespace, which
  // is all our RBAC lets us read Secrets in.
  const secrets = createKubeObjectSource({ client, logger, namespace: config.controllerNamespace });
  try {
    const service = await startDestinationService({
      source,
      host: config.host,
      port: config.port,
      adminHost: config.adminHost,
      adminPort: config.adminPort,
      clusterDomain: config.clusterDomain,
      trustDomain: config.trustDomain,
      controlPlaneNamespace: config.controllerNamespace,
      defaultOpaquePorts: config.defaultOpaquePorts,
      enableH2Upgrade: config.enableH2Upgrade,
      enableIpv6: config.enableIpv6,
      remoteDiscovery: secretRemoteClusterDiscovery({
        source: secrets,
        namespace: config.controllerNamespace,
        logger,
      }),
      logger,
      registry,
    });
    await untilAborted(signal);
    await service.close();
  } finally {
    await source.close();
    await secrets.close();
    client.close();
  }
}

async function serveValidator(
  config: DestinationConfig,
  logger: Logger,
  registry: Registry,
  signal: AbortSignal,
) {
  const webhook = createServiceProfileValidator({
    certFile: config.tlsCertFile,
    keyFile: config.tlsKeyFile,
    host: config.host,
    port: config.port,
    logger,
    registry,
  });
  await webhook.start();
  const admin = await startAdminServer({
    registry,
    host: config.adminHost,
    port: config.adminPort,
    isReady: () => true,
    logger,
  });
  try {
    await untilAborted(signal);
  } finally {
    await webhook.close();
    await admin.close();
  }
}
