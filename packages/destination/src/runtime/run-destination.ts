// tsmesh-destination: the binary. Parses flags, creates the logger and registry (the only place
// that does), watches the Kubernetes API and serves until SIGINT/SIGTERM. Exit codes: 0 after a
// clean stop, 1 when start-up fails, 2 for bad flags (naming the flag).
import {
  createKubeApiClient,
  createKubeObjectSource,
  runControllerMain,
  startAdminServer,
  untilAborted,
  type Logger,
  loadKubeConfig,
} from '@tsmesh/kube';
import type { Registry } from 'prom-client';
import { startDestinationService } from '../server/index.js';
import { secretRemoteClusterDiscovery } from '../watchers/index.js';
import { createServiceProfileValidator } from '../webhook/index.js';
import { parseDestinationConfig, PROGRAM, type DestinationConfig } from './destination-config.js';

export function runDestination(argv: readonly string[]): Promise<number> {
  return runControllerMain<DestinationConfig>({
    program: PROGRAM,
    parse: () => parseDestinationConfig(argv),
    logLevel: (config) => config.logLevel,
    serve: (config, { logger, registry, signal }) =>
      config.mode === 'sp-validator'
        ? serveValidator(config, logger, registry, signal)
        : serveDestination(config, logger, registry, signal),
  });
}

async function serveDestination(
  config: DestinationConfig,
  logger: Logger,
  registry: Registry,
  signal: AbortSignal,
) {
  const client = createKubeApiClient(loadKubeConfig(config.kubeconfig));
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
